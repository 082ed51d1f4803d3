import { Worker } from 'node:worker_threads';

/**
 * Starts one of the store's own threads (`walCheckpointWorker`, `readAheadWorker`) from the module beside this one,
 * as TypeScript sources or as the built package, whichever is running. `exited` settles when the thread has ended.
 * The caller unreferences it once its listeners are on (they hold it): an open store must not keep a process alive
 * that has nothing else to do.
 */
export function startStoreThread(module: string, workerData: unknown): { worker: Worker; exited: Promise<void> } {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const worker = new Worker(new URL(`./${module}.${extension}`, import.meta.url), { workerData });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return { worker, exited };
}
