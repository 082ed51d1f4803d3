import type { TriageRequestEffect } from '../../machines/effects.ts';
import type { BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import { estimateBudget } from '../policy/budget/budgetEstimate.ts';
import { priorityOf } from '../policy/priority/index.ts';
import { triageQuery, type ActiveEmergency } from '../policy/triage/index.ts';

/** The synthesiser that merges a council's answers is a role too: it is budgeted like one. */
const SYNTHESISER_ROLES = 1;

/**
 * A turn's triage as the facts the runtime records for it, in the order the session machine takes them: the
 * decision (mode, roles, every signal's contribution), the request's climate-justice priority, and the turn's
 * budget estimated from the mode, the roles, triage's confidence and what past turns have taught.
 */
export function triageTurn(
  effect: TriageRequestEffect,
  inputs: { emergencies: readonly ActiveEmergency[]; learning: BudgetLearningState; councilThreshold?: number },
): { type: string; data: unknown }[] {
  const decision = triageQuery(effect.query, { emergencies: inputs.emergencies, ...(inputs.councilThreshold === undefined ? {} : { councilThreshold: inputs.councilThreshold }) });
  const roles = decision.mode === 'express' ? 1 : decision.roles.length + SYNTHESISER_ROLES;
  const budget = estimateBudget({ turn: effect.turn, mode: decision.mode, roles, confidence: decision.confidence }, inputs.learning.bases, inputs.learning.through);
  return [
    { type: 'triage.decided', data: { turn: effect.turn, decision } },
    { type: 'priority.assigned', data: { turn: effect.turn, priority: priorityOf(effect.query) } },
    { type: 'budget.estimated', data: budget },
  ];
}
