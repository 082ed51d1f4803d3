import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/events/canonicalJson.ts';
import { EventSchemaError } from '../../src/events/eventSchemaError.ts';
import { computeEventHash, verifyChain } from '../../src/events/hashChain.ts';
import { CorruptEventError, StoreUnavailableError } from '../../src/store/errors.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { batch } from '../support/events.ts';

const run = promisify(execFile);
const racer = new URL('../support/sqliteRacer.ts', import.meta.url).pathname;

describe('SQLite store', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-sqlite-'));
    path = join(dir, 'events.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('two OS processes on one file', () => {
    const race = async (mode: string, rounds: number) => {
      new SqliteEventStore(path).close();
      const startAt = String(Date.now() + 1500);
      const results = await Promise.all(['A', 'B'].map((name) => run(process.execPath, [racer, path, mode, String(rounds), startAt, name])));
      return results.map((r) => JSON.parse(r.stdout) as { name: string; wins: number; losses: number });
    };

    it('exactly one of two conflicting no_stream appends wins, every time', async () => {
      const rounds = 150;
      const [a, b] = await race('first-writer', rounds);
      expect(a!.wins + b!.wins).toBe(rounds);
      expect(a!.losses + b!.losses).toBe(rounds);
      const store = new SqliteEventStore(path);
      for (let round = 0; round < rounds; round++) {
        expect(await collect(store.readStream(`race-${round}`))).toHaveLength(1);
      }
      await store.close();
    });

    it('racing writers extending one stream never fork it: revisions contiguous, chain intact', async () => {
      const [a, b] = await race('extend', 150);
      const store = new SqliteEventStore(path);
      const events = await collect(store.readStream('race-shared'));
      await store.close();
      expect(events).toHaveLength(a!.wins + b!.wins);
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => BigInt(i)));
      expect(verifyChain(events)).toEqual({ ok: true, checked: events.length });
    });
  });

  // Both ways a stream is read: one `readStream`, and `readStreams` with its rows fetched and hash-checked on the
  // store's read-ahead thread (forced for a small read here). Each must report the same record the same way.
  const readers = {
    readStream: (store: SqliteEventStore, streamId: string) => collect(store.readStream(streamId)),
    'readStreams, read ahead on a thread': async (store: SqliteEventStore, streamId: string) => {
      const streams = [];
      for await (const read of store.readStreams(['session-before', streamId])) streams.push(read);
      expect(streams.map((read) => read.streamId)).toEqual(['session-before', streamId]);
      return streams[1]!.events;
    },
  };
  describe.each(Object.entries(readers))('corrupted records are reported with their position, never skipped (%s)', (_name, read) => {
    let rows: { position: number; revision: number; data: string; metadata: string }[];
    const streamId = 'session-corrupt';
    beforeEach(async () => {
      const store = new SqliteEventStore(path);
      await store.appendToStream('session-before', batch('session-before', 3));
      await store.appendToStream(streamId, batch(streamId, 4));
      await store.close();
      rows = raw((db) => db.prepare('SELECT position, revision, data, metadata FROM events WHERE stream_id = ? ORDER BY position').all(streamId) as typeof rows);
    });
    const raw = <T>(work: (db: DatabaseSync) => T): T => {
      const db = new DatabaseSync(path);
      try {
        return work(db);
      } finally {
        db.close();
      }
    };
    const readBack = async () => {
      const store = new SqliteEventStore(path, { readAheadMinEvents: 0 });
      try {
        return await read(store, streamId);
      } finally {
        await store.close();
      }
    };

    it('bad JSON', async () => {
      raw((db) => db.prepare('UPDATE events SET data = ? WHERE position = ?').run('{"turn": 1, "text": ', rows[1]!.position));
      const error = await readBack().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptEventError);
      expect(error).toMatchObject({ reason: 'invalid-json', place: { streamId, revision: 1n, position: BigInt(rows[1]!.position) } });
    });

    it('an edit of the data breaks its hash, also in readAll', async () => {
      raw((db) => db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify({ turn: 2, query: 'rewritten history', region: 'KE', purpose: 'climate_adaptation' }), rows[2]!.position));
      await expect(readBack()).rejects.toMatchObject({ name: 'CorruptEventError', reason: 'hash-mismatch', place: { revision: 2n, position: BigInt(rows[2]!.position) } });
      const store = new SqliteEventStore(path);
      await expect(collect(store.readAll())).rejects.toMatchObject({ reason: 'hash-mismatch', place: { position: BigInt(rows[2]!.position) } });
      await store.close();
    });

    it('a schema violation written with a valid hash (a faulty writer) names the field', async () => {
      const last = rows[3]!;
      const data = { turn: 'three', query: 'x', region: 'KE', purpose: 'climate_adaptation' };
      const metadata = JSON.parse(last.metadata);
      metadata.hash = computeEventHash({ type: 'task.assigned', data, metadata });
      raw((db) => db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify(metadata), last.position));
      const error = await readBack().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventSchemaError);
      expect(error).toMatchObject({ fieldPaths: ['data.turn'], eventType: 'task.assigned', place: { streamId, revision: 3n, position: BigInt(last.position) } });
    });

    it('an envelope its schema refuses, written in canonical form with a valid hash, is named as invalid metadata', async () => {
      const last = rows[3]!;
      const metadata = JSON.parse(last.metadata);
      metadata.recordedAt = '2026-13-24T10:00:00.000Z';
      metadata.hash = computeEventHash({ type: 'task.assigned', data: JSON.parse(last.data), metadata });
      raw((db) => db.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(canonicalJson(metadata), last.position));
      await expect(readBack()).rejects.toMatchObject({ name: 'CorruptEventError', reason: 'invalid-metadata', place: { revision: 3n, position: BigInt(last.position) } });
    });

    it('a record whose texts are valid but not canonical is verified by re-serialising it, and read', async () => {
      const before = await readBack();
      const spaced = (text: string) => JSON.stringify(JSON.parse(text), null, 1);
      raw((db) => db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(spaced(rows[1]!.data), spaced(rows[1]!.metadata), rows[1]!.position));
      expect(await readBack()).toEqual(before);
    });

    it('a deleted event is named at the event after the gap', async () => {
      raw((db) => db.prepare('DELETE FROM events WHERE position = ?').run(rows[1]!.position));
      await expect(readBack()).rejects.toMatchObject({ reason: 'missing-event', place: { revision: 2n } });
    });

    it('reordered events break the chain', async () => {
      raw((db) => {
        const swap = db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?');
        swap.run(rows[2]!.data, rows[2]!.metadata, rows[1]!.position);
        swap.run(rows[1]!.data, rows[1]!.metadata, rows[2]!.position);
      });
      await expect(readBack()).rejects.toMatchObject({ name: 'CorruptEventError', reason: 'broken-link', place: { revision: 1n } });
    });
  });

  it('a store locked by another writer fails the append with a clear error, writing nothing', async () => {
    const store = new SqliteEventStore(path, { busyTimeoutMs: 50 });
    await store.appendToStream('session-1', batch('session-1', 1));
    const blocker = new DatabaseSync(path);
    blocker.exec('BEGIN EXCLUSIVE');
    const error = await store.appendToStream('session-1', batch('session-1', 1, 1)).catch((e: unknown) => e);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(path);
    expect(await collect(store.readStream('session-1'))).toHaveLength(1);
    await store.appendToStream('session-1', batch('session-1', 1, 1), { expectedState: 0n });
    await store.close();
  });

  it('keeps what it wrote across close and reopen, with synchronous=FULL too', async () => {
    const store = new SqliteEventStore(path, { synchronous: 'full' });
    await store.appendToStream('session-1', batch('session-1', 3));
    await store.close();
    const reopened = new SqliteEventStore(path);
    expect((await collect(reopened.readStream('session-1'))).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    await reopened.close();
  });
});
