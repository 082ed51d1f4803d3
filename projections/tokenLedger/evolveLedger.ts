import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { addReconciliation, appendRecent, type Reconciliation } from './reconciliation.ts';
import { borrowedAccount, emptyUsage, escrowAccount, lentAccount, TRADED_ACCOUNT, partyAccount, quotaAccount, reservedAccount, usedAccount, type LedgerState, type UsageTotals } from './ledgerState.ts';

type Posting = { from: string; to: string; amount: number };

function post(state: LedgerState, postings: readonly Posting[]): LedgerState {
  const balances = { ...state.balances };
  let count = state.postings;
  for (const { from, to, amount } of postings) {
    if (amount === 0) continue;
    balances[from] = (balances[from] ?? 0) - amount;
    balances[to] = (balances[to] ?? 0) + amount;
    count++;
  }
  return { ...state, balances, postings: count };
}

function addUsage(totals: UsageTotals | undefined, input: number, output: number, costUsd: number): UsageTotals {
  const t = totals ?? emptyUsage();
  return { calls: t.calls + 1, inputTokens: t.inputTokens + input, outputTokens: t.outputTokens + output, costUsd: t.costUsd + costUsd };
}

/** Folds one ledger event. Pure: the state it returns depends only on the state and the event. */
export function evolveLedger(state: LedgerState, event: RecordedEvent): LedgerState {
  const next = applyLedgerEvent(state, event.type, event.data);
  return { ...next, position: String(event.position) };
}

export function applyLedgerEvent(state: LedgerState, type: string, data: unknown): LedgerState {
  switch (type) {
    case 'budget.allocated': {
      const d = data as EventData<'budget.allocated'>;
      return post(state, [{ from: 'world', to: 'session', amount: d.amount }]);
    }
    case 'quota.assigned': {
      const d = data as EventData<'quota.assigned'>;
      return post(state, [{ from: 'session', to: quotaAccount(d.agentStream), amount: d.amount }]);
    }
    case 'tokens.reserved': {
      const d = data as EventData<'tokens.reserved'>;
      return {
        ...post(state, [{ from: quotaAccount(d.agentStream), to: reservedAccount(d.agentStream), amount: d.amount }]),
        reservations: { ...state.reservations, [d.requestId]: { agentStream: d.agentStream, amount: d.amount, model: d.model, turn: d.turn } },
      };
    }
    case 'tokens.settled': {
      const d = data as EventData<'tokens.settled'>;
      const actual = d.usage.inputTokens + d.usage.outputTokens;
      const covered = Math.min(actual, d.reserved);
      // Usage beyond the reservation comes out of the quota; an unused remainder goes back to it.
      const next = post(state, [
        { from: reservedAccount(d.agentStream), to: usedAccount(d.agentStream), amount: covered },
        { from: reservedAccount(d.agentStream), to: quotaAccount(d.agentStream), amount: d.reserved - covered },
        { from: quotaAccount(d.agentStream), to: usedAccount(d.agentStream), amount: actual - covered },
      ]);
      const { [d.requestId]: reservation, ...reservations } = state.reservations;
      // A turn's estimate is what its settled calls reserved (answered, or billed without an answer); calls that
      // failed unbilled were released and estimate nothing.
      const turnKey = reservation?.turn;
      const turn = turnKey === undefined ? undefined : (state.turns[turnKey] ?? { estimated: 0, actual: 0 });
      const turns = turnKey === undefined || !turn ? state.turns : { ...state.turns, [turnKey]: { ...turn, estimated: turn.estimated + d.reserved, actual: turn.actual + actual } };
      return {
        ...next, reservations, turns,
        usage: {
          total: addUsage(state.usage.total, d.usage.inputTokens, d.usage.outputTokens, d.costUsd),
          byAgent: { ...state.usage.byAgent, [d.agentStream]: addUsage(state.usage.byAgent[d.agentStream], d.usage.inputTokens, d.usage.outputTokens, d.costUsd) },
          byModel: { ...state.usage.byModel, [d.model]: addUsage(state.usage.byModel[d.model], d.usage.inputTokens, d.usage.outputTokens, d.costUsd) },
        },
      };
    }
    case 'tokens.released': {
      const d = data as EventData<'tokens.released'>;
      const { [d.requestId]: _released, ...reservations } = state.reservations;
      return { ...post(state, [{ from: reservedAccount(d.agentStream), to: quotaAccount(d.agentStream), amount: d.amount }]), reservations };
    }
    case 'tokens.refused':
      return { ...state, refusals: state.refusals + 1 };
    case 'tokens.lent': {
      const d = data as EventData<'tokens.lent'>;
      const key = `${d.from}->${d.to}`;
      return { ...post(state, [{ from: partyAccount(d.from), to: partyAccount(d.to), amount: d.amount }]), loans: { ...state.loans, [key]: (state.loans[key] ?? 0) + d.amount } };
    }
    case 'tokens.repaid': {
      const d = data as EventData<'tokens.repaid'>;
      const key = `${d.to}->${d.from}`;
      return { ...post(state, [{ from: partyAccount(d.from), to: partyAccount(d.to), amount: d.amount }]), loans: { ...state.loans, [key]: (state.loans[key] ?? 0) - d.amount } };
    }
    case 'tokens.loanClosed': {
      // No tokens move (they were used); the debt is no longer outstanding.
      const d = data as EventData<'tokens.loanClosed'>;
      const key = `${d.from}->${d.to}`;
      return { ...state, loans: { ...state.loans, [key]: (state.loans[key] ?? 0) - d.amount } };
    }
    case 'overdraft.recorded': {
      const d = data as EventData<'overdraft.recorded'>;
      return { ...state, overdrafts: { ...state.overdrafts, [d.agentStream]: (state.overdrafts[d.agentStream] ?? 0) + d.amount } };
    }
    case 'turn.budgeted': {
      const d = data as EventData<'turn.budgeted'>;
      const turn = state.turns[d.turn] ?? { estimated: 0, actual: 0 };
      const formula = d.estimated === undefined ? {} : { estimatedByFormula: d.estimated };
      return { ...state, priority: d.priority ?? state.priority ?? null, turns: { ...state.turns, [d.turn]: { ...turn, budgeted: d.amount, mode: d.mode, roles: d.roles, confidence: d.confidence, ...formula } } };
    }
    case 'offer.escrowed': {
      const d = data as EventData<'offer.escrowed'>;
      return post(state, [{ from: 'session', to: escrowAccount(d.offerId), amount: d.amount }]);
    }
    case 'offer.returned': {
      const d = data as EventData<'offer.returned'>;
      return post(state, [{ from: escrowAccount(d.offerId), to: 'session', amount: d.amount }]);
    }
    case 'tokens.sold': {
      const d = data as EventData<'tokens.sold'>;
      return post(state, [{ from: escrowAccount(d.offerId), to: TRADED_ACCOUNT, amount: d.amount }]);
    }
    case 'tokens.bought': {
      const d = data as EventData<'tokens.bought'>;
      return post(state, [{ from: TRADED_ACCOUNT, to: 'session', amount: d.amount }]);
    }
    case 'tokens.lentToSession': {
      const d = data as EventData<'tokens.lentToSession'>;
      return post(state, [{ from: 'session', to: lentAccount(d.toSession), amount: d.amount }]);
    }
    case 'tokens.borrowedFromSession': {
      const d = data as EventData<'tokens.borrowedFromSession'>;
      return post(state, [{ from: borrowedAccount(d.fromSession), to: 'session', amount: d.amount }]);
    }
    case 'tokens.repaidToSession': {
      const d = data as EventData<'tokens.repaidToSession'>;
      return post(state, [{ from: 'session', to: borrowedAccount(d.toSession), amount: d.amount }]);
    }
    case 'tokens.repaymentReceived': {
      const d = data as EventData<'tokens.repaymentReceived'>;
      return post(state, [{ from: lentAccount(d.fromSession), to: 'session', amount: d.amount }]);
    }
    case 'quota.returned': {
      const d = data as EventData<'quota.returned'>;
      return post(state, [{ from: quotaAccount(d.agentStream), to: 'session', amount: d.amount }]);
    }
    case 'budget.reconciled': {
      const d = data as EventData<'budget.reconciled'>;
      const reconciliation: Reconciliation = { turn: d.turn, estimated: d.estimated, actual: d.actual, errorPct: d.errorPct, ...(d.unsettled ? { unsettled: true as const } : {}) };
      // A reconciled turn is closed: its running estimate has been read (by the runtime, to write this event).
      const { [String(d.turn)]: _closed, ...turns } = state.turns;
      return { ...state, turns, reconciled: addReconciliation(state.reconciled, reconciliation), reconciliations: appendRecent(state.reconciliations, reconciliation) };
    }
    default:
      return state;
  }
}
