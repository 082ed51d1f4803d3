import { budgetOutcomeOf, initialBudgetLearning, learnFromOutcome, type BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import type { EventStore } from '../store/eventStore.ts';
import { LogFold } from './logFold.ts';

/**
 * What budget prediction has learnt, folded over every session's `budget.reconciled` in log order, caught up from
 * the store before each triage, so sessions run by other processes teach this one too. Each estimate records how
 * many reconciliations its base learnt from and the event id of the newest, so replay and audit see exactly what
 * the learning said then.
 */
export function budgetLearningFold(store: EventStore): LogFold<BudgetLearningState> {
  return new LogFold(store, {
    initial: initialBudgetLearning,
    types: ['budget.reconciled'],
    evolve: (state, event) => {
      const outcome = budgetOutcomeOf(event.data);
      return outcome ? learnFromOutcome(state, outcome, event.eventId) : state;
    },
  });
}
