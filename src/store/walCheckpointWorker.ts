import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The thread behind `WalCheckpointer`: its own connection to the store's file, copying the write-ahead log back into
 * the database with PASSIVE checkpoints, which never wait for (or block) the writer. It checkpoints only when the
 * writer has committed since its last pass, which the writer counts in `commits`.
 */
interface CheckpointerData {
  path: string;
  commits: SharedArrayBuffer;
  everyMs: number;
}

const { path, commits, everyMs } = workerData as CheckpointerData;
const committed = new Int32Array(commits);
// The commit that started this thread is counted: the first pass checkpoints it and everything before it.
let seen = 0;
let db: DatabaseSync | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

/** The writer's own checkpoints take over; it is told why, so the reason is not lost. */
function giveUp(error: unknown): void {
  clearInterval(timer);
  db?.close();
  db = undefined;
  parentPort!.postMessage({ failed: (error as Error).message });
}

try {
  // `mode=rw`: the store's file must exist. Gone (moved or deleted under the store), it is not recreated empty here.
  const url = pathToFileURL(path);
  url.searchParams.set('mode', 'rw');
  db = new DatabaseSync(url);
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  timer = setInterval(() => {
    const now = Atomics.load(committed, 0);
    if (now === seen) return;
    seen = now;
    try {
      checkpoint.get();
    } catch (error) {
      giveUp(error);
    }
  }, everyMs);
} catch (error) {
  giveUp(error);
}

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db?.close();
  parentPort!.close();
});
