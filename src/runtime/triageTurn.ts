import type { TriageRequestEffect } from '../../machines/effects.ts';
import type { BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import { estimateBudget, MEMORY_MARGIN } from '../policy/budget/budgetEstimate.ts';
import { memoryAdvice, rankedEpisodes, type SessionMemoryState, type SimilarEpisode } from '../../projections/sessionMemory/index.ts';
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

/** A recalled turn this similar or more is the same kind of question: its mode is evidence for triage. */
export const RECALL_SIMILARITY = 0.5;
/** Recall looks at the most similar turns only, as the budget's advice does. */
const RECALLED = 3;
/** The similar turns of the chosen mode the budget's advice weighs. */
const ADVISED = 3;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
/** How far agreement (or disagreement) of recalled turns moves triage's confidence. */
const RECALL_CONFIDENCE_STEP = 0.1;

/**
 * Memory's part in triage: turns like this one (any mode) that were answered. When it recalls some, the share that
 * took the mode now chosen moves the confidence (all agreeing: +0.1, none: −0.1; kept within [0.5, 0.99]); the mode
 * itself stays the rules' (or the triage model's). What was recalled is recorded with the decision.
 */
function withRecall(decision: TriageDecision, ranked: readonly SimilarEpisode[] | undefined): { decision: TriageDecision; recall?: EventData<'triage.decided'>['recall'] } {
  if (!ranked) return { decision };
  const similar = ranked.slice(0, RECALLED).filter((e) => e.similarity >= RECALL_SIMILARITY && e.outcome === 'answered');
  if (similar.length === 0) return { decision };
  const agreeing = similar.filter((e) => e.mode === decision.mode).length;
  const sameModeShare = agreeing / similar.length;
  const confidence = round3(Math.min(0.99, Math.max(0.5, decision.confidence + RECALL_CONFIDENCE_STEP * (2 * sameModeShare - 1))));
  const recall = { similar: similar.map(({ sessionId, turn, similarity, mode, position }) => ({ sessionId, turn, similarity, mode, position })), sameModeShare, confidenceBefore: decision.confidence };
  if (confidence === decision.confidence) return { decision, recall };
  // The rationale ends with the confidence recorded, not the one the rules (or model) gave before memory moved it.
  const moved = ` Memory recalled ${similar.length} similar answered turn(s), ${agreeing} of them ${decision.mode}: confidence ${decision.confidence.toFixed(3)} → ${confidence.toFixed(3)} (${RECALL_CONFIDENCE_STEP} × (2 × ${round3(sameModeShare)} − 1), kept within [0.5, 0.99]).`;
  return { decision: { ...decision, confidence, rationale: `${decision.rationale}${moved}` }, recall };
}

export function triageTurn(effect: Pick<TriageRequestEffect, 'turn' | 'query'>, inputs: TriageInputs, decided?: { decision: TriageDecision; decidedBy: EventData<'triage.decided'>['decidedBy'] }): { type: string; data: unknown }[] {
  // Memory is ranked once for the query: triage's recall reads it whatever the mode, the budget's advice within one.
  const ranked = inputs.memory && rankedEpisodes(inputs.memory, effect.query, Math.max(RECALLED, ADVISED));
  const { decision, recall } = withRecall(decided?.decision ?? rulesDecision(effect.query, inputs), ranked);
  const roles = decision.mode === 'express' ? 1 : decision.roles.length + SYNTHESISER_ROLES;
  const estimate = estimateBudget({ turn: effect.turn, mode: decision.mode, roles, confidence: decision.confidence }, inputs.learning.bases, inputs.learning.through);
  // Memory of similar turns (same mode) sets the tokens given to the turn; the formula's figure is kept beside it.
  // Recorded when memory recalled something (what it said, even without a figure); absent, it recalled nothing.
  const advice = inputs.memory && memoryAdvice(inputs.memory, { ...effect.query, mode: decision.mode }, ADVISED, ranked);
  const recalled = advice !== undefined && advice.similar.length > 0 ? { memory: advice } : {};
  const allocated = advice?.suggestedTokens != null ? { allocated: Math.max(1, Math.ceil(advice.suggestedTokens * MEMORY_MARGIN)) } : {};
  const budget = { ...estimate, ...recalled, ...allocated };
  return [
    { type: 'triage.decided', data: { turn: effect.turn, decision, decidedBy: decided?.decidedBy ?? { by: 'rules' }, ...(recall ? { recall } : {}) } },
    { type: 'priority.assigned', data: { turn: effect.turn, priority: priorityOf(effect.query) } },
    { type: 'budget.estimated', data: budget },
  ];
}
