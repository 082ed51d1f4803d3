import { createEventRegistry } from '../events/catalogue.ts';
import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { EMPTY_HEAD, planAppend, type AppendPlan, type ExistingEvent, type StreamHead } from './appendPlan.ts';
import { checkStreamAppends, type StreamAppend } from './multiStreamAppend.ts';
import { catchUpSubscription } from './catchUpSubscription.ts';
import { ChangeSignal } from './changeSignal.ts';
import { StoreUnavailableError, StreamDeletedError, StreamNotFoundError } from './errors.ts';
import type {
  AppendResult, EventLocation, EventStore, ExpectedState, ReadAllOptions, ReadStreamOptions, StreamMetadata, Subscription,
  SubscribeToAllOptions, SubscribeToStreamOptions,
} from './eventStore.ts';
import { allReadRange, streamReadRange, subscriptionStart } from './readSelection.ts';
import { decodeRecord, verifiedStreamRead, type StoredRecord } from './recordDecoder.ts';
import { firstReadableRevision, parseStreamMetadata } from './streamMetadata.ts';

interface Row extends StoredRecord {
  data: string;
  metadata: string;
  /** Truncated, deleted or past `$maxCount`: gone from every read, as after a KurrentDB scavenge. */
  hidden: boolean;
}

interface StreamEntry {
  head: StreamHead;
  metadata: StreamMetadata;
  /** In revision order, contiguous; a recreated stream's rows continue after its deleted ones. */
  rows: Row[];
}

const PAGE = 512;

/**
 * The in-process store for tests and the harness. It keeps events as JSON text and decodes them on every read,
 * exactly like the durable adapters, so code tested against it meets the same validation and hash checks.
 */
export class MemoryEventStore implements EventStore {
  private readonly all: Row[] = [];
  private readonly streams = new Map<string, StreamEntry>();
  private readonly byEventId = new Map<string, Row>();
  private readonly signal = new ChangeSignal();
  private readonly registry: EventRegistry;
  private closed = false;

  constructor(options: { registry?: EventRegistry } = {}) {
    this.registry = options.registry ?? createEventRegistry();
  }

  readonly atomicMultiStreamAppend = true;

  async appendToStream(streamId: string, events: readonly EventToAppend[], options: { expectedState?: ExpectedState } = {}): Promise<AppendResult> {
    const [result] = await this.appendToStreams([{ streamId, events, expectedState: options.expectedState }]);
    return result!;
  }

  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    this.assertOpen();
    checkStreamAppends(appends);
    // Plan every part before applying any, so a refusal anywhere leaves the store untouched.
    const plans = appends.map(({ streamId, events, expectedState }) => ({
      streamId,
      plan: planAppend({ streamId, head: this.streams.get(streamId)?.head ?? EMPTY_HEAD, expectedState: expectedState ?? 'any', events, registry: this.registry, findExisting: (ids) => this.findExisting(ids) }),
    }));
    const results = plans.map(({ streamId, plan }) => this.apply(streamId, plan));
    if (plans.some(({ plan }) => plan.kind === 'write' && plan.events.length > 0)) this.signal.notify();
    return results;
  }

  private findExisting(ids: string[]): Map<string, ExistingEvent> {
    const found = new Map<string, ExistingEvent>();
    for (const id of ids) {
      const row = this.byEventId.get(id);
      if (row) found.set(id, { streamId: row.streamId, revision: row.revision, position: row.position });
    }
    return found;
  }

  private apply(streamId: string, plan: AppendPlan): AppendResult {
    const entry = this.streams.get(streamId);
    if (plan.kind === 'noop') return plan.result;
    if (plan.events.length === 0) return { nextExpectedRevision: entry?.head.lastRevision ?? -1n, position: entry?.head.lastPosition ?? -1n };
    const stream = entry ?? { head: { ...EMPTY_HEAD }, metadata: {}, rows: [] };
    this.streams.set(streamId, stream);
    if (stream.head.status === 'soft-deleted') this.recreate(stream, plan.events[0]!.revision);
    const recorded: RecordedEvent[] = [];
    for (const event of plan.events) {
      const row: Row = {
        streamId, revision: event.revision, position: BigInt(this.all.length + 1), eventId: event.eventId, type: event.type,
        data: event.dataJson, metadata: event.metadataJson, hidden: false,
      };
      this.all.push(row);
      stream.rows.push(row);
      this.byEventId.set(row.eventId, row);
      recorded.push({ eventId: event.eventId, type: event.type, data: event.data, metadata: event.metadata, streamId, revision: event.revision, position: row.position });
    }
    const last = stream.rows[stream.rows.length - 1]!;
    stream.head = { lastRevision: last.revision, lastHash: plan.events[plan.events.length - 1]!.metadata.hash, lastPosition: last.position, status: 'live' };
    this.scavenge(stream);
    return { nextExpectedRevision: plan.nextExpectedRevision, position: last.position, recorded };
  }

  lastPosition(): bigint {
    this.assertOpen();
    return BigInt(this.all.length);
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const range = streamReadRange(options);
    return verifiedStreamRead(() => {
      this.assertOpen();
      const stream = this.readableStream(streamId);
      const visible = stream.rows.filter((row) => !row.hidden);
      const ordered = range.direction === 'forwards'
        ? visible.filter((row) => range.from === undefined || row.revision >= range.from)
        : visible.filter((row) => range.from === undefined || row.revision <= range.from).reverse();
      return ordered.slice(0, range.maxCount);
    }, range.direction, this.registry);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    const range = allReadRange(options);
    let remaining = range.maxCount;
    const forwards = range.direction === 'forwards';
    const start = forwards ? Number(range.from ?? 1n) - 1 : Math.min(this.all.length, Number(range.from ?? BigInt(this.all.length))) - 1;
    for (let i = Math.max(start, forwards ? 0 : -1); remaining > 0 && i >= 0 && i < this.all.length; i += forwards ? 1 : -1) {
      const row = this.all[i]!;
      if (row.hidden || !range.matches(row.streamId, row.type)) continue;
      remaining--;
      yield decodeRecord(row, this.registry);
    }
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    const range = allReadRange({ filter: options.filter });
    const startAfter = subscriptionStart('fromPosition', options.fromPosition, () => BigInt(this.all.length));
    return catchUpSubscription({
      signal: this.signal,
      startAfter,
      cursorOf: (event) => event.position,
      readPage: (after) => {
        const page: RecordedEvent[] = [];
        for (let i = Number(after ?? 0n); i < this.all.length && page.length < PAGE; i++) {
          const row = this.all[i]!;
          if (!row.hidden && range.matches(row.streamId, row.type)) page.push(decodeRecord(row, this.registry));
        }
        return page;
      },
    });
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    const startAfter = subscriptionStart('fromRevision', options.fromRevision, () => this.streams.get(streamId)?.head.lastRevision ?? -1n);
    return catchUpSubscription({
      signal: this.signal,
      startAfter,
      cursorOf: (event) => event.revision,
      readPage: (after) => {
        const stream = this.streams.get(streamId);
        if (stream?.head.status === 'tombstoned') throw new StreamDeletedError(streamId);
        if (!stream) return [];
        return stream.rows
          .filter((row) => !row.hidden && (after === undefined || row.revision > after))
          .slice(0, PAGE)
          .map((row) => decodeRecord(row, this.registry));
      },
    });
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    this.assertOpen();
    const parsed = parseStreamMetadata(streamId, metadata);
    const stream = this.streams.get(streamId) ?? { head: { ...EMPTY_HEAD }, metadata: {}, rows: [] };
    if (stream.head.status === 'tombstoned') throw new StreamDeletedError(streamId);
    stream.metadata = parsed;
    this.streams.set(streamId, stream);
    this.scavenge(stream);
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    const stream = this.streams.get(streamId);
    if (stream?.head.status === 'tombstoned') throw new StreamDeletedError(streamId);
    return { ...stream?.metadata };
  }

  async deleteStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    const stream = this.deletable(streamId, options.expectedState);
    stream.head = { ...stream.head, status: 'soft-deleted' };
    for (const row of stream.rows) row.hidden = true;
  }

  async tombstoneStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    const stream = this.streams.get(streamId) ?? { head: { ...EMPTY_HEAD }, metadata: {}, rows: [] };
    if (stream.head.lastRevision >= 0n) this.deletable(streamId, options.expectedState);
    stream.head = { ...stream.head, status: 'tombstoned' };
    for (const row of stream.rows) row.hidden = true;
    this.streams.set(streamId, stream);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.signal.close();
  }

  async locateInStream(streamId: string, from: bigint | 'start' | 'end'): Promise<EventLocation | undefined> {
    const stream = this.streams.get(streamId);
    if (!stream || stream.head.status !== 'live') return undefined;
    const visible = stream.rows.filter((row) => !row.hidden);
    const row = from === 'end' ? visible.at(-1) : visible.find((r) => from === 'start' || r.revision >= from);
    if (!row) return undefined;
    // Rows keep the metadata as written (JSON text); only the recorded time is needed from it.
    const { recordedAt } = JSON.parse(row.metadata as string) as { recordedAt: string };
    return { revision: row.revision, position: row.position, recordedAt };
  }

  private readableStream(streamId: string): StreamEntry {
    const stream = this.streams.get(streamId);
    if (stream?.head.status === 'tombstoned') throw new StreamDeletedError(streamId);
    if (!stream || stream.head.lastRevision < 0n || stream.head.status === 'soft-deleted') throw new StreamNotFoundError(streamId);
    return stream;
  }

  private deletable(streamId: string, expectedState: ExpectedState = 'any'): StreamEntry {
    const stream = this.readableStream(streamId);
    // An empty append checks the expected state with the same rules as a write.
    planAppend({ streamId, head: stream.head, expectedState, events: [], registry: this.registry, findExisting: () => new Map() });
    return stream;
  }

  /** A soft-deleted stream that is written again keeps only the new events, revisions continuing (KurrentDB). */
  private recreate(stream: StreamEntry, firstNewRevision: bigint): void {
    stream.metadata = { ...stream.metadata, truncateBefore: firstNewRevision };
  }

  private scavenge(stream: StreamEntry): void {
    const first = firstReadableRevision(stream.head.lastRevision, stream.metadata);
    for (const row of stream.rows) if (row.revision < first) row.hidden = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('This memory store is closed.');
  }
}
