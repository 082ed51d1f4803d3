import { DatabaseSync } from 'node:sqlite';
import { computeEventHash } from '../../src/events/hashChain.ts';
import type { RecordedMetadata } from '../../src/events/envelope.ts';

/** A row of the events table, as tampering sees it. */
export interface Row {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

/**
 * Edits a Chronicle SQLite file behind the store's back, as someone with the file (and the published hash-chain
 * algorithm) could: each function opens its own connection and closes it.
 */
export function withDb<T>(path: string, work: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

export function rowsOf(path: string, streamId: string): Row[] {
  return withDb(path, (db) => db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision').all(streamId) as unknown as Row[]);
}

export function rowWhere(path: string, predicate: (row: Row) => boolean): Row {
  const rows = withDb(path, (db) => db.prepare('SELECT * FROM events ORDER BY position').all() as unknown as Row[]);
  const row = rows.find(predicate);
  if (!row) throw new Error('no row matches');
  return row;
}

export function editData(path: string, row: Row, edit: (data: Record<string, unknown>) => void): void {
  const data = JSON.parse(row.data) as Record<string, unknown>;
  edit(data);
  withDb(path, (db) => db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify(data), row.position));
}

export function editMetadata(path: string, row: Row, edit: (metadata: RecordedMetadata) => void): void {
  const metadata = JSON.parse(row.metadata) as RecordedMetadata;
  edit(metadata);
  withDb(path, (db) => db.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(JSON.stringify(metadata), row.position));
}

export function deleteRow(path: string, row: Row): void {
  withDb(path, (db) => db.prepare('DELETE FROM events WHERE position = ?').run(row.position));
}

/**
 * A forged event at `revision` of a stream, hashed correctly onto the record before it: later records move up a
 * revision to make room and the stream's head follows, so only the link after the forgery can give it away.
 */
export function insertForged(path: string, streamId: string, revision: number, forged: { eventId: string; type: string; data: unknown }): void {
  const before = rowsOf(path, streamId).find((r) => r.revision === revision - 1)!;
  const template = JSON.parse(before.metadata) as RecordedMetadata;
  const unsealed = { ...template, prevHash: template.hash };
  const hash = computeEventHash({ type: forged.type, data: forged.data, metadata: unsealed });
  withDb(path, (db) => {
    db.exec('BEGIN');
    // Two steps, so the unique (stream, revision) index never sees two rows at one revision.
    db.prepare('UPDATE events SET revision = -(revision + 1) WHERE stream_id = ? AND revision >= ?').run(streamId, revision);
    db.prepare('UPDATE events SET revision = -revision WHERE stream_id = ? AND revision < 0').run(streamId);
    db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(streamId, revision, forged.eventId, forged.type, JSON.stringify(forged.data), JSON.stringify({ ...unsealed, hash }), template.recordedAt);
    db.prepare('UPDATE streams SET last_revision = last_revision + 1 WHERE stream_id = ?').run(streamId);
    db.exec('COMMIT');
  });
}

/** Swaps two records of a stream whole (their revisions and positions), so positions still rise with revisions. */
export function swapRows(path: string, a: Row, b: Row): void {
  withDb(path, (db) => {
    db.exec('BEGIN');
    const move = db.prepare('UPDATE events SET position = ?, revision = ? WHERE position = ?');
    move.run(-1, -1, a.position);
    move.run(a.position, a.revision, b.position);
    move.run(b.position, b.revision, -1);
    db.exec('COMMIT');
  });
}

/** Removes the newest `count` records of a stream and moves the store's head back, so the chain that is left is whole. */
export function truncateStream(path: string, streamId: string, count: number): Row[] {
  const rows = rowsOf(path, streamId);
  const removed = rows.slice(-count);
  const last = rows.at(-count - 1)!;
  withDb(path, (db) => {
    db.exec('BEGIN');
    for (const row of removed) db.prepare('DELETE FROM events WHERE position = ?').run(row.position);
    db.prepare('UPDATE streams SET last_revision = ?, last_hash = ?, last_position = ? WHERE stream_id = ?')
      .run(last.revision, (JSON.parse(last.metadata) as RecordedMetadata).hash, last.position, streamId);
    db.exec('COMMIT');
  });
  return removed;
}
