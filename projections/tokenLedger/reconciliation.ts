/**
 * Reconciliation of turns (estimate vs actual), kept as a running aggregate plus the newest few, so the ledger's
 * state does not grow with the number of turns: a checkpoint stores it whole, and a point-in-time query parses it.
 * Every reconciliation is still in the log (`budget.reconciled` in `ledger-<sessionId>`); the aggregate is what
 * budget prediction learns from (ARCHITECTURE.md §6), the recent list what a reader wants to see.
 */
export interface Reconciliation {
  turn: number;
  estimated: number;
  actual: number;
  errorPct: number;
  /** No call of the turn was settled: listed, but left out of the aggregate. */
  unsettled?: true;
}

export interface ReconciliationSummary {
  /** Turns reconciled so far. */
  count: number;
  /** Tokens estimated (reserved by settled calls: answered, or billed without an answer) and used, over every reconciled turn. */
  estimated: number;
  actual: number;
  /** Sums of the recorded error % (signed, and absolute), in the order folded. */
  sumErrorPct: number;
  sumAbsErrorPct: number;
  /** The sums over `count`: the bias of the estimates, and their typical size of error. 0 before any turn. */
  meanErrorPct: number;
  meanAbsErrorPct: number;
  /** The largest absolute error % of any turn. */
  maxAbsErrorPct: number;
  /** Turns reconciled with no call settled, left out of everything above; absent while there are none. */
  unsettled?: number;
}

/** How many of the newest reconciliations the state keeps in full. */
export const RECENT_RECONCILIATIONS = 20;

export const emptyReconciliationSummary: ReconciliationSummary = {
  count: 0, estimated: 0, actual: 0, sumErrorPct: 0, sumAbsErrorPct: 0, meanErrorPct: 0, meanAbsErrorPct: 0, maxAbsErrorPct: 0,
};

export function addReconciliation(summary: ReconciliationSummary, r: Reconciliation): ReconciliationSummary {
  if (r.unsettled) return { ...summary, unsettled: (summary.unsettled ?? 0) + 1 };
  const count = summary.count + 1;
  const sumErrorPct = summary.sumErrorPct + r.errorPct;
  const sumAbsErrorPct = summary.sumAbsErrorPct + Math.abs(r.errorPct);
  return {
    count,
    estimated: summary.estimated + r.estimated,
    actual: summary.actual + r.actual,
    sumErrorPct,
    sumAbsErrorPct,
    meanErrorPct: sumErrorPct / count,
    meanAbsErrorPct: sumAbsErrorPct / count,
    maxAbsErrorPct: Math.max(summary.maxAbsErrorPct, Math.abs(r.errorPct)),
  };
}

/** The newest `RECENT_RECONCILIATIONS`, oldest first: copies at most that many, whatever the session's length. */
export function appendRecent(recent: readonly Reconciliation[], r: Reconciliation): Reconciliation[] {
  const kept = recent.length >= RECENT_RECONCILIATIONS ? recent.slice(recent.length - RECENT_RECONCILIATIONS + 1) : [...recent];
  kept.push(r);
  return kept;
}
