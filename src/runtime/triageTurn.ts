import type { TriageRequestEffect } from '../../machines/effects.ts';
import type { BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import { estimateBudget, MEMORY_MARGIN } from '../policy/budget/budgetEstimate.ts';
import { memoryAdvice, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import { priorityOf } from '../policy/priority/index.ts';
import { triageQuery, type ActiveEmergency, type TriageDecision } from '../policy/triage/index.ts';
import type { EventData } from '../events/catalogue.ts';

/** The synthesiser that merges a council's answers is a role too: it is budgeted like one. */
const SYNTHESISER_ROLES = 1;

/**
 * A turn's triage as the facts the runtime records for it, in the order the session machine takes them: the
 * decision (mode, roles, every signal's contribution), the request's climate-justice priority, and the turn's
 * budget estimated from the mode, the roles, triage's confidence and what past turns have taught.
 */
export interface TriageInputs {
  emergencies: readonly ActiveEmergency[];
  learning: BudgetLearningState;
  memory?: SessionMemoryState;
  councilThreshold?: number;
}

/** The rules' decision for a turn's query. */
export function rulesDecision(query: TriageRequestEffect['query'], inputs: TriageInputs): TriageDecision {
  return triageQuery(query, { emergencies: inputs.emergencies, ...(inputs.councilThreshold === undefined ? {} : { councilThreshold: inputs.councilThreshold }) });
}

export function triageTurn(effect: Pick<TriageRequestEffect, 'turn' | 'query'>, inputs: TriageInputs, decided?: { decision: TriageDecision; decidedBy: EventData<'triage.decided'>['decidedBy'] }): { type: string; data: unknown }[] {
  const decision = decided?.decision ?? rulesDecision(effect.query, inputs);
  const roles = decision.mode === 'express' ? 1 : decision.roles.length + SYNTHESISER_ROLES;
  const estimate = estimateBudget({ turn: effect.turn, mode: decision.mode, roles, confidence: decision.confidence }, inputs.learning.bases, inputs.learning.through);
  // Memory of similar turns (same mode) sets the tokens given to the turn; the formula's figure is kept beside it.
  // Recorded when memory recalled something (what it said, even without a figure); absent, it recalled nothing.
  const advice = inputs.memory && memoryAdvice(inputs.memory, { ...effect.query, mode: decision.mode });
  const recalled = advice !== undefined && advice.similar.length > 0 ? { memory: advice } : {};
  const allocated = advice?.suggestedTokens != null ? { allocated: Math.max(1, Math.ceil(advice.suggestedTokens * MEMORY_MARGIN)) } : {};
  const budget = { ...estimate, ...recalled, ...allocated };
  return [
    { type: 'triage.decided', data: { turn: effect.turn, decision, decidedBy: decided?.decidedBy ?? { by: 'rules' } } },
    { type: 'priority.assigned', data: { turn: effect.turn, priority: priorityOf(effect.query) } },
    { type: 'budget.estimated', data: budget },
  ];
}
