import type { RecordedEvent } from '../../src/events/envelope.ts';

/**
 * What workers need to share the sessions of a store: who is alive (heartbeats on `worker-<id>`), who holds each
 * session (leases on `lease-<sessionId>`), and which sessions have work to do (counts from `session-<id>`). Folded
 * from the log alone, so every worker, and `chronicle workers` on any machine, reads the same board.
 */
export interface WorkerEntry {
  group: string;
  pid: number;
  host: string;
  leaseTtlMs: number;
  /** The boot and pid namespace its pid belongs to, when it recorded one (see `endedOnThisHost`). */
  processSpace?: string;
  /** `recordedAt` of its last heartbeat (or of joining). */
  lastSeen: string;
  /** When it left cleanly; a worker that was killed never leaves, its heartbeats just stop. */
  left: string | null;
}

export interface LeaseEntry {
  owner: string | null;
  /** The lease stream's last revision: a worker claims with exactly this as its expected state. */
  revision: string;
  parked: string | null;
}

export interface SessionWork {
  received: number;
  completed: number;
  /** Hand-offs requested and not yet completed or failed. */
  handoffs: number;
  closed: boolean;
}

export interface WorkBoard {
  /**
   * The newest `recordedAt` of any worker's heartbeat folded so far: the board's own clock. Judging liveness by it
   * rather than the wall clock keeps a board that lags behind the log (a busy worker catching up) from taking live
   * workers for dead; and as long as one worker lives, its heartbeats move this clock on.
   */
  clock: string | null;
  workers: Record<string, WorkerEntry>;
  leases: Record<string, LeaseEntry>;
  sessions: Record<string, SessionWork>;
}

export const WORK_BOARD_VERSION = 'workBoard@3';

/** The streams and event types the board reads: a store-side filter, so a worker reads nothing else. */
export const workBoardFilter = {
  streamNamePrefix: ['session-', 'worker-', 'lease-'],
  eventTypePrefix: ['session.', 'query.received', 'turn.completed', 'message.sent', 'transition.completed', 'transition.failed', 'worker.', 'lease.'],
};

export function emptyWorkBoard(): WorkBoard {
  return { clock: null, workers: {}, leases: {}, sessions: {} };
}

type Data = Record<string, unknown>;

/**
 * Folds one event into the board, in place: the board is the fold's own accumulator, and copying a map of every
 * session per event would make catching up on a large store quadratic.
 */
export function evolveWorkBoard(board: WorkBoard, event: RecordedEvent): WorkBoard {
  const data = event.data as Data;
  switch (event.type) {
    case 'session.started':
      board.sessions[data.sessionId as string] ??= { received: 0, completed: 0, handoffs: 0, closed: false };
      break;
    case 'query.received':
      work(board, event).received++;
      break;
    case 'turn.completed':
      work(board, event).completed++;
      break;
    case 'message.sent':
      if (event.metadata.actorKind === 'session' && data.messageType === 'transition.requested') work(board, event).handoffs++;
      break;
    case 'transition.completed':
    case 'transition.failed':
      if (event.metadata.actorKind === 'session') work(board, event).handoffs = Math.max(0, work(board, event).handoffs - 1);
      break;
    case 'session.closed':
      work(board, event).closed = true;
      break;
    case 'worker.joined':
    case 'worker.heartbeat':
      board.workers[data.workerId as string] = {
        group: data.group as string, pid: data.pid as number, host: data.host as string, leaseTtlMs: data.leaseTtlMs as number,
        ...(typeof data.processSpace === 'string' ? { processSpace: data.processSpace } : {}),
        lastSeen: event.metadata.recordedAt, left: null,
      };
      tick(board, event);
      break;
    case 'worker.left': {
      const worker = board.workers[data.workerId as string];
      if (worker) worker.left = event.metadata.recordedAt;
      break;
    }
    case 'lease.acquired':
      board.leases[data.sessionId as string] = { owner: data.workerId as string, revision: String(event.revision), parked: null };
      break;
    case 'lease.released':
      board.leases[data.sessionId as string] = { owner: null, revision: String(event.revision), parked: null };
      break;
    case 'session.parked':
      board.leases[data.sessionId as string] = { owner: null, revision: String(event.revision), parked: data.reason as string };
      break;
    case 'session.unparked':
      board.leases[data.sessionId as string] = { owner: null, revision: String(event.revision), parked: null };
      break;
  }
  return board;
}

function tick(board: WorkBoard, event: RecordedEvent): void {
  if (board.clock === null || event.metadata.recordedAt > board.clock) board.clock = event.metadata.recordedAt;
}

/** The board's clock in ms (see `WorkBoard.clock`); -Infinity before any worker was heard from. */
export function boardTime(board: WorkBoard): number {
  return board.clock === null ? -Infinity : Date.parse(board.clock);
}

function work(board: WorkBoard, event: RecordedEvent): SessionWork {
  return board.sessions[event.metadata.sessionId] ??= { received: 0, completed: 0, handoffs: 0, closed: false };
}

/** A turn asked for and not answered, or a hand-off under way: a session some worker must be running. */
export function hasOpenWork(work: SessionWork): boolean {
  return !work.closed && (work.received > work.completed || work.handoffs > 0);
}

/** Alive: joined, not left, and heard from within its lease's time to live of `nowMs` (a worker passes `boardTime`). */
export function isAlive(board: WorkBoard, workerId: string, nowMs: number): boolean {
  const worker = board.workers[workerId];
  return worker !== undefined && worker.left === null && nowMs - Date.parse(worker.lastSeen) <= worker.leaseTtlMs;
}

export function liveWorkers(board: WorkBoard, group: string, nowMs: number): string[] {
  return Object.keys(board.workers).filter((id) => board.workers[id]!.group === group && isAlive(board, id, nowMs)).sort();
}

/** The worker holding a session's lease, if that worker is alive. */
export function liveOwner(board: WorkBoard, sessionId: string, nowMs: number): string | null {
  const owner = board.leases[sessionId]?.owner ?? null;
  return owner !== null && isAlive(board, owner, nowMs) ? owner : null;
}
