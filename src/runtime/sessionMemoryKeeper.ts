import { evolveSessionMemory, initialSessionMemory, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import type { EventStore } from '../store/eventStore.ts';

/** The only event types the memory fold reads: a refresh reads nothing else. */
const MEMORY_EVENT_TYPES = ['query.received', 'triage.decided', 'turn.completed', 'budget.reconciled', 'transition.completed', 'session.forked'];

/**
 * Cross-session memory as this process knows it, caught up from the store before each triage (the events after the
 * last position scanned), so turns finished by other processes are remembered too. Each estimate records the
 * advice and the position memory had folded through, so replay and audit see exactly what memory said then.
 */
export class SessionMemoryKeeper {
  private readonly store: EventStore;
  private memory: SessionMemoryState = initialSessionMemory;
  private scannedTo = -1n;

  constructor(store: EventStore) {
    this.store = store;
  }

  async refresh(): Promise<SessionMemoryState> {
    // The log's end first: the scan stops there, so an append racing this read is left whole to the next refresh.
    let end = this.scannedTo;
    for await (const last of this.store.readAll({ fromPosition: 'end', direction: 'backwards', maxCount: 1 })) end = last.position;
    if (end <= this.scannedTo) return this.memory;
    let state = this.memory;
    for await (const event of this.store.readAll({ fromPosition: this.scannedTo + 1n, filter: { eventTypePrefix: MEMORY_EVENT_TYPES } })) {
      if (event.position > end) break;
      state = evolveSessionMemory(state, event);
    }
    this.memory = state;
    this.scannedTo = end;
    return state;
  }

  get state(): SessionMemoryState {
    return this.memory;
  }
}
