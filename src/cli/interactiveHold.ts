import { randomUUID } from 'node:crypto';
import type { WorkBoard } from '../../projections/workBoard/workBoard.ts';
import { randomIds } from '../runtime/ids.ts';
import type { EventStore } from '../store/eventStore.ts';
import { WrongExpectedVersionError } from '../store/errors.ts';
import { workBoardOf } from '../worker/workBoardReader.ts';
import { processIdentity } from '../worker/endedOnThisHost.ts';
import { recordLeaseFact, recordWorkerFact, type WorkerIdentity } from '../worker/workerRecords.ts';

/** Heard from this often, and alive for this long after: a killed command's sessions go to the workers soon after. */
const HEARTBEAT_MS = 5_000;
const LEASE_TTL_MS = 15_000;
/** Heartbeats kept on a command's worker stream: only the newest say anything. */
const KEPT = 20;

/**
 * The worker id a command holding sessions goes by: its process, so `workers` shows who it is, and a random part,
 * as pids repeat across hosts and containers (every container's first process is pid 1).
 */
export function interactiveHolderId(pid = process.pid): string {
  return `run.${pid}.${randomUUID().slice(0, 8)}`;
}

/** The process id in an interactive holder's id. */
export function interactiveHolderPid(workerId: string): string {
  return workerId.split('.')[1] ?? workerId;
}

export function isInteractiveHolder(workerId: string): boolean {
  return workerId.startsWith('run.');
}

/**
 * A command that runs a session itself (`chronicle run`) in a store that workers share holds the session's lease as
 * a worker of group "interactive" would: joined, heartbeating, released when it is done. The workers then leave the
 * session to it, where they would take over a session with an unanswered model call and call its model a second
 * time; a command killed mid-run stops heartbeating, and the workers take its session over once its lease lapses.
 * In a store no worker has joined there is nobody to tell: nothing is recorded.
 */
export class InteractiveHold {
  readonly #who: WorkerIdentity;
  readonly #board: WorkBoard;
  readonly #held = new Map<string, bigint>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  private constructor(who: WorkerIdentity, board: WorkBoard) {
    this.#who = who;
    this.#board = board;
  }

  /** Undefined when no worker ever joined the store (`board` undefined). */
  static forBoard(store: EventStore, board: WorkBoard | undefined): InteractiveHold | undefined {
    if (board === undefined) return undefined;
    return new InteractiveHold({ store, ids: randomIds, now: Date.now, workerId: interactiveHolderId(), group: 'interactive' }, board);
  }

  /** Takes the session's lease before anything of the session is recorded; refused if another holder got it first. */
  async hold(sessionId: string): Promise<void> {
    if (this.#held.has(sessionId)) return;
    if (this.#heartbeat === undefined) await this.#join();
    const lease = this.#board.leases[sessionId];
    const from = lease?.owner ?? null;
    const result = await recordLeaseFact(this.#who, sessionId, 'lease.acquired', { group: this.#who.group, from, reason: 'run by a chronicle command' }, lease ? BigInt(lease.revision) : 'no_stream');
    this.#held.set(sessionId, result.nextExpectedRevision);
  }

  /**
   * `hold`, for a session this command found unfinished: null once held, or, when another worker or command took it
   * first, who holds it now (that one runs it).
   */
  async claim(sessionId: string): Promise<string | null> {
    try {
      await this.hold(sessionId);
      return null;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      return (await workBoardOf(this.#who.store))?.leases[sessionId]?.owner ?? 'another process';
    }
  }

  /** Gives every lease back and leaves: the sessions are anybody's again. Never throws: the command's work is done. */
  async release(): Promise<void> {
    clearInterval(this.#heartbeat);
    if (this.#heartbeat === undefined) return;
    process.off('exit', this.#releaseAtExit);
    await Promise.all(this.#giveBack('the command finished'));
  }

  /** Records every lease given back and the command gone; each append is started at once, and none throws. */
  #giveBack(reason: string): Promise<unknown>[] {
    return [
      ...[...this.#held].map(([sessionId, revision]) => recordLeaseFact(this.#who, sessionId, 'lease.released', { reason }, revision).catch(() => undefined)),
      recordWorkerFact(this.#who, 'worker.left', { workerId: this.#who.workerId, reason }).catch(() => undefined),
    ];
  }

  /**
   * A command stopped mid-run (Ctrl-C exits at once) gives its leases back on the way out, so `resume` can take the
   * session now rather than once the lease lapses. Synchronous, as 'exit' handlers must be: the embedded store
   * writes before its append's first await; on a store that cannot, the lease lapses as a killed command's does.
   */
  readonly #releaseAtExit = () => void this.#giveBack('the command was stopped');

  async #join(): Promise<void> {
    const identity = { workerId: this.#who.workerId, group: this.#who.group, ...processIdentity(), leaseTtlMs: LEASE_TTL_MS };
    const joined = await recordWorkerFact(this.#who, 'worker.joined', identity, 'no_stream');
    if (joined.nextExpectedRevision === 0n) await this.#who.store.setStreamMetadata(`worker-${this.#who.workerId}`, { maxCount: KEPT });
    process.once('exit', this.#releaseAtExit);
    this.#heartbeat = setInterval(() => void recordWorkerFact(this.#who, 'worker.heartbeat', { ...identity, sessions: this.#held.size }).catch(() => undefined), HEARTBEAT_MS);
    // The command's own work keeps the process alive; the heartbeat must not keep it waiting at the end.
    this.#heartbeat.unref();
  }
}
