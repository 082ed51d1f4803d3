import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { createEventRegistry } from '../events/catalogue.ts';
import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { GENESIS_HASH } from '../events/hashChain.ts';
import { EMPTY_HEAD, planAppend, type AppendPlan, type ExistingEvent, type StreamHead } from './appendPlan.ts';
import { catchUpSubscription } from './catchUpSubscription.ts';
import { checkStreamAppends, type StreamAppend } from './multiStreamAppend.ts';
import { ChangeSignal } from './changeSignal.ts';
import { DuplicateEventIdError, StoreUnavailableError, StreamDeletedError, StreamNotFoundError } from './errors.ts';
import {
  readStreamsInTurn, type AppendResult, type EventLocation, type EventStore, type ExpectedState, type ReadAllOptions, type ReadStreamOptions, type ReadStreamsOptions,
  type StreamEvents, type StreamMetadata, type Subscription, type SubscribeToAllOptions, type SubscribeToStreamOptions,
} from './eventStore.ts';
import { ReadAhead, ReadAheadStopped } from './readAhead.ts';
import { allReadRange, END_MARKER, prefixes, streamReadRange, subscriptionStart } from './readSelection.ts';
import { decodeRecord, verifiedStreamRead, type StoredRecord } from './recordDecoder.ts';
import { sqliteFailure } from './sqliteFailure.ts';
import { SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION } from './sqliteSchema.ts';
import { firstReadableRevision, parseStreamMetadata } from './streamMetadata.ts';
import { WalCheckpointer } from './walCheckpointer.ts';

export interface SqliteStoreOptions {
  registry?: EventRegistry;
  /** `normal` (default) survives a process crash; `full` also survives power loss, at a write-speed cost. */
  synchronous?: 'normal' | 'full';
  /** How long a writer waits for another process's transaction before giving up (ms). */
  busyTimeoutMs?: number;
  /** How often subscriptions look for appends made by other processes (ms). */
  pollMs?: number;
  /**
   * A size cap for the database (its pages; the -wal file comes on top until a checkpoint): an append that would grow
   * it beyond fails with a "store is full" error and writes nothing. For a store on a shared or small volume.
   */
  maxBytes?: number;
  /**
   * Whether a thread of the store's own copies the write-ahead log back into the database, rather than the COMMIT
   * that fills it (see `WalCheckpointer`). Off, the store checkpoints exactly as SQLite does by default. Default: on,
   * except for a store with `maxBytes`: under constant writing the thread lets the log grow to ~40 MB before it
   * starts afresh, SQLite's default to ~4 MB, and a capped store is one on a volume where that difference may matter.
   */
  backgroundCheckpoints?: boolean;
  /**
   * `readStreams` of at least this many events reads ahead on a thread of the store's own (`ReadAhead`); smaller
   * reads, and every read of a store not in a plain file, read on the caller's thread. Starting the thread costs
   * ~50 ms once (~75 ms from the TypeScript sources), about what reading ahead saves over 10 000 events (~5 µs
   * each), so a first read that size takes about as long either way and every later one gains. Default 10 000;
   * `Infinity` never starts it.
   */
  readAheadMinEvents?: number;
}

interface StreamRow {
  last_revision: bigint;
  last_hash: string;
  last_position: bigint;
  status: StreamHead['status'];
  max_count: bigint | null;
  truncate_before: bigint | null;
}

/** An events row as an array in `COLUMNS` order: arrays are cheaper to build than keyed objects on hot reads. */
type EventRow = [position: bigint, streamId: string, revision: bigint, eventId: string, type: string, data: string, metadata: string];

const PAGE = 1000;
const READ_AHEAD_MIN_EVENTS = 10_000;
const COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata';
/** A stream read names its stream: reading the id back from every row would cost a string per event for nothing. */
type StreamEventRow = [position: bigint, revision: bigint, eventId: string, type: string, data: string, metadata: string];
const STREAM_COLUMNS = 'position, revision, event_id, type, data, metadata';

/**
 * The embedded default store: one SQLite file in WAL mode through `node:sqlite`. Every append is one
 * `BEGIN IMMEDIATE` transaction, so two processes on one file serialise, and the loser of a race sees the
 * winner's head and fails its expected-state check: exactly one of two conflicting appends wins.
 */
export class SqliteEventStore implements EventStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly registry: EventRegistry;
  private readonly signal = new ChangeSignal();
  private readonly pollMs: number;
  private readonly maxBytes: number | undefined;
  private readonly statements: ReturnType<SqliteEventStore['prepare']>;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly readAhead: ReadAhead | undefined;
  private readonly readAheadMinEvents: number;
  /** Set when the read-ahead thread failed: later reads stay on the caller's thread. */
  private readAheadFailed = false;
  /** The bytes of event data the transaction in progress has written; the checkpointer hears of them on commit. */
  private bytesInTransaction = 0;
  private closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.registry = options.registry ?? createEventRegistry();
    this.pollMs = options.pollMs ?? 100;
    if (options.maxBytes !== undefined && (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0)) {
      throw new RangeError(`maxBytes must be a positive whole number of bytes, not ${options.maxBytes}`);
    }
    this.maxBytes = options.maxBytes;
    if (path !== ':memory:') {
      if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw directoryIsNoStore(path);
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        // A parent that is a file, or a directory that refuses: said in the store's terms, not as a stack.
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'part of that path is a file, not a directory' : (error as Error).message;
        throw new StoreUnavailableError(`The SQLite store at ${path} cannot be opened: its directory ${dirname(path)} cannot be made (${why}). Nothing was written. To fix: choose another path with --store or CHRONICLE_STORE.`, { cause: error, reason: 'unopenable', storePath: path });
      }
    }
    try {
      this.db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 10_000 });
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      if (this.maxBytes !== undefined) this.capSize(this.maxBytes);
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec(SQLITE_SCHEMA);
      this.db.prepare('INSERT OR IGNORE INTO chronicle_schema (key, value) VALUES (?, ?)').run('version', String(SQLITE_SCHEMA_VERSION));
      this.db.exec('COMMIT');
    } catch (error) {
      throw sqliteFailure(error, { path, action: 'open', maxBytes: this.maxBytes })
        ?? new StoreUnavailableError(`Cannot open the SQLite store at ${path}: ${(error as Error).message}`, { cause: error, storePath: path });
    }
    const version = this.db.prepare('SELECT value FROM chronicle_schema WHERE key = ?').get('version') as { value: string } | undefined;
    if (version?.value !== String(SQLITE_SCHEMA_VERSION)) {
      throw new StoreUnavailableError(`The SQLite store at ${path} has schema version ${version?.value}; this build reads version ${SQLITE_SCHEMA_VERSION}.`);
    }
    this.statements = this.prepare();
    if ((options.backgroundCheckpoints ?? this.maxBytes === undefined) && isPlainFile(path)) this.checkpointer = new WalCheckpointer(this.db, path);
    this.readAheadMinEvents = options.readAheadMinEvents ?? READ_AHEAD_MIN_EVENTS;
    if (isPlainFile(path) && Number.isFinite(this.readAheadMinEvents)) this.readAhead = new ReadAhead(path, this.registry);
  }

  private prepare() {
    const bigints = (statement: StatementSync) => {
      statement.setReadBigInts(true);
      return statement;
    };
    const eventRows = (statement: StatementSync) => {
      bigints(statement).setReturnArrays(true);
      return statement;
    };
    return {
      head: bigints(this.db.prepare('SELECT last_revision, last_hash, last_position, status, max_count, truncate_before FROM streams WHERE stream_id = ?')),
      existing: bigints(this.db.prepare('SELECT event_id, stream_id, revision, position FROM events WHERE event_id IN (SELECT value FROM json_each(?))')),
      insert: bigints(this.db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)')),
      upsertHead: this.db.prepare(`INSERT INTO streams (stream_id, last_revision, last_hash, last_position, status) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (stream_id) DO UPDATE SET last_revision = excluded.last_revision, last_hash = excluded.last_hash,
        last_position = excluded.last_position, status = excluded.status`),
      setMetadata: this.db.prepare(`INSERT INTO streams (stream_id, last_revision, last_hash, last_position, status, max_count, truncate_before)
        VALUES (?, -1, '${GENESIS_HASH}', -1, 'live', ?, ?)
        ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count, truncate_before = excluded.truncate_before`),
      setStatus: this.db.prepare('UPDATE streams SET status = ? WHERE stream_id = ?'),
      scavenge: this.db.prepare('DELETE FROM events WHERE stream_id = ? AND revision < ?'),
      streamForwards: eventRows(this.db.prepare(`SELECT ${STREAM_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`)),
      streamBackwards: eventRows(this.db.prepare(`SELECT ${STREAM_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)),
      locateFrom: bigints(this.db.prepare('SELECT revision, position, recorded_at FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT 1')),
      locateLast: bigints(this.db.prepare('SELECT revision, position, recorded_at FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1')),
      allForwards: eventRows(this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?`)),
      allBackwards: eventRows(this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`)),
      eventsIn: bigints(this.db.prepare('SELECT COALESCE(SUM(last_revision + 1), 0) AS events FROM streams WHERE stream_id IN (SELECT value FROM json_each(?))')),
      lastPosition: bigints(this.db.prepare('SELECT COALESCE(MAX(position), 0) AS position FROM events')),
    };
  }

  readonly atomicMultiStreamAppend = true;

  async appendToStream(streamId: string, events: readonly EventToAppend[], options: { expectedState?: ExpectedState } = {}): Promise<AppendResult> {
    const [result] = await this.appendToStreams([{ streamId, events, expectedState: options.expectedState }]);
    return result!;
  }

  /** Every part in one `BEGIN IMMEDIATE` transaction: the whole append commits or none of it does. */
  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    checkStreamAppends(appends);
    let results: AppendResult[];
    try {
      results = this.inTransaction(() => appends.map(({ streamId, events, expectedState }) => {
        const row = this.statements.head.get(streamId) as StreamRow | undefined;
        const head = row ? toHead(row) : EMPTY_HEAD;
        const plan = planAppend({
          streamId, head, expectedState: expectedState ?? 'any', events, registry: this.registry,
          // At exactly the head, the batch cannot be a re-send of one already written (that would have moved the
          // head), so there is nothing to look up: an id already used elsewhere is refused by the unique index.
          findExisting: (ids) => (atHead(head, expectedState) ? new Map() : this.findExisting(ids)),
        });
        return this.applyPlan(streamId, head, row, plan);
      }));
    } catch (error) {
      throw this.duplicateIdError(error, appends) ?? error;
    }
    this.signal.notify();
    return results;
  }

  /** The unique index refused an event id (the transaction is rolled back): say which, and where it is recorded. */
  private duplicateIdError(error: unknown, appends: readonly StreamAppend[]): DuplicateEventIdError | undefined {
    if (!/UNIQUE constraint failed: events\.event_id/.test((error as Error)?.message ?? '')) return undefined;
    for (const { streamId, events } of appends) {
      const existing = this.findExisting(events.map((e) => e.eventId));
      const [id, where] = existing.entries().next().value ?? [];
      if (id !== undefined && where !== undefined) return new DuplicateEventIdError(id, streamId, `in stream "${where.streamId}" at revision ${where.revision}`, { streamId: where.streamId, revision: where.revision });
    }
    return undefined;
  }

  private applyPlan(streamId: string, head: StreamHead, row: StreamRow | undefined, plan: AppendPlan): AppendResult {
    if (plan.kind === 'noop') return plan.result;
    if (plan.events.length === 0) return { nextExpectedRevision: head.lastRevision, position: head.lastPosition };
    let position = -1n;
    const recorded: RecordedEvent[] = [];
    for (const event of plan.events) {
      const inserted = this.statements.insert.run(
        streamId, event.revision, event.eventId, event.type, event.dataJson, event.metadataJson, event.metadata.recordedAt,
      );
      position = BigInt(inserted.lastInsertRowid);
      this.bytesInTransaction += event.dataJson.length + event.metadataJson.length;
      recorded.push({ eventId: event.eventId, type: event.type, data: event.data, metadata: event.metadata, streamId, revision: event.revision, position });
    }
    const last = plan.events[plan.events.length - 1]!;
    this.statements.upsertHead.run(streamId, last.revision, last.metadata.hash, position, 'live');
    const metadata = row ? toMetadata(row) : {};
    if (head.status === 'soft-deleted') {
      // Written again after a soft delete: only the new events are readable, revisions continue (KurrentDB).
      metadata.truncateBefore = plan.events[0]!.revision;
      this.statements.setMetadata.run(streamId, metadata.maxCount ?? null, metadata.truncateBefore);
    }
    this.scavenge(streamId, last.revision, metadata);
    return { nextExpectedRevision: plan.nextExpectedRevision, position, recorded };
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const range = streamReadRange(options);
    return verifiedStreamRead(() => {
      this.assertReadable();
      // One statement for the whole read: a read split into pages could see a scavenge between them.
      const rows = (range.direction === 'forwards'
        ? this.statements.streamForwards.all(streamId, range.from ?? 0n, limit(range.maxCount))
        : this.statements.streamBackwards.all(streamId, range.from ?? END_MARKER - 1n, limit(range.maxCount))) as unknown as StreamEventRow[];
      // Deleted and never-written streams have no rows, so only an empty read needs the head to tell them apart.
      if (rows.length === 0) this.readableHead(streamId);
      return rows.map((row) => toStreamRecord(streamId, row));
    }, range.direction, this.registry);
  }

  async *readStreams(streamIds: readonly string[], options: ReadStreamsOptions = {}): AsyncGenerator<StreamEvents> {
    const present = (streamId: string) => {
      try {
        this.readableHead(streamId);
        return true;
      } catch (error) {
        if (options.skipMissing && error instanceof StreamNotFoundError) return false;
        throw error;
      }
    };
    if (this.readAhead === undefined || this.readAheadFailed || this.eventsIn(streamIds) < this.readAheadMinEvents) {
      yield* readStreamsInTurn(this, streamIds, options);
      return;
    }
    try {
      yield* this.readAhead.read(streamIds, present);
    } catch (error) {
      if (!(error instanceof ReadAheadStopped)) throw error;
      if (this.closed) throw new StoreUnavailableError(`The SQLite store at ${this.path} was closed during a read.`, { cause: error, storePath: this.path });
      // The thread is only a speed-up: the read goes on here, where a fault of the store shows as the error it is.
      this.readAheadFailed = true;
      process.emitWarning(`the read-ahead thread of the store at ${this.path} stopped (${error.message}); its reads continue on the caller's thread`, 'ChronicleStoreWarning');
      yield* readStreamsInTurn(this, streamIds.slice(error.handled), options);
    }
  }

  /** How many events the streams hold, from their heads (retention may have removed some): a read's size, cheaply. */
  private eventsIn(streamIds: readonly string[]): number {
    return Number((this.statements.eventsIn.get(JSON.stringify(streamIds)) as { events: bigint }).events);
  }

  async locateInStream(streamId: string, from: bigint | 'start' | 'end'): Promise<EventLocation | undefined> {
    const head = this.statements.head.get(streamId) as StreamRow | undefined;
    if (!head || head.status !== 'live') return undefined;
    // Rows that retention or a truncation made unreadable are scavenged when they become so, so every row is readable.
    const row = (from === 'end'
      ? this.statements.locateLast.get(streamId)
      : this.statements.locateFrom.get(streamId, from === 'start' ? 0n : from)) as { revision: bigint; position: bigint; recorded_at: string } | undefined;
    return row && { revision: row.revision, position: row.position, recordedAt: row.recorded_at };
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertReadable();
    const range = allReadRange(options);
    let remaining = range.maxCount;
    let cursor = range.from ?? (range.direction === 'forwards' ? 0n : END_MARKER - 1n);
    // Unfiltered, every row read is returned: a page need not be longer than what is left to return.
    const unfiltered = options.filter === undefined;
    // A type filter is applied by SQLite, so rows of other types (a checkpoint is tens of KB) are never fetched.
    const types = prefixes(options.filter?.eventTypePrefix);
    const typed = types === undefined ? undefined : this.typedRead(range.direction, types.length);
    const typeArgs = types?.flatMap((prefix) => [prefix.length, prefix]) ?? [];
    while (remaining > 0) {
      const size = unfiltered ? Math.min(PAGE, remaining) : PAGE;
      const rows = (typed
        ? typed.all(cursor, ...typeArgs, size)
        : range.direction === 'forwards'
          ? this.statements.allForwards.all(cursor, size)
          : this.statements.allBackwards.all(cursor, size)) as unknown as EventRow[];
      for (const row of rows) {
        if (!range.matches(row[1], row[4])) continue;
        yield decodeRecord(toRecord(row), this.registry);
        if (--remaining === 0) return;
      }
      if (rows.length < size) return;
      const last = rows[rows.length - 1]![0];
      cursor = range.direction === 'forwards' ? last + 1n : last - 1n;
    }
  }

  private readonly typedReads = new Map<string, StatementSync>();

  /** A read of all events whose type starts with one of `count` prefixes, each passed as (length, prefix). */
  private typedRead(direction: 'forwards' | 'backwards', count: number): StatementSync {
    const key = `${direction}:${count}`;
    let statement = this.typedReads.get(key);
    if (!statement) {
      const types = Array.from({ length: count }, () => 'substr(type, 1, ?) = ?').join(' OR ');
      const [compare, order] = direction === 'forwards' ? ['>=', 'ASC'] : ['<=', 'DESC'];
      statement = this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position ${compare} ? AND (${types}) ORDER BY position ${order} LIMIT ?`);
      statement.setReadBigInts(true);
      statement.setReturnArrays(true);
      this.typedReads.set(key, statement);
    }
    return statement;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    const range = allReadRange({ filter: options.filter });
    const startAfter = subscriptionStart('fromPosition', options.fromPosition, () => this.lastPosition());
    return catchUpSubscription({
      signal: this.signal,
      pollMs: this.pollMs,
      startAfter,
      cursorOf: (event) => event.position,
      readPage: (after) => {
        const page: RecordedEvent[] = [];
        let cursor = (after ?? 0n) + 1n;
        // Keep reading until something matches or the log ends, so a narrow filter does not stall on empty pages.
        for (;;) {
          const rows = this.statements.allForwards.all(cursor, PAGE) as unknown as EventRow[];
          for (const row of rows) if (range.matches(row[1], row[4])) page.push(decodeRecord(toRecord(row), this.registry));
          if (page.length > 0 || rows.length < PAGE) return page;
          cursor = rows[rows.length - 1]![0] + 1n;
        }
      },
    });
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    const startAfter = subscriptionStart('fromRevision', options.fromRevision, () => (this.statements.head.get(streamId) as StreamRow | undefined)?.last_revision ?? -1n);
    return catchUpSubscription({
      signal: this.signal,
      pollMs: this.pollMs,
      startAfter,
      cursorOf: (event) => event.revision,
      readPage: (after) => {
        const row = this.statements.head.get(streamId) as StreamRow | undefined;
        if (row?.status === 'tombstoned') throw new StreamDeletedError(streamId);
        const rows = this.statements.streamForwards.all(streamId, after === undefined ? 0n : after + 1n, PAGE) as unknown as StreamEventRow[];
        return rows.map((row) => decodeRecord(toStreamRecord(streamId, row), this.registry));
      },
    });
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    const parsed = parseStreamMetadata(streamId, metadata);
    this.inTransaction(() => {
      const row = this.statements.head.get(streamId) as StreamRow | undefined;
      if (row?.status === 'tombstoned') throw new StreamDeletedError(streamId);
      this.statements.setMetadata.run(streamId, parsed.maxCount ?? null, parsed.truncateBefore ?? null);
      if (row) this.scavenge(streamId, row.last_revision, parsed);
    });
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    const row = this.statements.head.get(streamId) as StreamRow | undefined;
    if (row?.status === 'tombstoned') throw new StreamDeletedError(streamId);
    return row ? toMetadata(row) : {};
  }

  async deleteStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    this.inTransaction(() => {
      this.checkDeletable(streamId, options.expectedState);
      this.statements.setStatus.run('soft-deleted', streamId);
      this.statements.scavenge.run(streamId, END_MARKER - 1n);
    });
  }

  async tombstoneStream(streamId: string, options: { expectedState?: ExpectedState } = {}): Promise<void> {
    this.inTransaction(() => {
      const row = this.statements.head.get(streamId) as StreamRow | undefined;
      if (row && row.last_revision >= 0n) this.checkDeletable(streamId, options.expectedState);
      else this.statements.upsertHead.run(streamId, -1n, GENESIS_HASH, -1n, 'live');
      this.statements.setStatus.run('tombstoned', streamId);
      this.statements.scavenge.run(streamId, END_MARKER - 1n);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal.close();
    this.db.close();
    await Promise.all([this.checkpointer?.close(), this.readAhead?.close()]);
  }

  /**
   * What reading every event cannot see: damage to the file's own structure (SQLite's quick_check, which also finds
   * an index or page a scan never touches), and a live stream whose recorded head is not its last stored event (a
   * tail deleted behind the store's back). One line per problem; `[]` when there are none.
   */
  checkIntegrity(): string[] {
    const problems = (this.db.prepare('PRAGMA quick_check').all() as { quick_check: string }[])
      .filter((row) => row.quick_check !== 'ok')
      .map((row) => `the file's structure is damaged (SQLite quick_check): ${row.quick_check}`);
    const heads = this.db.prepare(`SELECT s.stream_id, s.last_revision, s.last_position, s.last_hash, s.truncate_before, e.revision, e.position, json_extract(e.metadata, '$.hash') AS hash
      FROM streams s LEFT JOIN events e ON e.stream_id = s.stream_id AND e.revision = (SELECT MAX(revision) FROM events WHERE stream_id = s.stream_id)
      WHERE s.status = 'live' AND s.last_revision >= 0`);
    heads.setReadBigInts(true);
    type HeadCheck = { stream_id: string; last_revision: bigint; last_position: bigint; last_hash: string; truncate_before: bigint | null; revision: bigint | null; position: bigint | null; hash: string | null };
    for (const h of heads.all() as HeadCheck[]) {
      // A stream truncated past its head has no events to hold, rightly.
      if (h.truncate_before !== null && h.truncate_before > h.last_revision) continue;
      const head = `its recorded head is revision ${h.last_revision} at position ${h.last_position}`;
      if (h.revision === null) problems.push(`stream "${h.stream_id}": ${head}, and none of its events is stored`);
      else if (h.revision !== h.last_revision || h.position !== h.last_position || h.hash !== h.last_hash) {
        const missing = h.revision < h.last_revision ? `; revisions ${h.revision + 1n}–${h.last_revision} are missing` : '';
        problems.push(`stream "${h.stream_id}": ${head}, but its last stored event is revision ${h.revision} at position ${h.position}${missing}`);
      }
    }
    return problems;
  }

  /** The newest position in the store, 0n when empty. */
  lastPosition(): bigint {
    this.assertReadable();
    return (this.statements.lastPosition.get() as { position: bigint }).position;
  }

  private checkDeletable(streamId: string, expectedState: ExpectedState = 'any'): void {
    const head = toHead(this.readableHead(streamId));
    planAppend({ streamId, head, expectedState, events: [], registry: this.registry, findExisting: () => new Map() });
  }

  private readableHead(streamId: string): StreamRow {
    const row = this.statements.head.get(streamId) as StreamRow | undefined;
    if (row?.status === 'tombstoned') throw new StreamDeletedError(streamId);
    if (!row || row.last_revision < 0n || row.status === 'soft-deleted') throw new StreamNotFoundError(streamId);
    return row;
  }

  private findExisting(ids: string[]): Map<string, ExistingEvent> {
    const found = new Map<string, ExistingEvent>();
    if (ids.length === 0) return found;
    for (const row of this.statements.existing.all(JSON.stringify(ids)) as unknown as { event_id: string; stream_id: string; revision: bigint; position: bigint }[]) {
      found.set(row.event_id, { streamId: row.stream_id, revision: row.revision, position: row.position });
    }
    return found;
  }

  /** Deletes what `$maxCount` / `$tb` make unreadable: an eager scavenge, so retention really frees space. */
  private scavenge(streamId: string, lastRevision: bigint, metadata: StreamMetadata): void {
    const first = firstReadableRevision(lastRevision, metadata);
    if (first > 0n) this.statements.scavenge.run(streamId, first);
  }

  /** A read after `close` says so, rather than fail on a finalized statement. */
  private assertReadable(): void {
    if (this.closed) throw new StoreUnavailableError(`The SQLite store at ${this.path} is closed.`, { storePath: this.path });
  }

  private inTransaction<T>(work: () => T): T {
    if (this.closed) throw new StoreUnavailableError(`The SQLite store at ${this.path} is closed.`);
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw sqliteFailure(error, { path: this.path, action: 'begin', maxBytes: this.maxBytes }) ?? error;
    }
    this.bytesInTransaction = 0;
    try {
      const result = work();
      this.db.exec('COMMIT');
      this.checkpointer?.committed(this.bytesInTransaction);
      return result;
    } catch (error) {
      this.rollBack();
      throw sqliteFailure(error, { path: this.path, action: 'write', maxBytes: this.maxBytes }) ?? error;
    }
  }

  /** After a failed write: SQLite may already have rolled back (a full disk, an I/O error); the write's error is what matters. */
  private rollBack(): void {
    try {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
    } catch {
      // The transaction is gone either way; the caller reports the error that caused it.
    }
  }

  /** `maxBytes` as SQLite's page limit for this connection (it never goes below what the file already holds). */
  private capSize(maxBytes: number): void {
    const { page_size: pageSize } = this.db.prepare('PRAGMA page_size').get() as { page_size: number };
    this.db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
  }
}

/** A store path that names a directory: SQLite would report it as an I/O error, which sends the user to their disk. */
export function directoryIsNoStore(path: string): StoreUnavailableError {
  return new StoreUnavailableError(`The SQLite store at ${path} cannot be opened: that is a directory, not a database file. Nothing was written. To fix: name the file in it, e.g. --store sqlite:${join(path, 'chronicle.db')}.`, { reason: 'unopenable', storePath: path });
}

/**
 * A file named by its path: not an in-memory or temporary database (no write-ahead log to checkpoint), nor a `file:`
 * URI, whose options the checkpoint thread's own connection could not be sure to open the file with.
 */
function isPlainFile(path: string): boolean {
  return path !== ':memory:' && path !== '' && !path.startsWith('file:');
}

function limit(maxCount: number): number {
  return Number.isFinite(maxCount) ? maxCount : -1;
}

function toHead(row: StreamRow): StreamHead {
  return { lastRevision: row.last_revision, lastHash: row.last_hash, lastPosition: row.last_position, status: row.status };
}

function toMetadata(row: StreamRow): StreamMetadata {
  const metadata: StreamMetadata = {};
  if (row.max_count !== null) metadata.maxCount = Number(row.max_count);
  if (row.truncate_before !== null) metadata.truncateBefore = row.truncate_before;
  return metadata;
}

function toRecord([position, streamId, revision, eventId, type, data, metadata]: EventRow): StoredRecord {
  return { streamId, revision, position, eventId, type, data, metadata };
}

function toStreamRecord(streamId: string, [position, revision, eventId, type, data, metadata]: StreamEventRow): StoredRecord {
  return { streamId, revision, position, eventId, type, data, metadata };
}

/** Whether an append's expected state names the stream's head exactly (an exact revision, or no stream yet). */
function atHead(head: StreamHead, expected: ExpectedState | undefined): boolean {
  if (head.status !== 'live') return false;
  return typeof expected === 'bigint' ? expected === head.lastRevision : expected === 'no_stream' && head.lastRevision < 0n;
}
