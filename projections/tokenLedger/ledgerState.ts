import { emptyReconciliationSummary, type Reconciliation, type ReconciliationSummary } from './reconciliation.ts';

/**
 * The token ledger of one session, as a double-entry fold over its `ledger-<sessionId>` stream. Tokens move between
 * accounts and are never created or destroyed: `world` is where allocations come from, so every balance summed
 * is zero after every event.
 *
 * Accounts: `world`, `session` (the session's unassigned pool), and per agent stream `quota:<agent>` (available),
 * `reserved:<agent>` (held for calls in flight) and `used:<agent>` (consumed).
 *
 * The state's size depends on the agents and the calls in flight, never on the number of turns: a turn's
 * estimate/actual is dropped once the turn is reconciled, and reconciliations are kept as an aggregate plus the
 * newest few (every one of them stays in the log).
 */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A turn not yet reconciled: what its calls reserved and used, and its budget by mode once estimated. */
export interface OpenTurn {
  estimated: number;
  actual: number;
  budgeted?: number;
  /** The formula's estimate when memory set `budgeted` (what learning measures). */
  estimatedByFormula?: number;
  mode?: 'express' | 'council' | 'emergency';
  roles?: number;
  confidence?: number;
}

export interface LedgerState {
  balances: Record<string, number>;
  postings: number;
  reservations: Record<string, { agentStream: string; amount: number; model: string; turn: number }>;
  /** Recorded overdrafts by agent stream: the only way a quota may go below zero. */
  overdrafts: Record<string, number>;
  /** Outstanding loans, keyed `<lender>-><borrower>`. */
  loans: Record<string, number>;
  usage: { total: UsageTotals; byAgent: Record<string, UsageTotals>; byModel: Record<string, UsageTotals> };
  /**
   * Per open turn (one not yet reconciled): tokens reserved by its settled calls (the estimate) and tokens used.
   * The runtime reads a turn's entry to write its `budget.reconciled`, which then removes it.
   */
  turns: Record<string, OpenTurn>;
  /** Every reconciliation so far, aggregated. */
  reconciled: ReconciliationSummary;
  /** The newest reconciliations (at most `RECENT_RECONCILIATIONS`), oldest first. */
  reconciliations: Reconciliation[];
  refusals: number;
  /** The climate-justice priority of the session's newest budgeted turn: who may borrow from whom in an emergency. */
  priority?: number | null;
  /** Position of the last event folded, as a decimal string (JSON has no bigints). */
  position: string | null;
}

export const initialLedgerState: LedgerState = {
  balances: {}, postings: 0, reservations: {}, overdrafts: {}, loans: {},
  usage: { total: emptyUsage(), byAgent: {}, byModel: {} }, turns: {}, reconciled: emptyReconciliationSummary, reconciliations: [], refusals: 0, position: null,
};

export function emptyUsage(): UsageTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
}

export const quotaAccount = (agentStream: string) => `quota:${agentStream}`;
export const reservedAccount = (agentStream: string) => `reserved:${agentStream}`;
export const usedAccount = (agentStream: string) => `used:${agentStream}`;
/** What another session owes this one (an asset), and what this one owes another (a debt, never positive). */
export const lentAccount = (sessionId: string) => `lent:${sessionId}`;
export const borrowedAccount = (sessionId: string) => `borrowed:${sessionId}`;
/** Tokens offered on the market and not yet sold or returned. */
export const escrowAccount = (offerId: string) => `escrow:${offerId}`;
/**
 * Tokens that crossed the market: positive what the session sold, negative what it bought. Summed over every
 * session's ledger it is zero: the market moves tokens, it never makes or destroys them.
 */
export const TRADED_ACCOUNT = 'traded';

/** A lender or borrower is the session pool or an agent's quota. */
export function partyAccount(party: string): string {
  return party === 'session' ? 'session' : quotaAccount(party);
}

export function balance(state: LedgerState, account: string): number {
  return state.balances[account] ?? 0;
}

/** What an agent can reserve now: its own quota, plus the session pool it may borrow from. */
export function available(state: LedgerState, agentStream: string): { own: number; pool: number } {
  return { own: balance(state, quotaAccount(agentStream)), pool: balance(state, 'session') };
}
