import type { RecordedEvent } from '../events/envelope.ts';
import type { EventStore } from '../store/eventStore.ts';

/**
 * A fold over every event of some types in the whole store, caught up on demand: each `refresh` reads only what was
 * appended since the last one (by this process or any other). Triage's inputs that learn from all sessions (budget
 * learning, cross-session memory) are kept this way.
 */
export class LogFold<S> {
  private readonly store: EventStore;
  private readonly types: string[];
  private readonly evolve: (state: S, event: RecordedEvent) => S;
  private folded: S;
  /** The log is read up to here: the next refresh starts after it, whether or not an event of the types was found. */
  private scannedTo = -1n;

  constructor(store: EventStore, options: { initial: S; types: string[]; evolve: (state: S, event: RecordedEvent) => S }) {
    this.store = store;
    this.folded = options.initial;
    this.types = options.types;
    this.evolve = options.evolve;
  }

  async refresh(): Promise<S> {
    // The log's end first: the scan stops there, so an append racing this read is left whole to the next refresh.
    let end = this.scannedTo;
    for await (const last of this.store.readAll({ fromPosition: 'end', direction: 'backwards', maxCount: 1 })) end = last.position;
    if (end <= this.scannedTo) return this.folded;
    let state = this.folded;
    for await (const event of this.store.readAll({ fromPosition: this.scannedTo + 1n, filter: { eventTypePrefix: this.types } })) {
      if (event.position > end) break;
      state = this.evolve(state, event);
    }
    this.folded = state;
    this.scannedTo = end;
    return state;
  }

  get state(): S {
    return this.folded;
  }
}
