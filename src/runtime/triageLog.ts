import { createHash } from 'node:crypto';
import { budgetOutcomeOf, initialBudgetLearning, learnFromOutcome, type BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import { evolveSessionMemory, initialSessionMemory, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import type { EventStore } from '../store/eventStore.ts';
import { CheckpointedFold, type FoldDefinition } from './checkpointedFold.ts';

/** What triage learns from every session in the store: budget learning and cross-session memory. */
export interface TriageLog {
  learning: BudgetLearningState;
  memory: SessionMemoryState;
}

const initial: TriageLog = { learning: initialBudgetLearning, memory: initialSessionMemory };

/**
 * Both folded in one scan of the log, caught up from the store before each triage, so sessions run by other
 * processes teach this one too. Each estimate records what they said (bases learnt through an event id, memory
 * folded through a position), so replay and audit see exactly that. Run as a checkpointed catch-up subscriber: a
 * process starts from the newest checkpoint on `projection-triageLog` and folds only the tail. The version names the
 * fold's rules and its starting state, so a checkpoint taken under other seed bases or caps is never used.
 */
export const triageLogDefinition: FoldDefinition<TriageLog> = {
  name: 'triageLog',
  // Bump the number whenever budget learning or session memory would fold the same events differently.
  version: `triageLog@1/${createHash('sha256').update(JSON.stringify(initial)).digest('hex').slice(0, 12)}`,
  // The memory fold's types; budget learning reads `budget.reconciled`, one of them.
  filter: { eventTypePrefix: ['query.received', 'triage.decided', 'turn.completed', 'budget.reconciled', 'transition.completed', 'session.forked'] },
  initial: () => initial,
  evolve: (state, event) => {
    const outcome = event.type === 'budget.reconciled' ? budgetOutcomeOf(event.data) : undefined;
    return {
      learning: outcome ? learnFromOutcome(state.learning, outcome, event.eventId) : state.learning,
      memory: evolveSessionMemory(state.memory, event),
    };
  },
};

export function triageLogFold(store: EventStore): CheckpointedFold<TriageLog> {
  return new CheckpointedFold(store, triageLogDefinition);
}
