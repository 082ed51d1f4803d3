import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { available, balance, escrowAccount, initialLedgerState, quotaAccount, type LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventData } from '../events/catalogue.ts';
import { streamCategory, type EventToAppend } from '../events/envelope.ts';
import type { LanguageModel } from '../models/languageModel.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { mayHaveEvents, type EventStore, type StreamAppend } from '../store/eventStore.ts';
import { newestCheckpointAt } from './checkpoints.ts';
import type { IdSource } from './ids.ts';
import type { CheckpointData } from './stateAt.ts';
import { ledgerStream } from './sessionStreams.ts';

/** Recorded as every ledger event's `machineVersion`: the ledger is a projection the runtime writes, not a machine. */
export const LEDGER_VERSION = 'ledger@1';


interface LedgerHost {
  sessionId: string;
  state: LedgerState;
  revision: bigint;
}

/** A ledger while a group is staged: its events are written in the group's append, its state adopted after. */
interface StagedLedger {
  host: LedgerHost;
  state: LedgerState;
  events: EventToAppend[];
  /** The priority triage just assigned (recorded with the turn's budget, which follows it in the same write). */
  priority?: number;
}

export class LedgerViolationError extends Error {
  override readonly name = 'LedgerViolationError';
}

/**
 * Keeps each session's token ledger in the same writes as the facts it accounts for: the budget when a session
 * starts, an agent's quota when it is assigned, a reservation before every model call (refused when neither the
 * agent's quota nor the session pool can cover it, so concurrent agents cannot overspend), settlement or release
 * when the call's outcome is recorded, and reconciliation when a turn ends. Every staged posting is checked
 * against the ledger's laws before anything is written.
 */
export class LedgerKeeper {
  private readonly hosts = new Map<string, LedgerHost>();
  private readonly store: EventStore;
  private readonly ids: IdSource;
  private readonly models: (spec: string) => LanguageModel;

  /** The climate factor set recorded as in force for each session that starts here. */
  readonly factorSet: { id: string; sha256: string };

  constructor(options: { store: EventStore; ids: IdSource; models: (spec: string) => LanguageModel; factorSet: { id: string; sha256: string } }) {
    this.factorSet = options.factorSet;
    this.store = options.store;
    this.ids = options.ids;
    this.models = options.models;
  }

  begin(recordedAt: string): LedgerStage {
    return new LedgerStage(this, recordedAt);
  }

  async host(sessionId: string): Promise<LedgerHost> {
    let host = this.hosts.get(sessionId);
    if (host) return host;
    let state = initialLedgerState;
    let revision = -1n;
    const streamId = ledgerStream(sessionId);
    try {
      if (await mayHaveEvents(this.store, streamId)) {
        // From the session's newest checkpoint, when it covers the ledger: a long session's postings are not refolded.
        const checkpoint = await newestCheckpointAt(this.store, sessionId, undefined, ['ledger']);
        const folded = checkpoint && await this.foldFrom(streamId, checkpoint);
        if (folded) ({ state, revision } = folded);
        else {
          for await (const event of this.store.readStream(streamId)) {
            state = applyLedgerEvent(state, event.type, event.data);
            revision = event.revision;
          }
        }
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    host = this.hosts.get(sessionId) ?? { sessionId, state, revision };
    this.hosts.set(sessionId, host);
    return host;
  }

  /**
   * The checkpoint's ledger folded on through the stream's later events; undefined when it does not cover the ledger
   * or the stream does not hold the covered event where the checkpoint says (then the whole stream is folded).
   */
  private async foldFrom(streamId: string, checkpoint: CheckpointData): Promise<{ state: LedgerState; revision: bigint } | undefined> {
    const covered = checkpoint.covered[streamId];
    if (!covered) return undefined;
    const cut = BigInt(covered.revision);
    // The keeper folds without positions (a whole-stream fold leaves it null); the projection's is in the checkpoint.
    let state: LedgerState = { ...checkpoint.projections.ledger as LedgerState, position: null };
    let revision = -1n;
    for await (const event of this.store.readStream(streamId, { fromRevision: cut })) {
      if (revision < 0n && (event.revision !== cut || String(event.position) !== covered.position)) return undefined;
      if (event.revision > cut) state = applyLedgerEvent(state, event.type, event.data);
      revision = event.revision;
    }
    return revision < cut ? undefined : { state, revision };
  }

  forget(sessionId: string): void {
    this.hosts.delete(sessionId);
  }

  /** A ledger this process already holds, without reading: lenders are looked for among these only. */
  hosted(sessionId: string): LedgerHost | undefined {
    return this.hosts.get(sessionId);
  }

  hostedSessions(): string[] {
    return [...this.hosts.keys()];
  }

  nextId(): string {
    return this.ids.next();
  }

  costUsd(modelSpec: string, usage: { inputTokens: number; outputTokens: number }): number {
    let profile;
    try {
      profile = this.models(modelSpec).profile;
    } catch {
      return 0;
    }
    if (!profile) return 0;
    return (usage.inputTokens / 1000) * profile.pricePer1kInput + (usage.outputTokens / 1000) * profile.pricePer1kOutput;
  }
}

export class LedgerStage {
  private readonly staged = new Map<string, StagedLedger>();
  private readonly keeper: LedgerKeeper;
  private readonly recordedAt: string;

  constructor(keeper: LedgerKeeper, recordedAt: string) {
    this.keeper = keeper;
    this.recordedAt = recordedAt;
  }

  /** Loads the session's ledger before staging starts on it, so every later step can stay synchronous. */
  async prepare(sessionId: string): Promise<void> {
    if (this.staged.has(sessionId)) return;
    const host = await this.keeper.host(sessionId);
    this.staged.set(sessionId, { host, state: host.state, events: [] });
  }

  /** Postings that follow from an actor's staged event. */
  onActorEvent(sessionId: string, actorStream: string, event: EventToAppend): void {
    const ledger = this.ledger(sessionId);
    switch (event.type) {
      case 'session.started': {
        const d = event.data as EventData<'session.started'>;
        this.post(ledger, 'budget.allocated', { amount: d.budgetTokens, reason: 'session budget' }, event.eventId);
        const factors = this.keeper.factorSet;
        this.post(ledger, 'factorSet.adopted', { factorSetId: factors.id, sha256: factors.sha256 }, event.eventId);
        break;
      }
      case 'agent.assigned': {
        // Quotas come with each task now (a share of the turn's budget); an assignment may still carry one.
        const d = event.data as EventData<'agent.assigned'>;
        this.assignQuota(ledger, actorStream, d.quotaTokens, event.eventId);
        break;
      }
      case 'task.assigned': {
        const d = event.data as EventData<'task.assigned'>;
        this.assignQuota(ledger, actorStream, d.quotaTokens ?? 0, event.eventId);
        break;
      }
      case 'priority.assigned':
        ledger.priority = (event.data as EventData<'priority.assigned'>).priority.priority;
        break;
      case 'budget.estimated': {
        const d = event.data as EventData<'budget.estimated'>;
        const priority = ledger.priority === undefined ? {} : { priority: ledger.priority };
        const memory = d.allocated === undefined ? {} : { estimated: d.total };
        this.post(ledger, 'turn.budgeted', { turn: d.turn, amount: d.allocated ?? d.total, mode: d.mode, roles: d.roles, confidence: d.confidence, ...priority, ...memory }, event.eventId);
        break;
      }
      case 'model.responded': {
        const d = event.data as EventData<'model.responded'>;
        this.settle(ledger, actorStream, d.requestId, d.usage, event.eventId);
        break;
      }
      case 'model.failed': {
        const d = event.data as EventData<'model.failed'>;
        // A failure the provider billed is settled at what it billed, as an answer is; any other releases its reservation.
        if (d.billed) {
          this.settle(ledger, actorStream, d.requestId, d.billed.usage, event.eventId);
          break;
        }
        const reservation = ledger.state.reservations[d.requestId];
        if (reservation) this.post(ledger, 'tokens.released', { requestId: d.requestId, agentStream: actorStream, amount: reservation.amount, reason: d.reason }, event.eventId);
        if (reservation && streamCategory(actorStream) === 'session') this.releaseAgent(ledger, actorStream, reservation.turn, event.eventId);
        break;
      }
      case 'agent.answered':
      case 'agent.failed': {
        // An agent done with its task repays what it borrowed and gives back what it did not use, at once: a
        // council's synthesiser, which works last and reads everything, can then draw on it.
        const d = event.data as EventData<'agent.answered'>;
        this.releaseAgent(ledger, d.agentStream, d.turn, event.eventId);
        break;
      }
      case 'turn.completed': {
        const d = event.data as EventData<'turn.completed'>;
        // Anything still held by the turn's agents goes back to the pool: the next turn's budget is drawn afresh.
        for (const agentStream of d.agents) this.releaseAgent(ledger, agentStream, d.turn, event.eventId);
        this.repaySessions(ledger, event.eventId);
        this.reconcile(ledger, d.turn, event.eventId, d.status === 'answered');
        break;
      }
    }
  }

  /**
   * A call given up that no process is running: its reservation is released now, caused by the outcome recorded in
   * the same write, so a call the same step makes again can reserve the tokens (the outcome then finds nothing open).
   */
  releaseAbandoned(sessionId: string, agentStream: string, requestId: string, reason: string, causeId: string): void {
    const ledger = this.ledger(sessionId);
    const reservation = ledger.state.reservations[requestId];
    if (!reservation) return;
    this.post(ledger, 'tokens.released', { requestId, agentStream, amount: reservation.amount, reason }, causeId);
    // As a failed outcome does: a session's own call (delegated triage) is over, and its account is released.
    if (streamCategory(agentStream) === 'session') this.releaseAgent(ledger, agentStream, reservation.turn, causeId);
  }

  /** A call's reservation settled at its usage (an answer's, or what a failed call was billed). */
  private settle(ledger: StagedLedger, actorStream: string, requestId: string, usage: { inputTokens: number; outputTokens: number }, causeId: string): void {
    const reservation = ledger.state.reservations[requestId];
    if (!reservation) return;
    // Usage beyond the reservation and the quota is an overdraft: recorded first, so the settlement is lawful.
    const actual = usage.inputTokens + usage.outputTokens;
    const quotaAfter = balance(ledger.state, quotaAccount(actorStream)) + reservation.amount - actual;
    const allowed = ledger.state.overdrafts[actorStream] ?? 0;
    if (quotaAfter < -allowed) this.post(ledger, 'overdraft.recorded', { agentStream: actorStream, requestId, amount: -quotaAfter - allowed }, causeId);
    this.post(ledger, 'tokens.settled', {
      requestId, agentStream: actorStream, reserved: reservation.amount, usage, model: reservation.model,
      costUsd: this.keeper.costUsd(reservation.model, usage),
    }, causeId);
    // A session's own call (delegated triage) is over with its outcome: its account is released at once.
    if (streamCategory(actorStream) === 'session') this.releaseAgent(ledger, actorStream, reservation.turn, causeId);
  }

  /**
   * A turn's reservations and its budget by mode, each against what the turn used. A turn that failed (its calls
   * refused, timed out or broken) used what it used for want of an answer, not for want of tokens: its budget
   * error is left out, so learning does not shrink the next budgets after an outage or an empty pool.
   */
  private reconcile(ledger: StagedLedger, turnNumber: number, causeId: string, answered: boolean): void {
    const turn = ledger.state.turns[turnNumber] ?? { estimated: 0, actual: 0 };
    const pct = (estimate: number) => Math.round(((turn.actual - estimate) / estimate) * 10_000) / 100;
    // Learning measures the formula's estimate; what memory allocated instead is reported beside it.
    const formula = turn.estimatedByFormula ?? turn.budgeted;
    const allocated = turn.estimatedByFormula !== undefined && turn.budgeted !== undefined && turn.budgeted > 0 ? { allocated: turn.budgeted, allocatedErrorPct: pct(turn.budgeted) } : {};
    const budget = answered && formula !== undefined && formula > 0 && turn.mode !== undefined
      ? { mode: turn.mode, roles: turn.roles, confidence: turn.confidence, budgeted: formula, budgetErrorPct: pct(formula), ...allocated }
      : {};
    // A turn with no call settled estimated nothing against use: said, so its 0 % does not pass for a perfect estimate.
    const unsettled = turn.estimated === 0 && turn.actual === 0 ? { unsettled: true as const } : {};
    this.post(ledger, 'budget.reconciled', { turn: turnNumber, estimated: turn.estimated, actual: turn.actual, errorPct: turn.estimated === 0 ? 0 : pct(turn.estimated), ...budget, ...unsettled }, causeId);
  }

  /** Moves an agent's quota out of the session pool: as much of `amount` as the pool holds. */
  private assignQuota(ledger: StagedLedger, agentStream: string, amount: number, causeId: string): void {
    const granted = Math.min(amount, Math.max(0, balance(ledger.state, 'session')));
    if (granted > 0) this.post(ledger, 'quota.assigned', { agentStream, amount: granted }, causeId);
  }

  /**
   * A market fact's settlement, in the ledgers of the sessions it names: an offer's tokens escrowed out of the
   * seller's pool (a seller short of them is refused: its ledger would break its laws), a trade moving them from the
   * escrow to the buyer's pool through each side's `traded` account, an expired offer's tokens returned.
   */
  onMarketEvent(event: EventToAppend): void {
    switch (event.type) {
      case 'tokens.offered': {
        const d = event.data as EventData<'tokens.offered'>;
        const seller = this.ledger(d.sessionId);
        // The machine ignores an offer id it already holds; so does the escrow.
        if (seller.state.balances[escrowAccount(d.offerId)] !== undefined) break;
        this.post(seller, 'offer.escrowed', { offerId: d.offerId, amount: d.amount }, event.eventId);
        break;
      }
      case 'tokens.traded': {
        const d = event.data as EventData<'tokens.traded'>;
        this.post(this.ledger(d.seller), 'tokens.sold', { tradeId: d.tradeId, offerId: d.offerId, buyer: d.buyer, amount: d.amount, price: d.price }, event.eventId);
        this.post(this.ledger(d.buyer), 'tokens.bought', { tradeId: d.tradeId, bidId: d.bidId, seller: d.seller, amount: d.amount, price: d.price }, event.eventId);
        break;
      }
      case 'offer.expired': {
        const d = event.data as EventData<'offer.expired'>;
        this.post(this.ledger(d.sessionId), 'offer.returned', { offerId: d.offerId, amount: d.amount, reason: `expired at ${d.at}` }, event.eventId);
        break;
      }
    }
  }

  /**
   * Reserves a model call's tokens before the call is recorded: from the agent's quota, borrowing the shortfall
   * from the session pool when it can; otherwise the reservation is refused and recorded.
   */
  reserve(sessionId: string, agentStream: string, request: { requestId: string; amount: number; model: string; turn: number }, causeId: string): { granted: true } | { granted: false; reason: string } {
    const ledger = this.ledger(sessionId);
    const short = request.amount - Math.max(available(ledger.state, agentStream).own, 0) - available(ledger.state, 'session').pool;
    if (short > 0 && ledger.state.turns[request.turn]?.mode === 'emergency') this.borrowForEmergency(ledger, short, causeId);
    const { own, pool } = available(ledger.state, agentStream);
    const shortfall = request.amount - Math.max(own, 0);
    if (shortfall > 0 && shortfall > pool) {
      return this.refuse(sessionId, agentStream, request, `budget: the call needs ${request.amount} tokens, the agent has ${Math.max(own, 0)} and the session pool ${pool}`, causeId);
    }
    if (shortfall > 0) this.post(ledger, 'tokens.lent', { from: 'session', to: agentStream, amount: shortfall, reason: `reservation for ${request.requestId}` }, causeId);
    this.post(ledger, 'tokens.reserved', { requestId: request.requestId, agentStream, amount: request.amount, model: request.model, turn: request.turn }, causeId);
    return { granted: true };
  }

  /** A call refused (for want of budget, or a prompt its model cannot take), recorded with what it needed and what was there. */
  refuse(sessionId: string, agentStream: string, request: { requestId: string; amount: number }, reason: string, causeId: string): { granted: false; reason: string } {
    const ledger = this.ledger(sessionId);
    const { own, pool } = available(ledger.state, agentStream);
    this.post(ledger, 'tokens.refused', { requestId: request.requestId, agentStream, needed: request.amount, available: Math.max(own, 0) + pool, reason }, causeId);
    return { granted: false, reason };
  }

  parts(): StreamAppend[] {
    return [...this.staged.values()].filter((s) => s.events.length > 0).map((s) => ({
      streamId: ledgerStream(s.host.sessionId), events: s.events, expectedState: s.host.revision < 0n ? 'no_stream' as const : s.host.revision,
    }));
  }

  adopt(): void {
    for (const s of this.staged.values()) {
      s.host.state = s.state;
      s.host.revision += BigInt(s.events.length);
    }
  }

  forget(): void {
    for (const sessionId of this.staged.keys()) this.keeper.forget(sessionId);
  }

  /** Tokens used so far by each session this stage wrote to. */
  usageBySession(): Map<string, number> {
    const usage = new Map<string, number>();
    for (const [sessionId, s] of this.staged) {
      if (s.events.length > 0) usage.set(sessionId, s.state.usage.total.inputTokens + s.state.usage.total.outputTokens);
    }
    return usage;
  }

  /**
   * An emergency turn short of tokens borrows them from lower-priority sessions this process holds (the founding
   * design's lending to climate emergencies): lowest priority first, each lending what its unassigned pool can. Both
   * sides are recorded, each in its own ledger, in the same append as the reservation they make possible.
   */
  private borrowForEmergency(borrower: StagedLedger, needed: number, causeId: string): void {
    const priority = borrower.state.priority ?? 0;
    const borrowerId = borrower.host.sessionId;
    const lenders = this.keeper.hostedSessions()
      .filter((id) => id !== borrowerId)
      .map((id) => this.stageHosted(id)!)
      .filter((l) => (l.state.priority ?? 0) < priority && balance(l.state, 'session') > 0)
      .sort((a, b) => (a.state.priority ?? 0) - (b.state.priority ?? 0) || (a.host.sessionId < b.host.sessionId ? -1 : 1));
    let left = needed;
    for (const lender of lenders) {
      if (left <= 0) break;
      const amount = Math.min(left, balance(lender.state, 'session'));
      const reason = `climate emergency in session ${borrowerId} (priority ${priority}) borrows from session ${lender.host.sessionId} (priority ${lender.state.priority ?? 0})`;
      this.post(lender, 'tokens.lentToSession', { toSession: borrowerId, amount, reason }, causeId);
      this.post(borrower, 'tokens.borrowedFromSession', { fromSession: lender.host.sessionId, amount, reason }, causeId);
      left -= amount;
    }
  }

  /** At the end of a turn, what the session's pool holds goes back to the sessions it borrowed from, as far as it can. */
  private repaySessions(borrower: StagedLedger, causeId: string): void {
    for (const [account, owed] of Object.entries(borrower.state.balances)) {
      if (!account.startsWith('borrowed:') || owed >= 0) continue;
      const lenderId = account.slice('borrowed:'.length);
      const lender = this.stageHosted(lenderId);
      const amount = Math.min(-owed, balance(borrower.state, 'session'));
      // A lender this process no longer holds is repaid by whichever process holds both; the debt stays recorded.
      if (!lender || amount <= 0) continue;
      this.post(borrower, 'tokens.repaidToSession', { toSession: lenderId, amount }, causeId);
      this.post(lender, 'tokens.repaymentReceived', { fromSession: borrower.host.sessionId, amount }, causeId);
    }
  }

  /** Stages a ledger this process holds in memory, without reading (so it can be done mid-step). */
  private stageHosted(sessionId: string): StagedLedger | undefined {
    const staged = this.staged.get(sessionId);
    if (staged) return staged;
    const host = this.keeper.hosted(sessionId);
    if (!host) return undefined;
    const ledger: StagedLedger = { host, state: host.state, events: [] };
    this.staged.set(sessionId, ledger);
    return ledger;
  }

  /**
   * An agent whose task is over: its loan from the pool is repaid from what quota it has left, the rest of its quota
   * returns to the pool, and a loan it spent (and so cannot repay) is closed.
   */
  private releaseAgent(ledger: StagedLedger, agentStream: string, turn: number, causeId: string): void {
    this.repayPool(ledger, agentStream, causeId);
    const left = balance(ledger.state, quotaAccount(agentStream));
    if (left > 0) this.post(ledger, 'quota.returned', { agentStream, amount: left, turn }, causeId);
    const spent = ledger.state.loans[`session->${agentStream}`] ?? 0;
    if (spent > 0 && Object.values(ledger.state.reservations).every((r) => r.agentStream !== agentStream)) {
      this.post(ledger, 'tokens.loanClosed', { from: 'session', to: agentStream, amount: spent, reason: `spent on turn ${turn}` }, causeId);
    }
  }

  /** The turn outcomes this stage reconciled (not yet in the store), for triage later in the same write to learn from. */
  stagedBudgetOutcomes(): { data: unknown; eventId: string }[] {
    return [...this.staged.values()].flatMap((s) => s.events.filter((e) => e.type === 'budget.reconciled').map((e) => ({ data: e.data, eventId: e.eventId })));
  }

  /** What a finished turn's agent borrowed from the pool goes back from whatever quota it has left. */
  private repayPool(ledger: StagedLedger, agentStream: string, causeId: string): void {
    const owed = ledger.state.loans[`session->${agentStream}`] ?? 0;
    const left = balance(ledger.state, quotaAccount(agentStream));
    const amount = Math.min(owed, left);
    if (amount > 0) this.post(ledger, 'tokens.repaid', { from: agentStream, to: 'session', amount }, causeId);
  }

  private ledger(sessionId: string): StagedLedger {
    const ledger = this.staged.get(sessionId);
    if (!ledger) throw new Error(`The ledger of session ${sessionId} was not prepared before staging`);
    return ledger;
  }

  private post(ledger: StagedLedger, type: string, data: Record<string, unknown>, causeId: string): void {
    const sessionId = ledger.host.sessionId;
    ledger.events.push({
      eventId: this.keeper.nextId(), type, data,
      metadata: {
        actorId: ledgerStream(sessionId), actorKind: 'ledger', sessionId, correlationId: sessionId, causationId: causeId,
        recordedAt: this.recordedAt, machineVersion: LEDGER_VERSION,
      },
    });
    ledger.state = applyLedgerEvent(ledger.state, type, data);
    const violations = ledgerViolations(ledger.state);
    if (violations.length > 0) throw new LedgerViolationError(`The ledger of session ${sessionId} would break its laws after ${type}: ${violations.join('; ')}`);
  }
}
