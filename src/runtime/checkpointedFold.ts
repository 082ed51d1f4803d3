import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import type { AllFilter, EventStore, Subscription } from '../store/eventStore.ts';
import { filterPredicate } from '../store/readSelection.ts';
import { projectionStream } from '../worker/workerEvents.ts';
import type { IdSource } from './ids.ts';

/** A store-wide fold that can be checkpointed: its state must survive a JSON round trip. */
export interface FoldDefinition<S> {
  /** The projection's name: its checkpoints live on `projection-<name>`. */
  name: string;
  /** Changes whenever `evolve` would fold the same events differently: a checkpoint of another version is ignored. */
  version: string;
  filter: AllFilter;
  initial: () => S;
  evolve: (state: S, event: RecordedEvent) => S;
}

/** The most appended events a fold holds on to between catch-ups (see `observe`). */
const MAX_OBSERVED_EVENTS = 10_000;

/** Checkpoints a projection stream keeps (`$maxCount`): readers only ever want the newest. */
const RETENTION = 3;

/**
 * A projection run as a catch-up subscriber (ARCHITECTURE.md §8): it starts from its newest checkpoint on
 * `projection-<name>`, folds what came after, follows the store live, and records its state and position as a new
 * checkpoint now and then. Any process on any machine, a worker or the CLI, loads the same checkpoint and folds
 * only the tail, instead of the whole log.
 */
export class CheckpointedFold<S> {
  readonly definition: FoldDefinition<S>;
  private readonly store: EventStore;
  private folded: S;
  /** The position of the last event folded, -1n before any. */
  private at = -1n;
  private eventsFolded = 0;
  /** `at` when the newest checkpoint this process knows of was taken. */
  private checkpointedAt = -1n;
  private subscription: Subscription | undefined;
  private restored = false;
  /** Every event at or before this position has been considered (folded if the filter takes it), -1n before any. */
  private scanned = -1n;
  /** Appends this process made since the last catch-up, as the store recorded them (see `observe`). */
  private observed: (readonly RecordedEvent[])[] = [];
  private observedEvents = 0;
  private readonly matches: (streamId: string, type: string) => boolean;

  /** An empty fold; `refresh` (or `load`) starts it from its newest checkpoint. */
  constructor(store: EventStore, definition: FoldDefinition<S>) {
    this.store = store;
    this.definition = definition;
    this.folded = definition.initial();
    this.matches = filterPredicate(definition.filter);
  }

  /** The fold as of its newest checkpoint of this version (or empty), caught up with the store. */
  static async load<S>(store: EventStore, definition: FoldDefinition<S>): Promise<CheckpointedFold<S>> {
    const fold = new CheckpointedFold(store, definition);
    await fold.refresh();
    return fold;
  }

  /** Caught up with the store: from the newest checkpoint the first time, then only what was appended since. */
  async refresh(): Promise<S> {
    if (!this.restored) {
      this.restored = true;
      const checkpoint = await newestCheckpoint(this.store, this.definition.name);
      if (checkpoint && checkpoint.version === this.definition.version && BigInt(checkpoint.position) > this.at) {
        this.folded = checkpoint.state as S;
        this.at = BigInt(checkpoint.position);
        this.checkpointedAt = this.at;
        this.eventsFolded = checkpoint.events;
      }
    }
    return this.catchUp();
  }

  get state(): S {
    return this.folded;
  }

  get position(): bigint {
    return this.at;
  }

  /** Events folded since the projection began, across every process that checkpointed it. */
  get events(): number {
    return this.eventsFolded;
  }

  /** Events folded since the newest checkpoint this process knows of: what a new checkpoint would save a reader. */
  get uncheckpointed(): bigint {
    return this.at - this.checkpointedAt;
  }

  /**
   * Hands over what this process has just appended, as the store recorded it (positions and all), so the next
   * catch-up folds it from here instead of reading and decoding it back. Only positions held here are ever skipped:
   * a catch-up still reads whatever lies between them, and after them.
   */
  observe(recorded: readonly RecordedEvent[]): void {
    if (recorded.length === 0) return;
    this.observed.push(recorded);
    this.observedEvents += recorded.length;
    // A process that appends and seldom catches up would keep them all: past a bound they are dropped, and the
    // next catch-up reads instead (what it has been handed only ever saves a read, it is never needed).
    if (this.observedEvents > MAX_OBSERVED_EVENTS) {
      this.observed = [];
      this.observedEvents = 0;
    }
  }

  /**
   * Folds what was appended since the last event folded. Appends handed to `observe` are folded as they are while
   * each continues the positions already considered without a gap (nobody else wrote in between); the store is read
   * from the first gap on (and always after them, for other writers), so the fold is the same as a read of the log.
   */
  async catchUp(): Promise<S> {
    let through = this.scanned > this.at ? this.scanned : this.at;
    let newestObserved = through;
    let unbroken = true;
    const observed = this.observed;
    this.observed = [];
    this.observedEvents = 0;
    for (const batch of observed) {
      const last = batch[batch.length - 1]!.position;
      if (last > newestObserved) newestObserved = last;
      if (!unbroken || last <= through) continue;
      if (!continues(batch, through)) {
        unbroken = false;
        continue;
      }
      for (const event of batch) if (this.matches(event.streamId, event.type)) this.fold(event);
      through = last;
    }
    // Caught up with the whole log (the usual case after folding this process's own appends): no read to make.
    const newest = this.store.lastPosition === undefined ? undefined : await this.store.lastPosition();
    if (newest === undefined || newest > through) {
      for await (const event of this.store.readAll({ fromPosition: through + 1n, filter: this.definition.filter })) this.fold(event);
    }
    // Everything this process had written was in the store when the read began, so the read covered it.
    const covered = unbroken ? through : newestObserved;
    this.scanned = covered > this.at ? covered : this.at;
    return this.folded;
  }

  /**
   * Follows the store live from the last event folded, calling `onEvent` after each event is folded; resolves when
   * `stop` is called. One follower per fold.
   */
  async follow(onEvent: (event: RecordedEvent) => void | Promise<void>): Promise<void> {
    if (this.subscription) throw new Error(`projection ${this.definition.name} is already being followed`);
    this.subscription = this.store.subscribeToAll({ fromPosition: this.at < 0n ? 'start' : this.at, filter: this.definition.filter });
    for await (const event of this.subscription) {
      if (this.fold(event)) await onEvent(event);
    }
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  /**
   * Records the state as a checkpoint when it has folded past the newest one: several processes may run the same
   * projection, and each checkpoint is a complete state at its own position, so whichever is newest serves.
   */
  async checkpoint({ ids, recordedAt }: { ids: IdSource; recordedAt: string }): Promise<boolean> {
    if (this.at <= this.checkpointedAt) return false;
    const newest = await newestCheckpoint(this.store, this.definition.name);
    if (newest && newest.version === this.definition.version && BigInt(newest.position) >= this.at) {
      this.checkpointedAt = BigInt(newest.position);
      return false;
    }
    const { name, version } = this.definition;
    const event: EventToAppend = {
      eventId: ids.next(),
      type: 'projection.checkpointed',
      data: { name, version, position: String(this.at), events: this.eventsFolded, state: this.folded },
      metadata: { actorId: projectionStream(name), actorKind: 'projection', sessionId: projectionStream(name), correlationId: projectionStream(name), causationId: null, recordedAt, machineVersion: version },
    };
    const result = await this.store.appendToStream(projectionStream(name), [event]);
    this.observe(result.recorded ?? []);
    if (result.nextExpectedRevision === 0n) await this.store.setStreamMetadata(projectionStream(name), { maxCount: RETENTION });
    this.checkpointedAt = this.at;
    return true;
  }

  private fold(event: RecordedEvent): boolean {
    if (event.position <= this.at) return false;
    this.folded = this.definition.evolve(this.folded, event);
    this.at = event.position;
    this.eventsFolded++;
    return true;
  }
}

/** Whether an append's events take exactly the positions right after `through`, one after another. */
function continues(batch: readonly RecordedEvent[], through: bigint): boolean {
  let expected = through + 1n;
  for (const event of batch) {
    if (event.position !== expected) return false;
    expected++;
  }
  return true;
}

interface CheckpointRecord {
  version: string;
  position: string;
  events: number;
  state: unknown;
}

async function newestCheckpoint(store: EventStore, name: string): Promise<CheckpointRecord | undefined> {
  try {
    for await (const event of store.readStream(projectionStream(name), { direction: 'backwards', maxCount: 1 })) return event.data as CheckpointRecord;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return undefined;
}
