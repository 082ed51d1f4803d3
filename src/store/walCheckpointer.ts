import type { DatabaseSync } from 'node:sqlite';
import type { Worker } from 'node:worker_threads';
import { startStoreThread } from './storeThread.ts';
import { COMMITS, STATE_SLOTS, STOPPED } from './walCheckpointState.ts';

/**
 * Moves SQLite's WAL checkpoints off the writing thread. By default SQLite checkpoints inside the COMMIT that takes
 * the log past 1 000 pages, and with `synchronous=NORMAL` a checkpoint syncs the log and the database: measured on
 * the bench VM, that COMMIT took ~12 ms where others took ~0.1 ms, about 60 % of all commit time in a run of
 * sessions. A thread of our own runs PASSIVE checkpoints instead, which never block the writer; the writer keeps
 * SQLite's own checkpoint as a backstop at `BACKSTOP_PAGES`, because a log that is written to while every
 * checkpoint runs is never wholly copied back, and only a wholly copied log is started afresh.
 *
 * The thread starts only once `START_BYTES` of events have been written, so a small store (most tests, a short CLI
 * run) never pays for one. The log grows several times faster than that (every commit writes whole pages, index
 * pages included): 1 MB of events is about where SQLite's first checkpoint would fall. Durability is SQLite's,
 * unchanged: a checkpoint only copies what is already committed.
 */
const START_BYTES = 1024 * 1024;
const BACKSTOP_PAGES = 10_000;
const SQLITE_DEFAULT_PAGES = 1_000;
const GATHER_MS = 20;

export class WalCheckpointer {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #state = new Int32Array(new SharedArrayBuffer(4 * STATE_SLOTS));
  #written = 0;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  /** Set when the thread's checkpoints failed and SQLite's own took over again. */
  #gaveUp = false;

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
  }

  /** After each commit, with the bytes it wrote. */
  committed(bytes: number): void {
    if (!this.#worker) {
      // Started once and stopped since (the store closed, or the thread gave up): never again.
      if (this.#exited) return;
      this.#written += bytes;
      if (this.#written < START_BYTES) return;
      this.#start();
    }
    Atomics.add(this.#state, COMMITS, 1);
    Atomics.notify(this.#state, COMMITS);
  }

  #start(): void {
    const { worker, exited } = startStoreThread('walCheckpointWorker', { path: this.#path, state: this.#state.buffer, gatherMs: GATHER_MS });
    worker.on('message', (message: { failed?: string }) => {
      if (message.failed !== undefined) this.#giveUp(`background WAL checkpoint failed: ${message.failed}`);
    });
    worker.on('error', (error) => this.#giveUp(`background WAL checkpointer stopped: ${error.message}`));
    this.#exited = exited;
    // An open store must not keep a process alive that has nothing else to do (after the listeners, which hold it).
    worker.unref();
    this.#worker = worker;
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  }

  /** The writer checkpoints as SQLite does by default again; the reason is a process warning, not a failed append. */
  #giveUp(reason: string): void {
    if (this.#gaveUp) return;
    this.#gaveUp = true;
    this.#worker = undefined;
    process.emitWarning(`${reason}; the store at ${this.#path} checkpoints in its own commits again`, 'ChronicleStoreWarning');
    try {
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
    } catch {
      // The store is closed: there is nothing left to checkpoint for.
    }
  }

  /** Stops the thread and waits until its connection is closed, so the file can be removed or reopened at once. */
  async close(): Promise<void> {
    // Held again while it stops: a process awaiting `close()` must not exit before the thread has.
    this.#worker?.ref();
    this.#worker = undefined;
    Atomics.store(this.#state, STOPPED, 1);
    Atomics.notify(this.#state, COMMITS);
    await this.#exited;
  }
}
