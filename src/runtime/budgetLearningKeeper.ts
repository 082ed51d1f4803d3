import { budgetOutcomeOf, initialBudgetLearning, learnFromOutcome, type BudgetLearningState } from '../../projections/budgetLearning/budgetLearning.ts';
import type { EventStore } from '../store/eventStore.ts';

/**
 * What budget prediction has learnt, folded over every session's `budget.reconciled` in log order, and caught up
 * from the store before each triage (the reconciliations after the last position seen), so sessions run by other
 * processes teach this one too. Each estimate records how many reconciliations its base learnt from and the
 * event id of the newest, so replay and audit see exactly what the learning said then.
 */
export class BudgetLearningKeeper {
  private readonly store: EventStore;
  private learnt: BudgetLearningState = initialBudgetLearning;
  /** The log is read up to here: the next refresh starts after it, whether or not a reconciliation was found. */
  private scannedTo = -1n;

  constructor(store: EventStore) {
    this.store = store;
  }

  async refresh(): Promise<BudgetLearningState> {
    // The log's end first: the scan stops there, so an append racing this read is left whole to the next refresh.
    let end = this.scannedTo;
    for await (const last of this.store.readAll({ fromPosition: 'end', direction: 'backwards', maxCount: 1 })) end = last.position;
    if (end <= this.scannedTo) return this.learnt;
    let state = this.learnt;
    for await (const event of this.store.readAll({ fromPosition: this.scannedTo + 1n, filter: { eventTypePrefix: 'budget.reconciled' } })) {
      if (event.position > end) break;
      const outcome = budgetOutcomeOf(event.data);
      if (outcome) state = learnFromOutcome(state, outcome, event.eventId);
    }
    this.learnt = state;
    this.scannedTo = end;
    return state;
  }

  get state(): BudgetLearningState {
    return this.learnt;
  }
}
