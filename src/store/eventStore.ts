import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import { StreamNotFoundError } from './errors.ts';
import type { StreamAppend } from './multiStreamAppend.ts';

export type { StreamAppend } from './multiStreamAppend.ts';

/**
 * The one interface Chronicle writes and reads events through (ARCHITECTURE.md §7), with KurrentDB's semantics:
 * memory, sqlite and kurrentdb adapters all pass the same contract suite (test/store/contract.ts).
 */
export type ExpectedState = 'any' | 'no_stream' | 'stream_exists' | bigint;
export const ANY = 'any';
export const NO_STREAM = 'no_stream';
export const STREAM_EXISTS = 'stream_exists';

export interface AppendResult {
  /** The revision of the stream's last event: pass it as `expectedState` for the next append. */
  nextExpectedRevision: bigint;
  /** Global position of the batch's last event. */
  position: bigint;
  /**
   * The batch as recorded (sealed, with revisions and positions), where the store has it at hand (memory, sqlite),
   * so a writer that folds what it wrote need not read it back. Absent for a no-op re-send and where the store
   * does not return it (KurrentDB).
   */
  recorded?: RecordedEvent[];
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Inclusive; `start` (default forwards) or `end` (default backwards). */
  fromRevision?: bigint | 'start' | 'end';
  direction?: Direction;
  maxCount?: number;
}

export interface AllFilter {
  /** Keep events whose stream name starts with any of these, e.g. `session-`. */
  streamNamePrefix?: string | string[];
  /** Keep events whose type starts with any of these, e.g. `model.`. */
  eventTypePrefix?: string | string[];
}

export interface ReadAllOptions {
  /** Inclusive; `start` (default forwards) or `end` (default backwards). */
  fromPosition?: bigint | 'start' | 'end';
  direction?: Direction;
  maxCount?: number;
  filter?: AllFilter;
}

export interface SubscribeToAllOptions {
  /** Exclusive, as in KurrentDB: `start` delivers everything, a position delivers what comes after it, `end` only new events. */
  fromPosition?: bigint | 'start' | 'end';
  filter?: AllFilter;
}

export interface SubscribeToStreamOptions {
  /** Exclusive: `start` delivers the whole stream, a revision delivers what comes after it, `end` only new events. */
  fromRevision?: bigint | 'start' | 'end';
}

/**
 * Catch-up, then live, in order, each event once. Iterate it with `for await`; `stop()` ends the iteration
 * (the pending `next()` resolves as done). A subscriber that reads slowly falls behind and catches up without loss.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  stop(): Promise<void>;
}

export interface EventLocation {
  revision: bigint;
  position: bigint;
  /** The event's `metadata.recordedAt`. */
  recordedAt: string;
}

export interface StreamMetadata {
  /** Keep only the newest N events readable (KurrentDB `$maxCount`). */
  maxCount?: number;
  /** Events with a lower revision are not readable (KurrentDB `$tb`). */
  truncateBefore?: bigint;
}

export interface ReadStreamsOptions {
  /** Pass over a stream with no readable history (never written, or soft-deleted) instead of throwing. */
  skipMissing?: boolean;
}

/** One stream's events, read whole. */
export interface StreamEvents {
  streamId: string;
  events: RecordedEvent[];
}

export interface EventStore {
  /** Appends all of `events` or none of them. Throws `WrongExpectedVersionError` when `expectedState` does not hold. */
  appendToStream(streamId: string, events: readonly EventToAppend[], options?: { expectedState?: ExpectedState }): Promise<AppendResult>;
  /**
   * Appends to several streams in one all-or-nothing step (memory, sqlite); each part has its own expected state.
   * Stores that cannot do that atomically (KurrentDB) say so with `atomicMultiStreamAppend: false` and append the
   * parts in order, each part still all-or-nothing.
   */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  readonly atomicMultiStreamAppend: boolean;
  /** Throws `StreamNotFoundError` when the stream has no readable history, `StreamDeletedError` when tombstoned. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /**
   * Where one readable event of a stream sits, without decoding or verifying it: the first at or after a revision
   * (`'start'`: the first readable), or the last (`'end'`); undefined when there is none. Optional: a store that
   * cannot answer it more cheaply than `readStream` leaves it out. For searching long streams (checkpoints), whose
   * find is then read, and verified, with `readStream`.
   */
  locateInStream?(streamId: string, from: bigint | 'start' | 'end'): Promise<EventLocation | undefined>;
  /**
   * Many whole streams read forwards, each stream's events yielded together in the order asked, with the checks and
   * errors of `readStream` (a stream with no readable history throws `StreamNotFoundError` when its turn comes).
   * Optional: a store that can read ahead of its reader offers it (SQLite, on a thread of its own); callers use
   * `readWholeStreams`, which falls back to one `readStream` after another. As from every read, the events are the
   * reader's own objects, decoded for it (a replay folds their data in place).
   */
  readStreams?(streamIds: readonly string[], options?: ReadStreamsOptions): AsyncIterable<StreamEvents>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The newest position written (0 for an empty log); nothing is ever written at or below it again. Optional: a
   * store that cannot tell it cheaply leaves it out. Lets a reader that is caught up skip a read that would be empty.
   */
  lastPosition?(): bigint | Promise<bigint>;
  /**
   * What reading every event cannot show (`verify`): damage to the store's own structures, one line per problem.
   * Optional: a store with nothing to add leaves it out (SQLite checks its file and each stream's recorded head).
   */
  checkIntegrity?(): string[] | Promise<string[]>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;
  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription;
  setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void>;
  getStreamMetadata(streamId: string): Promise<StreamMetadata>;
  /** Soft delete: reads answer `StreamNotFoundError`; a later append recreates the stream, revisions continuing. */
  deleteStream(streamId: string, options?: { expectedState?: ExpectedState }): Promise<void>;
  /** Hard delete: the stream can never be read or written again. */
  tombstoneStream(streamId: string, options?: { expectedState?: ExpectedState }): Promise<void>;
  /** Releases files, connections and subscriptions. */
  close(): Promise<void>;
}

/**
 * Whether a stream may have readable events: false only when the store can tell cheaply (`locateInStream`) that
 * it has none, so a writer about to create a stream skips a read that would only end in `StreamNotFoundError`.
 */
export async function mayHaveEvents(store: EventStore, streamId: string): Promise<boolean> {
  return store.locateInStream === undefined || (await store.locateInStream(streamId, 'end')) !== undefined;
}

/**
 * A read a store answers with one query (SQLite, memory): iterated, it decodes and yields one event at a time like
 * any read; collected, it decodes every event in one synchronous pass, without a promise per event (about 0.5 µs
 * each in a replay). The query runs when the read is first consumed, not when it is made, as a generator's would.
 */
export class BufferedRead<Row> implements AsyncIterable<RecordedEvent> {
  readonly #fetch: () => readonly Row[];
  readonly #decoder: () => (row: Row) => RecordedEvent;

  /** `decoder` makes a fresh decoding function per pass: it may keep state between rows (the hash-chain link). */
  constructor(fetch: () => readonly Row[], decoder: () => (row: Row) => RecordedEvent) {
    this.#fetch = fetch;
    this.#decoder = decoder;
  }

  all(): RecordedEvent[] {
    const rows = this.#fetch();
    const decode = this.#decoder();
    const events = new Array<RecordedEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) events[i] = decode(rows[i]!);
    return events;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
    const rows = this.#fetch();
    const decode = this.#decoder();
    for (const row of rows) yield decode(row);
  }
}

/**
 * Each stream's events, whole, in the order asked: read ahead where the store can (`EventStore.readStreams`), else one
 * `readStream` after another.
 */
export function readWholeStreams(store: EventStore, streamIds: readonly string[], options: ReadStreamsOptions = {}): AsyncIterable<StreamEvents> {
  return store.readStreams !== undefined ? store.readStreams(streamIds, options) : readStreamsInTurn(store, streamIds, options);
}

/**
 * Many whole streams, one `readStream` after another (the next begun only when the reader asks for it): for stores
 * without `readStreams`, and small reads of those with it.
 */
export function readStreamsInTurn(store: Pick<EventStore, 'readStream'>, streamIds: readonly string[], options: ReadStreamsOptions = {}): AsyncGenerator<StreamEvents> {
  return readStreamsConcurrently(store, streamIds, { ...options, inFlight: 1 });
}

/**
 * Many whole streams, up to `inFlight` of them being read at once, yielded in the order asked: for a store whose
 * `readStream` waits on a network round trip (KurrentDB), where one read after another spends most of a replay
 * waiting. The same checks, errors and order as `readStreamsInTurn`: a stream's error is thrown when its turn comes,
 * and reads already started past it are dropped (their errors too). At most `inFlight` whole streams are held.
 */
export async function* readStreamsConcurrently(
  store: Pick<EventStore, 'readStream'>,
  streamIds: readonly string[],
  options: ReadStreamsOptions & { inFlight?: number } = {},
): AsyncGenerator<StreamEvents> {
  const inFlight = Math.max(1, options.inFlight ?? 8);
  const reads: Promise<RecordedEvent[] | undefined>[] = [];
  let started = 0;
  const start = (streamId: string) => {
    // Called inside the async function, so a store that refuses at once (closed) rejects this read like any other.
    const read = (async () => collect(store.readStream(streamId)))().catch((error: unknown) => {
      if (options.skipMissing && error instanceof StreamNotFoundError) return undefined;
      throw error;
    });
    // Handled here too, so a read dropped after an earlier stream failed (or the reader stopped) is not reported as unhandled.
    read.catch(() => {});
    reads.push(read);
  };
  for (const streamId of streamIds) {
    while (started < streamIds.length && reads.length < inFlight) start(streamIds[started++]!);
    const events = await reads.shift()!;
    if (events !== undefined) yield { streamId, events };
  }
}

/** Collects an async iterable into an array; for tests, small streams and the CLI. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  if (iterable instanceof BufferedRead) return iterable.all() as T[];
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
