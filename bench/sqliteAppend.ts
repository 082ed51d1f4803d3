import { rmSync } from 'node:fs';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { buildBatches, eventsPerSecond, openRawDatabase, scratchDir, type Batch, type BenchResult } from './fixtures.ts';

/** Events per case: enough for ~1–3 s of Chronicle work each on a small machine, small enough to fit 2 minutes overall. */
const CASES = [
  { batchSize: 1, events: 5_000, goal: undefined },
  { batchSize: 100, events: 50_000, goal: 0.5 },
  { batchSize: 1_000, events: 50_000, goal: 0.5 },
] as const;

/** Best of two alternating rounds: a shared VM's noise otherwise moves a single ratio by ±0.1. */
const ROUNDS = 2;

/**
 * Append throughput of `SqliteEventStore.appendToStream` against raw `node:sqlite` inserts of the same rows in
 * transactions of the same size. The gap is Chronicle's per-append work: validation, duplicate-id lookup, head
 * read/upsert, hashing and serialising. Every run gets a fresh file so none writes into a bigger table; the same
 * events (same ids) go to every file, which is why the files must be separate.
 */
export async function benchSqliteAppend(): Promise<BenchResult[]> {
  const scratch = scratchDir();
  try {
    const results: BenchResult[] = [];
    for (const { batchSize, events, goal } of CASES) {
      // Warm-up on other streams of the same file: JIT, statement caches and the file's first pages.
      const warmup = buildBatches(Math.max(5 * batchSize, 500), batchSize, 'warmup');
      const batches = buildBatches(events, batchSize);
      let rawPerSec = 0;
      let chroniclePerSec = 0;
      for (let round = 0; round < ROUNDS; round++) {
        rawPerSec = Math.max(rawPerSec, await withFile(scratch.file(`raw-${batchSize}-${round}.db`), (path) => appendRaw(path, warmup, batches)));
        chroniclePerSec = Math.max(chroniclePerSec, await withFile(scratch.file(`chronicle-${batchSize}-${round}.db`), (path) => appendChronicle(path, warmup, batches)));
      }
      results.push({ name: `append, batch ${batchSize.toLocaleString('en')}`, events, chroniclePerSec, rawPerSec, goal });
    }
    return results;
  } finally {
    scratch.dispose();
  }
}

async function appendChronicle(path: string, warmup: Batch[], batches: Batch[]): Promise<number> {
  const store = new SqliteEventStore(path);
  try {
    const append = async (list: Batch[]) => {
      for (const batch of list) await store.appendToStream(batch.streamId, batch.events);
    };
    await append(warmup);
    return await eventsPerSecond(countEvents(batches), () => append(batches));
  } finally {
    await store.close();
  }
}

async function appendRaw(path: string, warmup: Batch[], batches: Batch[]): Promise<number> {
  const raw = openRawDatabase(path);
  try {
    const append = (list: Batch[]) => {
      for (const batch of list) raw.writeTransaction(batch.rows);
    };
    append(warmup);
    return await eventsPerSecond(countEvents(batches), () => append(batches));
  } finally {
    await raw.close();
  }
}

/** Deletes the database (and its WAL) as soon as it is measured, so a run never needs more than one file of disk. */
async function withFile<T>(path: string, work: (path: string) => Promise<T>): Promise<T> {
  try {
    return await work(path);
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
}

function countEvents(batches: Batch[]): number {
  return batches.reduce((sum, batch) => sum + batch.events.length, 0);
}
