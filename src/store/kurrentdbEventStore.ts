import {
  BACKWARDS, convertToCommandError, DeadlineExceededError, END, eventTypeFilter, excludeSystemEvents, jsonEvent, KurrentDBClient,
  NO_STREAM, START, StreamDeletedError as ClientStreamDeletedError, StreamNotFoundError as ClientStreamNotFoundError,
  streamNameFilter, StreamTombstonedError, TimeoutError, UnavailableError, WrongExpectedVersionError as ClientWrongExpectedVersionError,
  type AllStreamResolvedEvent, type EventData, type Filter, type JSONType, type ReadPosition, type ReadStreamOptions as ClientReadOptions,
  type ReadableSubscription, type ResolvedEvent, type StreamMetadata as ClientStreamMetadata, type StreamState,
} from '@kurrent/kurrentdb-client';
import { checkStreamAppends, type StreamAppend } from './multiStreamAppend.ts';
import { singleReaderSubscription } from './catchUpSubscription.ts';
import { createEventRegistry } from '../events/catalogue.ts';
import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { EMPTY_HEAD, planAppend, type ExistingEvent, type SealedEvent, type StreamHead } from './appendPlan.ts';
import { StoreUnavailableError, StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError } from './errors.ts';
import {
  collect, readStreamsConcurrently, type AllFilter, type AppendResult, type EventStore, type ExpectedState, type ReadAllOptions,
  type ReadStreamOptions, type ReadStreamsOptions, type StreamEvents, type StreamMetadata, type Subscription, type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
} from './eventStore.ts';
import { allReadRange, END_MARKER, prefixes, streamReadRange, subscriptionStart, type AllReadRange, type StreamReadRange } from './readSelection.ts';
import { decodeRecord, linkChecker, type StoredRecord } from './recordDecoder.ts';
import { parseStreamMetadata } from './streamMetadata.ts';

type AnyResolved = ResolvedEvent | AllStreamResolvedEvent;
/** What a subscription delivers for one resolved event: the event, or nothing for events it skips. */
type Decoded = RecordedEvent | undefined | Promise<RecordedEvent | undefined>;

/** Events per `$all` read request. */
const PAGE = 500;
/** A write pins the revision it read; this many lost races in a row and the caller hears about it. */
const MAX_ATTEMPTS = 5;

/**
 * The production store: a KurrentDB node or cluster through `@kurrent/kurrentdb-client`. KurrentDB keeps the
 * revisions, positions and concurrency checks; this adapter adds what KurrentDB does not know about, the hash
 * chain, by reading the stream head, sealing the batch on top of it with `planAppend`, and appending with that exact
 * revision as `streamState`, so a writer that slipped in between read and write makes the server refuse the batch.
 */
export class KurrentDbEventStore implements EventStore {
  readonly connectionString: string;
  private readonly client: KurrentDBClient;
  private readonly registry: EventRegistry;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(connectionString: string, options: { registry?: EventRegistry } = {}) {
    this.connectionString = connectionString;
    this.registry = options.registry ?? createEventRegistry();
    try {
      this.client = KurrentDBClient.connectionString(connectionString);
    } catch (error) {
      throw new StoreUnavailableError(`The KurrentDB connection string ${redact(connectionString)} is not usable: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The 1.x client has no multi-stream append, so parts go in order, each one atomic on its own. */
  readonly atomicMultiStreamAppend = false;

  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    checkStreamAppends(appends);
    const results: AppendResult[] = [];
    for (const { streamId, events, expectedState } of appends) results.push(await this.appendToStream(streamId, events, { expectedState }));
    return results;
  }

  async appendToStream(streamId: string, events: readonly EventToAppend[], options: { expectedState?: ExpectedState } = {}): Promise<AppendResult> {
    this.assertOpen();
    const expectedState = options.expectedState ?? 'any';
    return this.retryingConflicts(streamId, expectedState, () => this.appendOnce(streamId, events, expectedState));
  }

  private async appendOnce(streamId: string, events: readonly EventToAppend[], expectedState: ExpectedState): Promise<AppendResult> {
    // For `any` / `stream_exists` an earlier attempt at this batch can only be found among the newest events
    // (best effort, as in KurrentDB), so the read that finds the head also brings them.
    const loose = expectedState === 'any' || expectedState === 'stream_exists';
    const { head, tail } = await this.streamTail(streamId, loose ? Math.max(1, events.length) : 1);
    const window = loose ? undefined : replayWindow(head, expectedState, events.length);
    const recorded = recordedIds(streamId, window ? await this.readWindow(streamId, window) : tail);
    if (loose) await this.completeReplay(streamId, events, recorded);
    const plan = planAppend({
      streamId, head, expectedState, events, registry: this.registry,
      findExisting: (ids) => new Map(ids.flatMap((id) => { const found = recorded.get(id); return found ? [[id, found] as const] : []; })),
    });
    if (plan.kind === 'noop') return plan.result;
    if (plan.events.length === 0) return { nextExpectedRevision: head.lastRevision, position: head.lastPosition };
    return this.write(streamId, head, plan.events);
  }

  /**
   * When more events followed an earlier attempt at this batch, the newest events hold only part of it: read the
   * whole place it would occupy, so `planAppend` can tell a re-send (a no-op) from a reuse of ids (refused).
   */
  private async completeReplay(streamId: string, events: readonly EventToAppend[], recorded: Map<string, ExistingEvent>): Promise<void> {
    const index = events.findIndex((event) => recorded.has(event?.eventId));
    if (index === -1 || events.every((event) => recorded.has(event?.eventId))) return;
    const start = recorded.get(events[index]!.eventId)!.revision - BigInt(index);
    if (start < 0n) return;
    const place = await this.readWindow(streamId, { fromRevision: start, maxCount: events.length });
    for (const [id, existing] of recordedIds(streamId, place)) recorded.set(id, existing);
  }

  private async write(streamId: string, head: StreamHead, events: SealedEvent[]): Promise<AppendResult> {
    // The revision we sealed on, not the caller's expectation: the batch's first prevHash is that event's hash.
    const streamState: StreamState = head.lastRevision >= 0n ? head.lastRevision : NO_STREAM;
    const result = await this.client.appendToStream(streamId, events.map(toEventData), { streamState });
    if (!result.success) {
      // Only reached when the connection string sets throwOnAppendFailure=false.
      const current = result.nextExpectedRevision >= 0n ? result.nextExpectedRevision : NO_STREAM;
      throw new ClientWrongExpectedVersionError(undefined, { streamName: streamId, expected: streamState, current });
    }
    const position = result.position?.commit ?? (await this.positionAt(streamId, result.nextExpectedRevision));
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  /**
   * Re-runs `attempt` when the server refuses the revision we pinned. The next attempt reads the new head, so a
   * caller who asked for `any` or `stream_exists` simply goes on top of it, a caller who asked for an exact revision
   * or `no_stream` gets our `WrongExpectedVersionError` from `planAppend` (or a no-op, if the other writer wrote
   * this very batch), all with the same rules as the other adapters.
   */
  private async retryingConflicts<T>(streamId: string, expectedState: ExpectedState, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ClientWrongExpectedVersionError) || tries >= MAX_ATTEMPTS) throw this.storeError(error, streamId, expectedState);
      }
    }
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    const range = streamReadRange(options);
    const checkLink = linkChecker(range.direction);
    try {
      for await (const resolved of this.streamEvents(streamId, range)) {
        if (!resolved.event) continue;
        const event = decodeRecord(toStored(resolved), this.registry);
        checkLink(event);
        yield event;
      }
    } catch (error) {
      throw this.storeError(error, streamId);
    }
  }

  /**
   * Several streams read at once over the client's one connection (gRPC multiplexes them), yielded in the order
   * asked: read one after another, a replay of many streams waits out a server round trip for each.
   */
  readStreams(streamIds: readonly string[], options: ReadStreamsOptions = {}): AsyncIterable<StreamEvents> {
    return readStreamsConcurrently(this, streamIds, options);
  }

  private async *streamEvents(streamId: string, range: StreamReadRange): AsyncGenerator<ResolvedEvent> {
    // An empty read still answers whether the stream exists, as the other adapters do.
    const empty = range.maxCount === 0 || range.from === -1n || range.from === END_MARKER;
    const forwards = range.direction === 'forwards';
    const events = this.client.readStream(streamId, empty
      ? { direction: BACKWARDS, fromRevision: END, maxCount: 1 }
      : { direction: range.direction, fromRevision: range.from ?? (forwards ? START : END), ...finiteCount(range.maxCount) });
    for await (const resolved of events) if (!empty) yield resolved;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    const range = allReadRange(options);
    let remaining = range.maxCount;
    if (remaining === 0) return;
    const readable = this.readableNow();
    try {
      for await (const resolved of this.allEvents(range, serverFilter(options.filter))) {
        const stored = userRecord(resolved);
        if (!stored || !range.matches(stored.streamId, stored.type) || !(await readable(stored))) continue;
        yield decodeRecord(stored, this.registry);
        if (--remaining === 0) return;
      }
    } catch (error) {
      throw this.storeError(error);
    }
  }

  /**
   * `$all` in pages until a page brings nothing new: a filtered page may come back short before the end of the log,
   * and a reader that stops early leaves at most one page of work behind.
   */
  private async *allEvents(range: AllReadRange, filter: Filter): AsyncGenerator<AllStreamResolvedEvent> {
    if (range.from === -1n || range.from === END_MARKER) return;
    const forwards = range.direction === 'forwards';
    // KurrentDB reads backwards from strictly before a position; ours include the event at it.
    if (!forwards && range.from !== undefined) yield* this.eventAt(range.from);
    let from: ReadPosition = range.from === undefined ? (forwards ? START : END) : at(range.from);
    let seen: bigint | undefined;
    for (;;) {
      let fresh = 0;
      for await (const resolved of this.client.readAll({ direction: range.direction, fromPosition: from, maxCount: PAGE, filter })) {
        const position = positionOf(resolved);
        // A forwards page starts at (and so repeats) the last event of the page before.
        if (forwards && seen !== undefined && position <= seen) continue;
        seen = position;
        fresh++;
        yield resolved;
      }
      if (fresh === 0 || seen === undefined) return;
      from = at(seen);
    }
  }

  /** Unfiltered, so it reads exactly one record; the caller filters what it yields anyway. */
  private async *eventAt(position: bigint): AsyncGenerator<AllStreamResolvedEvent> {
    for await (const resolved of this.client.readAll({ fromPosition: at(position), maxCount: 1 })) {
      if (positionOf(resolved) === position) yield resolved;
    }
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.assertOpen();
    const range = allReadRange({ filter: options.filter });
    const from = options.fromPosition ?? 'start';
    subscriptionStart('fromPosition', from, () => 0n); // the same refusal as the other stores, before the server is asked
    const source = this.client.subscribeToAll({ fromPosition: typeof from === 'bigint' ? at(from) : from, filter: serverFilter(options.filter) });
    const readable = this.readableNow();
    return this.track(source, async (resolved) => {
      const stored = userRecord(resolved);
      return stored && range.matches(stored.streamId, stored.type) && (await readable(stored)) ? decodeRecord(stored, this.registry) : undefined;
    }, (error) => this.storeError(error));
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.assertOpen();
    subscriptionStart('fromRevision', options.fromRevision, () => 0n); // the same refusal as the other stores, before the server is asked
    const source = this.client.subscribeToStream(streamId, { fromRevision: options.fromRevision ?? 'start' });
    return this.track(source, (resolved) => {
      const stored = userRecord(resolved);
      return stored ? decodeRecord(stored, this.registry) : undefined;
    }, (error) => this.storeError(error, streamId));
  }

  private track<R>(source: ReadableSubscription<R>, decode: (resolved: R) => Decoded, fail: (error: unknown) => unknown): Subscription {
    const subscription: Subscription = clientSubscription(source, { decode, fail, onClose: () => this.subscriptions.delete(subscription) });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    this.assertOpen();
    const parsed = parseStreamMetadata(streamId, metadata);
    try {
      await this.client.setStreamMetadata(streamId, toKurrentMetadata(streamId, parsed));
    } catch (error) {
      throw this.storeError(error, streamId);
    }
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    this.assertOpen();
    try {
      return fromKurrentMetadata((await this.client.getStreamMetadata(streamId)).metadata);
    } catch (error) {
      throw this.storeError(error, streamId);
    }
  }

  async deleteStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    this.assertOpen();
    const expectedState = options.expectedState ?? 'any';
    await this.retryingConflicts(streamId, expectedState, async () => {
      const expectedRevision = this.deletableRevision(streamId, await this.headOf(streamId), expectedState, false);
      await this.client.deleteStream(streamId, { expectedRevision });
    });
  }

  async tombstoneStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    this.assertOpen();
    const expectedState = options.expectedState ?? 'any';
    await this.retryingConflicts(streamId, expectedState, async () => {
      const expectedRevision = this.deletableRevision(streamId, await this.headOf(streamId), expectedState, true);
      await this.client.tombstoneStream(streamId, { expectedRevision });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /**
   * The revision a delete pins, after the same checks as the other adapters: the stream must be readable and meet
   * `expectedState`; only a tombstone may hit a stream that was never written, and then regardless of expectation.
   */
  private deletableRevision(streamId: string, head: StreamHead, expectedState: ExpectedState, neverWrittenIsFine: boolean): StreamState {
    if (head.status === 'tombstoned') throw new StreamDeletedError(streamId);
    if (neverWrittenIsFine && head.lastRevision < 0n && head.status === 'live') return NO_STREAM;
    if (head.lastRevision < 0n || head.status === 'soft-deleted') throw new StreamNotFoundError(streamId);
    planAppend({ streamId, head, expectedState, events: [], registry: this.registry, findExisting: () => new Map() });
    return head.lastRevision;
  }

  private async headOf(streamId: string): Promise<StreamHead> {
    return (await this.streamTail(streamId, 1)).head;
  }

  /**
   * The stream's last event ever written, even when a soft delete or truncation hides it from stream reads, and
   * the newest `count` readable events, newest first.
   */
  private async streamTail(streamId: string, count: number): Promise<{ head: StreamHead; tail: ResolvedEvent[] }> {
    let tail: ResolvedEvent[];
    try {
      tail = await collect(this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: count }));
    } catch (error) {
      if (error instanceof ClientStreamDeletedError) return { head: { ...EMPTY_HEAD, status: 'tombstoned' }, tail: [] };
      if (!(error instanceof ClientStreamNotFoundError)) throw error;
      return { head: (await this.isSoftDeleted(streamId)) ? await this.hiddenHead(streamId, 'soft-deleted') : EMPTY_HEAD, tail: [] };
    }
    const last = tail[0];
    return { head: last?.event ? this.headFrom(last, 'live') : await this.hiddenHead(streamId, 'live'), tail };
  }

  /**
   * `$all` keeps events that truncation, `$maxCount` or a delete made unreadable until a scavenge removes them; the
   * other adapters never return those, so neither does this one. Each stream's first readable revision is looked up
   * once per read or subscription; events written later are above it and stay readable.
   */
  private readableNow(): (record: StoredRecord) => Promise<boolean> {
    const firstReadable = new Map<string, Promise<bigint>>();
    return async (record) => {
      let first = firstReadable.get(record.streamId);
      if (!first) {
        // A subscription can run for weeks over many streams; forgetting only costs a lookup again.
        if (firstReadable.size >= 10_000) firstReadable.clear();
        first = this.firstReadableRevision(record.streamId);
        firstReadable.set(record.streamId, first);
      }
      return record.revision >= (await first);
    };
  }

  private async firstReadableRevision(streamId: string): Promise<bigint> {
    try {
      const [first] = await collect(this.client.readStream(streamId, { fromRevision: START, maxCount: 1 }));
      if (first?.event) return first.event.revision;
      const { metadata } = await this.client.getStreamMetadata(streamId);
      return fromKurrentMetadata(metadata).truncateBefore ?? END_MARKER;
    } catch (error) {
      if (error instanceof ClientStreamDeletedError) return END_MARKER;
      if (!(error instanceof ClientStreamNotFoundError)) throw error;
      // Soft-deleted: all of it is gone, and a recreation continues after its last event.
      return (await this.hiddenHead(streamId, 'soft-deleted')).lastRevision + 1n;
    }
  }

  private async isSoftDeleted(streamId: string): Promise<boolean> {
    const { metadata } = await this.client.getStreamMetadata(streamId);
    return isDeletedMarker(metadata?.truncateBefore);
  }

  /**
   * A soft-deleted or fully truncated stream answers stream reads with nothing, but its events stay in `$all` (a
   * scavenge keeps at least the last one), and the hash chain continues from the last of them.
   */
  private async hiddenHead(streamId: string, status: StreamHead['status']): Promise<StreamHead> {
    const filter = streamNameFilter({ regex: `^${escapeRegex(streamId)}$` });
    const [last] = await collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter }));
    return last?.event ? this.headFrom(last, status) : { ...EMPTY_HEAD, status };
  }

  private headFrom(resolved: AnyResolved, status: StreamHead['status']): StreamHead {
    const event = decodeRecord(toStored(resolved), this.registry);
    return { lastRevision: event.revision, lastHash: event.metadata.hash, lastPosition: event.position, status };
  }

  private async readWindow(streamId: string, window: ClientReadOptions): Promise<ResolvedEvent[]> {
    try {
      return await collect(this.client.readStream(streamId, window));
    } catch (error) {
      if (error instanceof ClientStreamNotFoundError) return [];
      throw error;
    }
  }

  /** Where an append landed when the server's reply carries no position (an idempotent re-send). */
  private async positionAt(streamId: string, revision: bigint): Promise<bigint> {
    const [resolved] = await collect(this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 }));
    return resolved ? positionOf(resolved) : -1n;
  }

  /** Turns the client's errors into the port's; anything else (ours, schema errors) passes through unchanged. */
  private storeError(error: unknown, streamId?: string, expectedState: ExpectedState = 'any'): unknown {
    if (error instanceof ClientWrongExpectedVersionError) return new WrongExpectedVersionError(streamId ?? error.streamName, expectedState, error.actualState);
    if (error instanceof ClientStreamDeletedError) return new StreamDeletedError(streamId ?? error.streamName);
    if (error instanceof StreamTombstonedError) return new StreamDeletedError(streamId ?? error.stream);
    if (error instanceof ClientStreamNotFoundError) return new StreamNotFoundError(streamId ?? error.streamName);
    if (isUnreachable(error)) {
      return new StoreUnavailableError(`KurrentDB at ${redact(this.connectionString)} cannot be reached (${(error as Error).message}). ` +
        'Is the server running? `docker compose up -d` starts a local node for kurrentdb://localhost:2113?tls=false.', { cause: error });
    }
    return error;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`The KurrentDB store at ${redact(this.connectionString)} is closed.`);
  }
}

/**
 * Where an earlier attempt at this batch would sit, if it was written, under an exact revision or `no_stream`:
 * right after the expected revision, or at the start of the stream.
 */
function replayWindow(head: StreamHead, expected: ExpectedState, size: number): ClientReadOptions | undefined {
  if (size === 0 || head.lastRevision < 0n || head.status !== 'live') return undefined;
  if (expected === 'no_stream') return { fromRevision: START, maxCount: size };
  if (typeof expected === 'bigint' && expected >= -1n && expected < head.lastRevision) return { fromRevision: expected + 1n, maxCount: size };
  return undefined;
}

function recordedIds(streamId: string, events: ResolvedEvent[]): Map<string, ExistingEvent> {
  const found = new Map<string, ExistingEvent>();
  for (const resolved of events) {
    if (resolved.event) found.set(resolved.event.id, { streamId, revision: resolved.event.revision, position: positionOf(resolved) });
  }
  return found;
}

/**
 * A client subscription as our `Subscription`. The client reports a dropped subscription as an 'error' event that
 * may come before anyone iterates, and does not end a pending read when unsubscribed; both are raced here, so
 * `stop()` always ends a pending `next()` and a failure always reaches the reader.
 */
function clientSubscription<R>(source: ReadableSubscription<R>, options: {
  decode: (resolved: R) => Decoded;
  fail: (error: unknown) => unknown;
  onClose: () => void;
}): Subscription {
  const abort = new AbortController();
  let failure: { error: unknown } | undefined;
  const interrupted = new Promise<undefined>((resolve) => {
    abort.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    source.on('error', (error) => {
      failure ??= { error };
      resolve(undefined);
    });
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= source.unsubscribe().catch(() => undefined).then(() => {
    source.destroy();
    options.onClose();
  }));

  async function* events(): AsyncGenerator<RecordedEvent> {
    const iterator = source[Symbol.asyncIterator]();
    try {
      while (!abort.signal.aborted) {
        if (failure) throw failure.error;
        const next = iterator.next();
        next.catch(() => undefined);
        const step = await Promise.race([next, interrupted]);
        if (step === undefined) continue;
        if (step.done) return;
        const event = await options.decode(step.value);
        if (event) yield event;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw options.fail(error);
    } finally {
      await close();
    }
  }

  return singleReaderSubscription(events(), async () => {
    abort.abort();
    await close();
  });
}

/** One server-side filter narrows the scan (KurrentDB takes one); every filter is applied again on this side. */
function serverFilter(filter: AllFilter | undefined): Filter {
  const streams = prefixes(filter?.streamNamePrefix);
  if (streams) return streamNameFilter({ prefixes: streams });
  const types = prefixes(filter?.eventTypePrefix);
  if (types) return eventTypeFilter({ prefixes: types });
  return excludeSystemEvents();
}

/** Our events only: no `$` streams (metadata, projections, stats) and no `$` types (tombstones, links). */
function userRecord(resolved: AnyResolved): StoredRecord | undefined {
  const event = resolved.event;
  if (!event || event.streamId.startsWith('$') || event.type.startsWith('$')) return undefined;
  return toStored(resolved);
}

function toStored(resolved: AnyResolved): StoredRecord {
  const event = resolved.event!;
  return {
    streamId: event.streamId, revision: event.revision, position: positionOf(resolved), eventId: event.id, type: event.type,
    // The client hands back unparseable JSON as text and binary content as bytes; as text the decoder reports it.
    data: event.isJson ? event.data : text(event.data),
    metadata: event.metadata instanceof Uint8Array ? text(event.metadata) : event.metadata,
  };
}

function toEventData(event: SealedEvent): EventData {
  return jsonEvent({ id: event.eventId, type: event.type, data: event.data as JSONType, metadata: event.metadata });
}

function positionOf(resolved: AnyResolved): bigint {
  return resolved.event?.position?.commit ?? resolved.commitPosition ?? -1n;
}

/** Our positions are commit positions; an event written by a gRPC append has the same commit and prepare position. */
function at(position: bigint): { commit: bigint; prepare: bigint } {
  return { commit: position, prepare: position };
}

function finiteCount(maxCount: number): { maxCount?: number } {
  return Number.isFinite(maxCount) ? { maxCount } : {};
}

function toKurrentMetadata(streamId: string, metadata: StreamMetadata): ClientStreamMetadata {
  const result: ClientStreamMetadata = {};
  if (metadata.maxCount !== undefined) result.maxCount = metadata.maxCount;
  if (metadata.truncateBefore !== undefined) {
    // The client writes `$tb` as a JSON number, so beyond 2^53 it would silently round.
    if (metadata.truncateBefore > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`Stream metadata for "${streamId}": truncateBefore ${metadata.truncateBefore} is beyond what KurrentDB's client can write exactly (${Number.MAX_SAFE_INTEGER}).`);
    }
    result.truncateBefore = Number(metadata.truncateBefore);
  }
  return result;
}

function fromKurrentMetadata(metadata: ClientStreamMetadata | undefined): StreamMetadata {
  const result: StreamMetadata = {};
  if (Number.isSafeInteger(metadata?.maxCount) && metadata!.maxCount! > 0) result.maxCount = metadata!.maxCount!;
  const truncateBefore = metadata?.truncateBefore;
  // The soft-delete marker is not a truncation the caller set, so it is not reported as one.
  if (typeof truncateBefore === 'number' && Number.isSafeInteger(truncateBefore) && truncateBefore >= 0) result.truncateBefore = BigInt(truncateBefore);
  return result;
}

/** A soft delete sets `$tb` to long.MaxValue, which JSON parsing turns into a number past 2^53. */
function isDeletedMarker(truncateBefore: unknown): boolean {
  return typeof truncateBefore === 'number' && truncateBefore > Number.MAX_SAFE_INTEGER;
}

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const converted = convertToCommandError(error);
  return converted instanceof UnavailableError || converted instanceof DeadlineExceededError || converted instanceof TimeoutError ||
    /Failed to discover/.test(error.message);
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

/** Keeps credentials out of error messages and logs. */
function redact(connectionString: string): string {
  return connectionString.replace(/\/\/[^@/]*@/, '//***@');
}
