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
  /** The position of the last event folded: the next refresh reads what comes after it. */
  private scannedTo = -1n;

  constructor(store: EventStore, options: { initial: S; types: string[]; evolve: (state: S, event: RecordedEvent) => S }) {
    this.store = store;
    this.folded = options.initial;
    this.types = options.types;
    this.evolve = options.evolve;
  }

  async refresh(): Promise<S> {
    // Positions become readable in increasing order, so what follows the last event folded is all that is new. (The
    // log's end is not read first: it is often a checkpoint, tens of KB to decode, for a number.)
    let state = this.folded;
    for await (const event of this.store.readAll({ fromPosition: this.scannedTo + 1n, filter: { eventTypePrefix: this.types } })) {
      state = this.evolve(state, event);
      this.scannedTo = event.position;
    }
    this.folded = state;
    return state;
  }

  get state(): S {
    return this.folded;
  }
}
