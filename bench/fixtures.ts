import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AppendMetadata, EventToAppend } from '../src/events/envelope.ts';
import { GENESIS_HASH, sealEvent } from '../src/events/hashChain.ts';
import { SQLITE_SCHEMA } from '../src/store/sqliteSchema.ts';
import { WalCheckpointer } from '../src/store/walCheckpointer.ts';

/** One row of a summary table; `ratio` is Chronicle / raw, `goal` the minimum ratio we aim for (if any). */
export interface BenchResult {
  name: string;
  events: number;
  chroniclePerSec: number;
  rawPerSec: number;
  goal?: number;
}

/** One `appendToStream` call, in both forms: objects for Chronicle, pre-serialised columns for the raw baseline. */
export interface Batch {
  streamId: string;
  events: EventToAppend[];
  rows: RawRow[];
}

/** `events` columns in insert order: stream_id, revision, event_id, type, data, metadata, recorded_at. */
export type RawRow = [string, number, string, string, string, string, string];

const STREAMS = 1_000;
const DATA_BYTES = 200;

/**
 * `totalEvents` of `query.received`, cut into batches of `batchSize`, batch k going to stream `<prefix>-<k mod 1000>`
 * so streams grow side by side as real sessions do. The raw rows carry the exact bytes Chronicle would store
 * (real hash chain included), so both sides write rows of the same size; sealing happens here, outside the timing.
 */
export function buildBatches(totalEvents: number, batchSize: number, prefix = 'session'): Batch[] {
  const batches: Batch[] = [];
  const heads = new Map<string, { revision: number; hash: string }>();
  for (let k = 0; k * batchSize < totalEvents; k++) {
    const streamId = `${prefix}-${k % STREAMS}`;
    const head = heads.get(streamId) ?? { revision: -1, hash: GENESIS_HASH };
    const events: EventToAppend[] = [];
    const rows: RawRow[] = [];
    for (let i = 0; i < batchSize; i++) {
      const event = queryReceived(streamId, head.revision + 1);
      const sealed = sealEvent({ ...event, metadata: { ...event.metadata, schemaVersion: 1 } }, head.hash);
      head.revision++;
      head.hash = sealed.metadata.hash;
      events.push(event);
      rows.push([streamId, head.revision, event.eventId, event.type, sealed.dataJson, sealed.metadataJson, sealed.metadata.recordedAt]);
    }
    heads.set(streamId, head);
    batches.push({ streamId, events, rows });
  }
  return batches;
}

function queryReceived(streamId: string, turn: number): EventToAppend<{ text: string; region: string; purpose: string }> {
  const metadata: AppendMetadata = {
    actorId: streamId,
    actorKind: 'session',
    sessionId: streamId,
    correlationId: randomUUID(),
    causationId: randomUUID(),
    recordedAt: new Date().toISOString(),
    machineVersion: 'bench-machine-v1',
  };
  // Pad the text so the data's JSON is DATA_BYTES long, the size of a typical short user query.
  // The data must pass the catalogue's `query.received` schema: strict {text, region, purpose}.
  const prefix = `turn ${turn}: `;
  const overhead = JSON.stringify({ text: prefix, region: 'KE', purpose: 'climate_adaptation' }).length;
  return { eventId: randomUUID(), type: 'query.received', data: { text: prefix + 'q'.repeat(DATA_BYTES - overhead), region: 'KE', purpose: 'climate_adaptation' }, metadata };
}

/** A scratch directory in the OS temp dir, removed by `dispose()` (after every database in it is closed). */
export function scratchDir(): { dir: string; file: (name: string) => string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-bench-'));
  return { dir, file: (name) => join(dir, name), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The raw baseline's database: the rows of one transaction at a time, nothing else. */
export interface RawDatabase {
  /**
   * `rows[start..end)` in one `BEGIN IMMEDIATE … COMMIT`, and the checkpoint thread told of the bytes of data and
   * metadata written, as `SqliteEventStore` does. A range rather than a slice, so a timed loop copies nothing.
   */
  writeTransaction(rows: readonly RawRow[], start?: number, end?: number): void;
  close(): Promise<void>;
}

/**
 * The raw baseline's database: the store's own schema, pragmas and WAL checkpoints (on a thread, `WalCheckpointer`),
 * nothing of Chronicle's code path. With SQLite's default checkpoints instead, every 1 000th page of log would cost
 * the baseline a ~12 ms COMMIT the store does not pay, and the ratio would credit Chronicle with SQLite settings.
 */
export function openRawDatabase(path: string): RawDatabase {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(SQLITE_SCHEMA);
  const checkpointer = new WalCheckpointer(db, path);
  const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  return {
    writeTransaction(rows, start = 0, end = rows.length) {
      db.exec('BEGIN IMMEDIATE');
      let bytes = 0;
      for (let i = start; i < end; i++) {
        insert.run(...rows[i]!);
        bytes += rows[i]![4].length + rows[i]![5].length;
      }
      db.exec('COMMIT');
      checkpointer.committed(bytes);
    },
    async close() {
      db.close();
      await checkpointer.close();
    },
  };
}

// `gc()` without starting node with --expose-gc: the flag is read when a context is made.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Runs `work` once and returns its rate; `performance.now()` because Date has ms granularity only. Each timing
 * starts from a collected heap, its inputs settled in the old generation: otherwise one side pays for collecting
 * the garbage, or promoting the freshly made inputs, that whatever ran before it left.
 */
export async function eventsPerSecond(events: number, work: () => unknown): Promise<number> {
  collectGarbage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  return events / seconds;
}
