import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { COMMITS, STOPPED } from './walCheckpointState.ts';

/**
 * The thread behind `WalCheckpointer`: its own connection to the store's file, copying the write-ahead log back into
 * the database with PASSIVE checkpoints, which never wait for (or block) the writer. It sleeps until the writer
 * counts a commit in the shared `state`, so an idle store costs no wake-ups.
 */
interface CheckpointerData {
  path: string;
  state: SharedArrayBuffer;
  gatherMs: number;
}

const { path, state: shared, gatherMs } = workerData as CheckpointerData;
const state = new Int32Array(shared);

async function checkpointWhileWritten(checkpoint: () => unknown): Promise<void> {
  // The commit that started this thread is counted: the first pass checkpoints it and everything before it.
  let seen = 0;
  while (Atomics.load(state, STOPPED) === 0) {
    if (Atomics.load(state, COMMITS) === seen) {
      const wait = Atomics.waitAsync(state, COMMITS, seen);
      if (wait.async) await wait.value;
      continue;
    }
    // Commits come in bursts (a model call's facts, a group of sessions): one pass copies a burst's pages.
    await sleep(gatherMs);
    if (Atomics.load(state, STOPPED) !== 0) return;
    seen = Atomics.load(state, COMMITS);
    checkpoint();
  }
}

let db: DatabaseSync | undefined;
// A pending `Atomics.waitAsync` does not keep a thread alive; this timer does, without ever waking it in practice.
const keepAlive = setInterval(() => {}, 2 ** 31 - 1);
try {
  // `mode=rw`: the store's file must exist. Gone (moved or deleted under the store), it is not recreated empty here.
  const url = pathToFileURL(path);
  url.searchParams.set('mode', 'rw');
  // Opening reads the schema, which waits out a writer's brief exclusive moments (a log restart, its own checkpoint).
  db = new DatabaseSync(url, { timeout: 5_000 });
  const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  await checkpointWhileWritten(() => statement.get());
} catch (error) {
  // The writer's own checkpoints take over; it is told why, so the reason is not lost.
  parentPort!.postMessage({ failed: (error as Error).message });
} finally {
  db?.close();
  clearInterval(keepAlive);
}
