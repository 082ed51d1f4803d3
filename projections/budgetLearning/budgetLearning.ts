import { BUDGET_MODES, confidenceFactor, seedLearnedBases, TOKENS_PER_ROLE, type BudgetMode, type LearnedBases } from '../../src/policy/budget/budgetEstimate.ts';

/** A turn's budget against what it used, as `budget.reconciled` records it when the turn was budgeted by mode. */
export interface BudgetOutcome {
  mode: BudgetMode;
  roles: number;
  confidence: number;
  budgeted: number;
  actual: number;
}

/** An error beyond this share of the budget moves the base; within it, the base is left alone (noise). */
export const LEARNING_THRESHOLD = 0.2;
export const LEARNING_RATE = 0.1;
/**
 * How low a base may learn: 50 tokens above minus one role's share, so a one-role turn is always budgeted at least
 * 50 tokens before confidence. Below zero is allowed: the seed's 400 per role can be more than short turns use.
 */
export const MIN_BASE = 50 - TOKENS_PER_ROLE;

export interface BudgetLearningState {
  bases: LearnedBases;
  /** Event id of the newest reconciliation folded, null before any: what an estimate says it learnt through. */
  through: string | null;
}

export const initialBudgetLearning: BudgetLearningState = { bases: seedLearnedBases, through: null };

/**
 * The base that would have predicted `actual` exactly, given the same roles and confidence: the point a base
 * moves toward. Budget = (base + perRole × roles) × factor, solved for base.
 */
export function impliedBase(outcome: BudgetOutcome): number {
  return outcome.actual / confidenceFactor(outcome.confidence) - TOKENS_PER_ROLE * outcome.roles;
}

/**
 * One reconciliation's lesson (the founding design's rule): when the error of a mode's budget exceeds 20 %, move
 * that mode's base by a learning rate of 0.1 toward the base that would have been right. Every reconciliation
 * counts toward `learnedFrom`, moved or not, since a small error is also evidence the base is right.
 */
export function learnFromOutcome(state: BudgetLearningState, outcome: BudgetOutcome, eventId: string): BudgetLearningState {
  if (!BUDGET_MODES.includes(outcome.mode) || outcome.budgeted <= 0) return state;
  const current = state.bases[outcome.mode];
  const error = (outcome.actual - outcome.budgeted) / outcome.budgeted;
  const base = Math.abs(error) > LEARNING_THRESHOLD
    ? Math.max(MIN_BASE, current.base + LEARNING_RATE * (impliedBase(outcome) - current.base))
    : current.base;
  return { bases: { ...state.bases, [outcome.mode]: { base, learnedFrom: current.learnedFrom + 1 } }, through: eventId };
}

/** Reads a `budget.reconciled` event's data as a budget outcome, when the turn was budgeted by mode. */
export function budgetOutcomeOf(data: unknown): BudgetOutcome | undefined {
  const d = data as Partial<BudgetOutcome> & { budgeted?: number | null };
  if (typeof d.mode !== 'string' || typeof d.budgeted !== 'number' || typeof d.actual !== 'number' || typeof d.roles !== 'number' || typeof d.confidence !== 'number') return undefined;
  return { mode: d.mode as BudgetMode, roles: d.roles, confidence: d.confidence, budgeted: d.budgeted, actual: d.actual };
}
