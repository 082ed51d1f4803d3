import type { BudgetMode } from '../../src/policy/budget/budgetEstimate.ts';
import type { BudgetOutcome } from './budgetLearning.ts';

/** One reconciled turn as the accuracy report lists it. */
export interface BudgetRecord extends BudgetOutcome {
  sessionId: string;
  turn: number;
  position: string;
  /** Signed, in % of the budget: positive means the turn used more than budgeted. */
  errorPct: number;
}

export interface ErrorDistribution {
  count: number;
  meanAbsErrorPct: number;
  medianAbsErrorPct: number;
  p90AbsErrorPct: number;
  /** Mean signed error: the bias (positive: budgets too small). */
  meanErrorPct: number;
}

export interface ModeAccuracy extends ErrorDistribution {
  mode: BudgetMode;
  /** The same distribution over consecutive windows of the mode's turns, oldest first: whether learning helps. */
  windows: (ErrorDistribution & { from: number; to: number })[];
}

export function errorPct(outcome: { budgeted: number; actual: number }): number {
  return Math.round(((outcome.actual - outcome.budgeted) / outcome.budgeted) * 10_000) / 100;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function errorDistribution(records: readonly { errorPct: number }[]): ErrorDistribution {
  const abs = records.map((r) => Math.abs(r.errorPct)).sort((a, b) => a - b);
  const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
  const count = records.length;
  return {
    count,
    meanAbsErrorPct: count === 0 ? 0 : round2(sum(abs) / count),
    medianAbsErrorPct: round2(quantile(abs, 0.5)),
    p90AbsErrorPct: round2(quantile(abs, 0.9)),
    meanErrorPct: count === 0 ? 0 : round2(sum(records.map((r) => r.errorPct)) / count),
  };
}

/**
 * Prediction accuracy per mode over reconciled turns in log order, with the error in consecutive windows, so a
 * reader sees whether the learnt bases are closing in on what turns really use.
 */
export function budgetAccuracy(records: readonly BudgetRecord[], windowSize = 5): ModeAccuracy[] {
  const modes = [...new Set(records.map((r) => r.mode))].sort();
  return modes.map((mode) => {
    const ofMode = records.filter((r) => r.mode === mode);
    const windows = [];
    for (let from = 0; from < ofMode.length; from += windowSize) {
      const slice = ofMode.slice(from, from + windowSize);
      windows.push({ from: from + 1, to: from + slice.length, ...errorDistribution(slice) });
    }
    return { mode, ...errorDistribution(ofMode), windows };
  });
}
