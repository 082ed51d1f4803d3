import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { available, balance, initialLedgerState, type LedgerState } from '../../projections/tokenLedger/ledgerState.ts';

const fold = (events: [string, Record<string, unknown>][]) => events.reduce<LedgerState>((state, [type, data]) => applyLedgerEvent(state, type, data), initialLedgerState);
const usage = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens });
const A = 'agent-s.analyst.0';
const B = 'agent-s.critic.0';

describe('token ledger (pure fold)', () => {
  it('allocates, assigns quota, reserves, settles and reconciles with double entries', () => {
    const settled = fold([
      ['budget.allocated', { amount: 1000, reason: 'session budget' }],
      ['quota.assigned', { agentStream: A, amount: 600 }],
      ['tokens.reserved', { requestId: 'r1', agentStream: A, amount: 300, model: 'gpt-4o', turn: 0 }],
      ['tokens.settled', { requestId: 'r1', agentStream: A, reserved: 300, usage: usage(120, 80), model: 'gpt-4o', costUsd: 0.0011 }],
    ]);
    // The open turn's running estimate is what the runtime reads to write its reconciliation.
    expect(settled.turns[0]).toEqual({ estimated: 300, actual: 200 });
    const state = applyLedgerEvent(settled, 'budget.reconciled', { turn: 0, estimated: 300, actual: 200, errorPct: -33.33 });
    expect(state.balances).toEqual({ world: -1000, session: 400, [`quota:${A}`]: 400, [`reserved:${A}`]: 0, [`used:${A}`]: 200 });
    // Once reconciled the turn is closed: it is in the aggregate and the recent list, no longer among the open turns.
    expect(state.turns).toEqual({});
    expect(state.reconciliations).toEqual([{ turn: 0, estimated: 300, actual: 200, errorPct: -33.33 }]);
    expect(state.reconciled).toEqual({ count: 1, estimated: 300, actual: 200, sumErrorPct: -33.33, sumAbsErrorPct: 33.33, meanErrorPct: -33.33, meanAbsErrorPct: 33.33, maxAbsErrorPct: 33.33 });
    expect(state.usage.byModel['gpt-4o']).toEqual({ calls: 1, inputTokens: 120, outputTokens: 80, costUsd: 0.0011 });
    expect(state.reservations).toEqual({});
    expect(ledgerViolations(state)).toEqual([]);

    // A turn with no call settled (every one refused) is listed but left out of the error: its 0 % is no estimate.
    // One reconciled before the flag was recorded is counted, as its checkpoints counted it.
    const refused = applyLedgerEvent(state, 'budget.reconciled', { turn: 1, estimated: 0, actual: 0, errorPct: 0, unsettled: true });
    expect(refused.reconciliations.at(-1)).toEqual({ turn: 1, estimated: 0, actual: 0, errorPct: 0, unsettled: true });
    expect(refused.reconciled).toEqual({ ...state.reconciled, unsettled: 1 });
    expect(applyLedgerEvent(state, 'budget.reconciled', { turn: 1, estimated: 0, actual: 0, errorPct: 0 }).reconciled).toMatchObject({ count: 2, meanErrorPct: -33.33 / 2 });
  });

  it('takes usage beyond the reservation from the quota, and only a recorded overdraft lets a quota go negative', () => {
    const base: [string, Record<string, unknown>][] = [
      ['budget.allocated', { amount: 100, reason: 'b' }],
      ['quota.assigned', { agentStream: A, amount: 100 }],
      ['tokens.reserved', { requestId: 'r1', agentStream: A, amount: 80, model: 'm', turn: 0 }],
    ];
    const settle: [string, Record<string, unknown>] = ['tokens.settled', { requestId: 'r1', agentStream: A, reserved: 80, usage: usage(90, 40), model: 'm', costUsd: 0 }];
    expect(ledgerViolations(fold([...base, settle]))).toEqual([`quota:${A} is -30 with only 0 of recorded overdraft`]);
    const lawful = fold([...base, ['overdraft.recorded', { agentStream: A, requestId: 'r1', amount: 30 }], settle]);
    expect(balance(lawful, `quota:${A}`)).toBe(-30);
    expect(ledgerViolations(lawful)).toEqual([]);
  });

  it('lends from the pool or another agent and tracks what is owed until it is repaid', () => {
    const state = fold([
      ['budget.allocated', { amount: 500, reason: 'b' }],
      ['quota.assigned', { agentStream: A, amount: 200 }],
      ['quota.assigned', { agentStream: B, amount: 200 }],
      ['tokens.lent', { from: A, to: B, amount: 150, reason: 'critic ran dry' }],
      ['tokens.lent', { from: 'session', to: B, amount: 50, reason: 'pool' }],
      ['tokens.repaid', { from: B, to: A, amount: 100 }],
    ]);
    expect(state.loans).toEqual({ [`${A}->${B}`]: 50, [`session->${B}`]: 50 });
    expect(available(state, A)).toEqual({ own: 150, pool: 50 });
    expect(ledgerViolations(state)).toEqual([]);
  });

  it('keeps its laws under any interleaving of concurrent agents that only spend what they reserved', () => {
    const agents = [A, B, 'agent-s.expert.0'];
    const step = fc.record({ agent: fc.integer({ min: 0, max: 2 }), op: fc.constantFrom('reserve', 'settle', 'release', 'lend'), amount: fc.integer({ min: 1, max: 400 }), used: fc.integer({ min: 0, max: 500 }) });
    fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      let state = fold([['budget.allocated', { amount: 2000, reason: 'b' }], ...agents.map((a): [string, Record<string, unknown>] => ['quota.assigned', { agentStream: a, amount: 500 }])]);
      let next = 0;
      const apply = (type: string, data: Record<string, unknown>) => { state = applyLedgerEvent(state, type, data); };
      for (const { agent, op, amount, used } of steps) {
        const agentStream = agents[agent]!;
        const open = Object.entries(state.reservations).find(([, r]) => r.agentStream === agentStream);
        // What the runtime does: reserve only what is available, record an overdraft before settling beyond it.
        if (op === 'reserve' && available(state, agentStream).own >= amount) apply('tokens.reserved', { requestId: `r${next++}`, agentStream, amount, model: 'm', turn: 0 });
        if (op === 'settle' && open) {
          const [requestId, r] = open;
          const quotaAfter = balance(state, `quota:${agentStream}`) + r.amount - used;
          const allowed = state.overdrafts[agentStream] ?? 0;
          if (quotaAfter < -allowed) apply('overdraft.recorded', { agentStream, requestId, amount: -quotaAfter - allowed });
          apply('tokens.settled', { requestId, agentStream, reserved: r.amount, usage: usage(used, 0), model: 'm', costUsd: 0 });
        }
        if (op === 'release' && open) apply('tokens.released', { requestId: open[0], agentStream, amount: open[1].amount, reason: 'failed' });
        if (op === 'lend') {
          const to = agents[(agent + 1) % agents.length]!;
          if (balance(state, `quota:${agentStream}`) >= amount) apply('tokens.lent', { from: agentStream, to, amount, reason: 'x' });
        }
        expect(ledgerViolations(state)).toEqual([]);
        expect(Object.values(state.balances).reduce((a, b) => a + b, 0)).toBe(0);
      }
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    }), { numRuns: 200 });
  });
});
