import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { batch } from '../support/events.ts';
import { walFillingBatches } from '../support/walFilling.ts';

const run = promisify(execFile);
const writer = new URL('../support/walWriter.ts', import.meta.url).pathname;
const WRITTEN = walFillingBatches().reduce((sum, { events }) => sum + events.length, 0);

/** The events the database file itself holds, without its write-ahead log: what checkpoints have copied back. */
function eventsInDatabaseFile(path: string, dir: string): number | undefined {
  const copy = join(dir, `copy-${Date.now()}-${Math.random()}.db`);
  copyFileSync(path, copy);
  try {
    const db = new DatabaseSync(copy);
    try {
      return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    // Copied in the middle of a checkpoint's writes: look again.
    return undefined;
  } finally {
    rmSync(copy, { force: true });
  }
}

/** The process warnings emitted while `work` runs, which sees them as they come (a thread that gives up says so in one). */
async function warningsDuring(work: (warnings: readonly string[]) => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  try {
    await work(warnings);
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

describe('SQLite store: WAL checkpoints on a thread of their own', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-wal-'));
    path = join(dir, 'events.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copies every committed event back into the database file while the store stays open', async () => {
    const store = new SqliteEventStore(path);
    for (const { streamId, events } of walFillingBatches()) await store.appendToStream(streamId, events);
    let inFile: number | undefined;
    for (let wait = 0; wait < 100 && inFile !== WRITTEN; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFile = eventsInDatabaseFile(path, dir);
    }
    expect(inFile).toBe(WRITTEN);
    // Nothing was lost or changed by being copied under the writer.
    const events = await collect(store.readStream('session-wal7'));
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
    await store.close();
  });

  it('a thread started in the middle of a burst of writes, and stopped at once, never gives up (six stores in a row)', async () => {
    const warnings = await warningsDuring(async () => {
      for (let round = 0; round < 6; round++) {
        const file = join(dir, `burst-${round}.db`);
        const store = new SqliteEventStore(file);
        // 6 MB in appends of 50 kB back to back: the thread starts, and opens its connection, while the writer commits.
        const batches = [...walFillingBatches(), ...walFillingBatches(), ...walFillingBatches()];
        for (const { streamId, events } of batches) await store.appendToStream(streamId, events);
        await store.close();
        expect(eventsInDatabaseFile(file, dir)).toBe(3 * WRITTEN);
      }
    });
    expect(warnings).toEqual([]);
  });

  it('when the thread cannot checkpoint (the file moved away under the store), the store goes on writing and checkpoints itself', async () => {
    const store = new SqliteEventStore(path);
    const batches = walFillingBatches();
    await store.appendToStream(batches[0]!.streamId, batches[0]!.events);
    // The open store keeps its file; the thread, started later, finds nothing at the path.
    renameSync(path, join(dir, 'moved.db'));
    const warnings = await warningsDuring(async (given) => {
      for (const { streamId, events } of batches.slice(1)) await store.appendToStream(streamId, events);
      for (let wait = 0; wait < 100 && given.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
      // More appends after the thread gave up: SQLite's own checkpoints again.
      await store.appendToStream('session-after', batch('session-after', 10));
    });
    expect(warnings).toEqual([expect.stringMatching(/background WAL checkpoint.*checkpoints in its own commits again/)]);
    expect(existsSync(path)).toBe(false);
    expect((await collect(store.readStream('session-wal7'))).map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
    expect(await collect(store.readStream('session-after'))).toHaveLength(10);
    await store.close();
  });

  it.each(['close', 'leave'])('a process that writes enough to start the thread exits when its work is done (store: %s)', async (ending) => {
    const { stdout } = await run(process.execPath, [writer, path, ending], { timeout: 30_000 });
    expect(stdout).toBe('written\n');
    const store = new SqliteEventStore(path);
    let count = 0;
    for (let s = 0; s < 20; s++) count += (await collect(store.readStream(`session-wal${s}`))).length;
    await store.close();
    expect(count).toBe(WRITTEN);
  });
});
