import { liveOwner, type WorkBoard } from '../../projections/workBoard/workBoard.ts';
import type { EventStore } from '../store/eventStore.ts';
import { CheckpointedFold } from '../runtime/checkpointedFold.ts';
import { endedOnThisHost } from './endedOnThisHost.ts';
import { workBoardDefinition } from './sessionWorker.ts';

/**
 * The work board as of now, or undefined when no worker ever joined this store (then nothing is held, and reading
 * the board would only cost a scan of every session's events).
 */
export async function workBoardOf(store: EventStore): Promise<WorkBoard | undefined> {
  // Any worker fact, not only `worker.joined`: a worker stream keeps its newest heartbeats alone ($maxCount), so a
  // worker that has run for a minute has no `worker.joined` left, and every heartbeat says who it is.
  for await (const _ of store.readAll({ maxCount: 1, filter: { streamNamePrefix: 'worker-', eventTypePrefix: 'worker.' } })) {
    return (await CheckpointedFold.load(store, workBoardDefinition)).state;
  }
  return undefined;
}

/**
 * The live worker holding a session, if any: a process that is not that worker must not run the session. A holder on
 * this host whose process has ended holds nothing, though its lease has not lapsed yet.
 */
export function holderOf(board: WorkBoard | undefined, sessionId: string, nowMs: number): string | null {
  const owner = board === undefined ? null : liveOwner(board, sessionId, nowMs);
  return owner !== null && endedOnThisHost(board!.workers[owner]!) ? null : owner;
}
