import { budgetOutcomeOf, initialBudgetLearning, learnFromOutcome, type BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import { evolveSessionMemory, initialSessionMemory, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import type { EventStore } from '../store/eventStore.ts';
import { LogFold } from './logFold.ts';

/** What triage learns from every session in the store: budget learning and cross-session memory. */
export interface TriageLog {
  learning: BudgetLearningState;
  memory: SessionMemoryState;
}

/**
 * Both folded in one scan of the log, caught up from the store before each triage, so sessions run by other
 * processes teach this one too. Each estimate records what they said (bases learnt through an event id, memory
 * folded through a position), so replay and audit see exactly that.
 */
export function triageLogFold(store: EventStore): LogFold<TriageLog> {
  return new LogFold<TriageLog>(store, {
    initial: { learning: initialBudgetLearning, memory: initialSessionMemory },
    // The memory fold's types; budget learning reads `budget.reconciled`, one of them.
    types: ['query.received', 'triage.decided', 'turn.completed', 'budget.reconciled', 'transition.completed', 'session.forked'],
    evolve: (state, event) => {
      const outcome = event.type === 'budget.reconciled' ? budgetOutcomeOf(event.data) : undefined;
      return {
        learning: outcome ? learnFromOutcome(state.learning, outcome, event.eventId) : state.learning,
        memory: evolveSessionMemory(state.memory, event),
      };
    },
  });
}
