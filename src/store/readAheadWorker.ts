import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { storedTextVerifiesItself } from '../events/hashChain.ts';
import type { ReadAheadChunk, ReadAheadRequest, ReadAheadRow, ReadAheadSegment } from './readAheadProtocol.ts';

/**
 * The thread behind `ReadAhead`: reads the streams a reader asked for, in order, a chunk at a time, and checks each
 * row's hash over its stored text, while the reader's thread decodes and folds the chunk before. Each read runs in
 * one read transaction on a connection of its own, so it sees one moment of the store however long it takes, as a
 * single `readStream` statement does. It runs at most `ahead` chunks ahead of the reader: a reader that stops early
 * or folds slowly never has the whole store queued in memory.
 */
const { path } = workerData as { path: string };

interface OpenRead {
  db: DatabaseSync;
  rows: StatementSync;
  streamIds: readonly string[];
  /** The stream being read, and the revision its next row is read from. */
  index: number;
  from: bigint;
}

const reads = new Map<number, OpenRead>();

parentPort!.on('message', (request: ReadAheadRequest) => {
  try {
    if (request.kind === 'open') open(request.read, request.streamIds);
    else if (request.kind === 'more') more(request.read, request.rows);
    else end(request.read);
  } catch (error) {
    end(request.read);
    parentPort!.postMessage({ read: request.read, error: (error as Error).message } satisfies ReadAheadChunk);
  }
});

/** A connection and its statement kept between reads: opening one costs more than a small read. */
let spare: { db: DatabaseSync; rows: StatementSync } | undefined;

function open(read: number, streamIds: readonly string[]): void {
  let connection = spare;
  spare = undefined;
  if (connection === undefined) {
    // `mode=ro`: a read never creates or changes the file; gone, the read fails rather than finding an empty store.
    const url = pathToFileURL(path);
    url.searchParams.set('mode', 'ro');
    const db = new DatabaseSync(url, { timeout: 5_000, readOnly: true });
    const rows = db.prepare('SELECT position, revision, event_id, type, data, metadata FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?');
    rows.setReadBigInts(true);
    rows.setReturnArrays(true);
    connection = { db, rows };
  }
  connection.db.exec('BEGIN');
  reads.set(read, { ...connection, streamIds, index: 0, from: 0n });
}

function more(read: number, rows: number): void {
  const state = reads.get(read);
  // Ended already: the reader stopped early, or this thread sent the last chunk.
  if (state === undefined) return;
  const segments: ReadAheadSegment[] = [];
  let budget = rows;
  while (budget > 0 && state.index < state.streamIds.length) {
    const streamId = state.streamIds[state.index]!;
    const rows = state.rows.all(streamId, state.from, budget) as unknown as ReadAheadRow[];
    // Fewer rows than asked for: the stream ends here (a stream read never has gaps the statement would skip).
    const last = rows.length < budget;
    segments.push({ streamId, rows, hashChecked: rows.map(hashChecked), last });
    budget -= rows.length;
    if (last) {
      state.index++;
      state.from = 0n;
    } else {
      state.from = rows[rows.length - 1]![1] + 1n;
    }
  }
  const done = state.index >= state.streamIds.length;
  if (done) end(read);
  parentPort!.postMessage({ read, segments, done } satisfies ReadAheadChunk);
}

function end(read: number): void {
  const state = reads.get(read);
  if (state === undefined) return;
  reads.delete(read);
  if (spare === undefined && state.db.isTransaction) {
    state.db.exec('COMMIT');
    spare = { db: state.db, rows: state.rows };
  } else {
    state.db.close();
  }
}

/**
 * Whether the row's hash verifies over its stored texts. The reader trusts this only for an envelope it finds in
 * canonical form without a backslash (see `storedTextVerifiesItself`); anything else it checks again itself, as
 * `readStream` would.
 */
function hashChecked(row: ReadAheadRow): boolean {
  return storedTextVerifiesItself(row[3], row[4], row[5]);
}
