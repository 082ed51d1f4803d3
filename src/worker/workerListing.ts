import { hasOpenWork, isAlive, type WorkBoard } from '../../projections/workBoard/workBoard.ts';
import { endedOnThisHost } from './endedOnThisHost.ts';
import { holderOf } from './workBoardReader.ts';

export interface WorkerListing {
  workers: { id: string; group: string; host: string; pid: number; status: 'alive' | 'silent' | 'ended' | 'left'; lastSeen: string; sessions: number }[];
  openSessions: number;
  /** Sessions with work that no live worker holds (and not parked): waiting for a worker to take them. */
  unheld: string[];
  parked: { sessionId: string; reason: string }[];
}

/** The board as people read it, at wall-clock `nowMs`: what `chronicle workers` prints and `/api/workers` answers. */
export function workerListing(board: WorkBoard, nowMs: number): WorkerListing {
  // A chronicle command that held its sessions while it ran (group "interactive") is listed while it runs, not
  // after: one such entry per command run would otherwise fill the board.
  // One killed mid-run is listed while it still holds a session (the session's lease names it), not after.
  const workers = Object.entries(board.workers).map(([id, w]) => ({
    id, group: w.group, host: w.host, pid: w.pid, status: w.left ? 'left' as const : !isAlive(board, id, nowMs) ? 'silent' as const : endedOnThisHost(w) ? 'ended' as const : 'alive' as const,
    lastSeen: w.lastSeen, sessions: Object.values(board.leases).filter((l) => l.owner === id).length,
  })).filter((w) => !(w.group === 'interactive' && (w.status === 'left' || (w.status !== 'alive' && w.sessions === 0))));
  const open = Object.entries(board.sessions).filter(([, work]) => hasOpenWork(work)).map(([id]) => id);
  return {
    workers,
    openSessions: open.length,
    unheld: open.filter((id) => holderOf(board, id, nowMs) === null && !board.leases[id]?.parked),
    parked: Object.entries(board.leases).flatMap(([sessionId, l]) => (l.parked ? [{ sessionId, reason: l.parked }] : [])),
  };
}
