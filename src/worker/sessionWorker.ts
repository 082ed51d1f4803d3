import { boardTime, emptyWorkBoard, evolveWorkBoard, hasOpenWork, isAlive, liveOwner, liveWorkers, WORK_BOARD_VERSION, workBoardFilter, type WorkBoard } from '../../projections/workBoard/workBoard.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { isConflict, SessionFencedError, type ActorRuntime } from '../runtime/actorRuntime.ts';
import { CheckpointedFold, type FoldDefinition } from '../runtime/checkpointedFold.ts';
import type { Clock } from '../runtime/clock.ts';
import type { IdSource } from '../runtime/ids.ts';
import { resumeSessionIfUnfinished } from '../runtime/resumeSessions.ts';
import { StreamNotFoundError, WrongExpectedVersionError } from '../store/errors.ts';
import type { EventStore } from '../store/eventStore.ts';
import { preferredWorker } from './rendezvous.ts';
import { processIdentity } from './endedOnThisHost.ts';
import { leaseStream, workerStream } from './workerEvents.ts';
import { recordLeaseFact, recordWorkerFact, type WorkerIdentity } from './workerRecords.ts';

export const workBoardDefinition: FoldDefinition<WorkBoard> = {
  name: 'workBoard', version: WORK_BOARD_VERSION, filter: workBoardFilter, initial: emptyWorkBoard, evolve: evolveWorkBoard,
};

/**
 * Sessions a server assigns to this worker (KurrentDB's persistent subscription, pinned per stream): the worker
 * claims them at once instead of by rendezvous, and tells the server when each is taken or parked.
 */
export interface SessionAssignments {
  start(onAssigned: (sessionId: string) => void): void;
  has(sessionId: string): boolean;
  /** The session is durably this worker's, or another live worker's: the server may forget the delivery. */
  taken(sessionId: string): Promise<void>;
  parked(sessionId: string, reason: string): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  store: EventStore;
  runtime: ActorRuntime;
  clock: Clock;
  ids: IdSource;
  workerId: string;
  group: string;
  /** A worker whose heartbeats stop for this long is dead, and its sessions are taken over (ms). */
  leaseTtlMs: number;
  heartbeatMs: number;
  /** How long a session nobody holds waits for its preferred worker before any worker takes it (ms). */
  graceMs: number;
  assignments?: SessionAssignments;
  log: (line: string) => void;
}

/** Events a worker's stream keeps readable: its newest heartbeats. */
const WORKER_STREAM_KEPT = 20;
/** Heartbeats between checkpoints of the work board. */
const CHECKPOINT_EVERY_HEARTBEATS = 20;

/**
 * A worker process's share of the sessions in a store (ARCHITECTURE.md §8). It follows the work board (workers,
 * leases, sessions with work) as a catch-up subscriber; takes a session with unfinished work that nobody alive
 * holds, by recording a lease with an exact expected revision, then rehydrating its actors, which performs what the
 * log asks for (a client's query and the model calls it caused); keeps its leases alive with heartbeats; gives a
 * session up when another worker took its lease or won a race on its streams; and parks a session it cannot run,
 * with the reason recorded.
 */
export class SessionWorker {
  private readonly options: WorkerOptions;
  private readonly who: WorkerIdentity;
  private board!: CheckpointedFold<WorkBoard>;
  /** Sessions this worker holds, with the lease revision it acquired them at. */
  private readonly held = new Map<string, bigint>();
  private readonly claiming = new Set<string>();
  private readonly unheldSince = new Map<string, number>();
  private heartbeatTimer: unknown;
  private heartbeats = 0;
  private reconcileScheduled = false;
  private following: Promise<void> | undefined;
  private stopping = false;
  private stopped!: () => void;
  private readonly finished = new Promise<void>((resolve) => { this.stopped = resolve; });

  constructor(options: WorkerOptions) {
    this.options = options;
    this.who = { store: options.store, ids: options.ids, now: () => options.clock.now(), workerId: options.workerId, group: options.group };
  }

  get sessions(): readonly string[] {
    return [...this.held.keys()];
  }

  get workBoard(): WorkBoard {
    return this.board.state;
  }

  /** Joins the group and starts taking sessions; resolves once running (see `done`). */
  async start(): Promise<void> {
    this.board = await CheckpointedFold.load(this.options.store, workBoardDefinition);
    // A worker id is a name an operator reuses (a service unit, a pod): it may join again once its previous run has
    // left or gone silent past its lease; while that one still heartbeats, a second would share its leases.
    await this.board.catchUp();
    const id = this.options.workerId;
    const previous = this.board.state.workers[id];
    if (previous && isAlive(this.board.state, id, this.options.clock.now())) {
      throw new WorkerIdInUseError(`worker ${id} is already running (pid ${previous.pid} on ${previous.host}, last heard from at ${previous.lastSeen}); give this one another --id, or stop that one first`);
    }
    // Joined at the stream's head as read: of two processes starting under one id at once, one is refused.
    const joined = await recordWorkerFact(this.who, 'worker.joined', this.identity(), await streamHead(this.options.store, workerStream(id))).catch((error: unknown) => {
      throw error instanceof WrongExpectedVersionError ? new WorkerIdInUseError(`worker ${id} was started by another process at the same moment; give this one another --id`) : error;
    });
    // Only the newest heartbeats matter; each says who the worker is, so older ones can go.
    if (joined.nextExpectedRevision === 0n) await this.options.store.setStreamMetadata(workerStream(this.options.workerId), { maxCount: WORKER_STREAM_KEPT });
    await this.board.catchUp();
    this.following = this.board.follow((event) => this.observe(event)).catch((error: unknown) => {
      if (!this.stopping) this.options.log(`worker ${this.options.workerId}: the work board stopped following the store: ${(error as Error).message}`);
    });
    this.options.assignments?.start((sessionId) => this.onAssigned(sessionId));
    this.scheduleHeartbeat();
    this.scheduleReconcile();
  }

  /** Resolves when the worker has stopped. */
  get done(): Promise<void> {
    return this.finished;
  }

  /**
   * Leaves cleanly: stops taking sessions, waits up to `drainMs` for the held ones to reach a point where nothing
   * is in flight, releases their leases so other workers take them at once, and records that it left.
   */
  async stop(reason: string, drainMs: number): Promise<void> {
    if (this.stopping) return this.finished;
    this.stopping = true;
    this.options.clock.clearTimer(this.heartbeatTimer);
    await this.options.assignments?.stop();
    await this.board.stop();
    await this.following;
    await Promise.race([this.options.runtime.settled().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, drainMs))]);
    this.options.runtime.stop();
    for (const [sessionId, revision] of this.held) {
      await recordLeaseFact(this.who, sessionId, 'lease.released', { reason }, revision).catch(() => undefined);
    }
    await recordWorkerFact(this.who, 'worker.left', { workerId: this.options.workerId, reason }).catch(() => undefined);
    this.stopped();
  }

  /**
   * A failure the runtime could not attribute to a caller: a lost race gives the session up (the lease says who
   * owns it now); anything else makes the session poison, parked with its reason, so it cannot take a worker down.
   */
  onSessionFailure(error: Error, sessionId: string | undefined): boolean {
    if (sessionId === undefined || !this.held.has(sessionId)) return false;
    if (error instanceof SessionFencedError) this.giveUp(sessionId, 'its lease was taken while this worker was writing');
    else if (isConflict(error)) this.giveUp(sessionId, `another writer won a race on its streams (${error.message})`);
    else void this.park(sessionId, error.message);
    return true;
  }

  /** The runtime's fence for a session this worker holds: its lease stream, at the revision it acquired it. */
  fenceOf(sessionId: string): { streamId: string; expectedState: bigint } | undefined {
    const revision = this.held.get(sessionId);
    return revision === undefined ? undefined : { streamId: leaseStream(sessionId), expectedState: revision };
  }

  private observe(event: RecordedEvent): void {
    // A query a client recorded for a session this worker runs: the hosted actors are behind the log and the
    // requests it caused are not performed yet. Reload and resume the session.
    if (event.type === 'query.received' && this.held.has(event.metadata.sessionId)) void this.take(event.metadata.sessionId, 'a new query');
    this.scheduleReconcile();
  }

  private scheduleReconcile(): void {
    if (this.reconcileScheduled || this.stopping) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      if (!this.stopping) this.reconcile();
    });
  }

  /**
   * A session the server delivered to this worker: acknowledged at once when there is nothing to claim (this worker
   * or another live one holds it, or it has no work), else once a claim has made it this worker's.
   */
  private onAssigned(sessionId: string, caughtUp = false): void {
    const board = this.board.state;
    const work = board.sessions[sessionId];
    // Delivered before the board has folded it: catch the board up first, once.
    if (work === undefined && !caughtUp) {
      void this.board.catchUp().then(() => this.onAssigned(sessionId, true), () => this.onAssigned(sessionId, true));
      return;
    }
    const claimable = work !== undefined && hasOpenWork(work) && !this.held.has(sessionId) && !board.leases[sessionId]?.parked && liveOwner(board, sessionId, boardTime(board)) === null;
    if (claimable) this.scheduleReconcile();
    else void this.options.assignments?.taken(sessionId).catch((error: unknown) => this.options.log(`worker ${this.options.workerId}: could not acknowledge session ${sessionId}: ${(error as Error).message}`));
  }

  /** Compares the board with what this worker holds: gives up leases taken from it, claims sessions nobody runs. */
  private reconcile(): void {
    const board = this.board.state;
    const now = boardTime(board);
    const wallNow = this.options.clock.now();
    const me = this.options.workerId;
    for (const [sessionId, revision] of this.held) {
      const lease = board.leases[sessionId];
      if (lease && BigInt(lease.revision) > revision && lease.owner !== me) this.giveUp(sessionId, lease.parked ? `parked: ${lease.parked}` : `lease taken by ${lease.owner ?? 'nobody'}`);
    }
    if (!isAlive(board, me, now)) return;
    const live = liveWorkers(board, this.options.group, now);
    for (const [sessionId, work] of Object.entries(board.sessions)) {
      if (!hasOpenWork(work) || this.held.has(sessionId) || this.claiming.has(sessionId)) continue;
      const lease = board.leases[sessionId];
      if (lease?.parked) continue;
      if (liveOwner(board, sessionId, now) !== null) {
        this.unheldSince.delete(sessionId);
        continue;
      }
      let since = this.unheldSince.get(sessionId);
      if (since === undefined) this.unheldSince.set(sessionId, since = wallNow);
      const preferred = this.options.assignments ? this.options.assignments.has(sessionId) : preferredWorker(sessionId, live) === me;
      if (preferred || wallNow - since >= this.options.graceMs) void this.claim(sessionId);
    }
  }

  private async claim(sessionId: string): Promise<void> {
    const lease = this.board.state.leases[sessionId];
    const from = lease?.owner ?? null;
    this.claiming.add(sessionId);
    try {
      const expected = lease ? BigInt(lease.revision) : 'no_stream' as const;
      const reason = from === null ? 'unheld session with work' : `${from} stopped renewing its lease`;
      const result = await recordLeaseFact(this.who, sessionId, 'lease.acquired', { group: this.options.group, from, reason }, expected);
      this.held.set(sessionId, result.nextExpectedRevision);
      this.unheldSince.delete(sessionId);
      this.options.log(`worker ${this.options.workerId}: took session ${sessionId}${from ? ` from ${from}` : ''}`);
      await this.take(sessionId, 'lease acquired');
      await this.options.assignments?.taken(sessionId);
    } catch (error) {
      // Another worker claimed it from the same state first: the board will show its lease.
      if (!(error instanceof WrongExpectedVersionError)) this.options.log(`worker ${this.options.workerId}: could not claim session ${sessionId}: ${(error as Error).message}`);
    } finally {
      this.claiming.delete(sessionId);
    }
  }

  /** Reads the session afresh from the log and resumes it: whatever it asked for and has no outcome is performed. */
  private async take(sessionId: string, why: string): Promise<void> {
    const { runtime } = this.options;
    runtime.reclaimSession(sessionId);
    runtime.forgetSession(sessionId);
    try {
      await resumeSessionIfUnfinished(runtime, sessionId);
    } catch (error) {
      if (!this.onSessionFailure(error as Error, sessionId)) this.options.log(`worker ${this.options.workerId}: ${why}: session ${sessionId}: ${(error as Error).message}`);
    }
  }

  private giveUp(sessionId: string, why: string): void {
    if (!this.held.delete(sessionId)) return;
    this.options.runtime.releaseSession(sessionId);
    this.options.log(`worker ${this.options.workerId}: gave up session ${sessionId}: ${why}`);
  }

  private async park(sessionId: string, reason: string): Promise<void> {
    const revision = this.held.get(sessionId);
    if (revision === undefined) return;
    this.held.delete(sessionId);
    this.options.runtime.releaseSession(sessionId);
    try {
      await recordLeaseFact(this.who, sessionId, 'session.parked', { reason }, revision);
      this.options.log(`worker ${this.options.workerId}: parked session ${sessionId}: ${reason}`);
      await this.options.assignments?.parked(sessionId, reason);
    } catch (error) {
      this.options.log(`worker ${this.options.workerId}: could not park session ${sessionId} (${reason}): ${(error as Error).message}`);
    }
  }

  private identity() {
    return { workerId: this.options.workerId, group: this.options.group, ...processIdentity(), leaseTtlMs: this.options.leaseTtlMs };
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = this.options.clock.setTimer(this.options.heartbeatMs, () => void this.heartbeat());
  }

  private async heartbeat(): Promise<void> {
    if (this.stopping) return;
    try {
      await recordWorkerFact(this.who, 'worker.heartbeat', { ...this.identity(), sessions: this.held.size });
      if (++this.heartbeats % CHECKPOINT_EVERY_HEARTBEATS === 0) {
        // The projections this worker keeps, checkpointed for every other process (workers, the CLI, the dashboard).
        await this.board.checkpoint({ ids: this.options.ids, recordedAt: new Date(this.options.clock.now()).toISOString() });
        await this.options.runtime.checkpointStoreFolds();
      }
    } catch (error) {
      // The store may be away for a while; the leases lapse if it stays away, and the board shows that on return.
      this.options.log(`worker ${this.options.workerId}: heartbeat not recorded: ${(error as Error).message}`);
    }
    this.scheduleReconcile();
    if (!this.stopping) this.scheduleHeartbeat();
  }
}

export class WorkerIdInUseError extends Error {
  override readonly name = 'WorkerIdInUseError';
}

/** The revision of a stream's newest event, or `no_stream`: what appending right after it expects. */
async function streamHead(store: EventStore, streamId: string): Promise<bigint | 'no_stream'> {
  try {
    for await (const event of store.readStream(streamId, { fromRevision: 'end', direction: 'backwards', maxCount: 1 })) return event.revision;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return 'no_stream';
}
