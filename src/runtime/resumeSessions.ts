import { MODEL_TIMEOUT, RETRY_BACKOFF } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { MachineVersionError } from './actorFold.ts';
import type { ActorRuntime } from './actorRuntime.ts';
import { listSessionIds, sessionStream } from './sessionStreams.ts';

/** A session rehydrated only to wait: its one unfinished effect is a timer due later (a breaker's cool-down). */
export interface WaitingSession {
  sessionId: string;
  /** The earliest of its timers: when it next has work. */
  dueAt: number;
  key: string;
}

/**
 * A session with a model call whose timeout is still ahead: the process that made the call may be alive and waiting
 * for the answer (another terminal's `chronicle run`), or may have stopped; the log cannot tell which.
 */
export interface InFlightSession {
  sessionId: string;
  /** When the call times out (or the retry is due): from then on no live process is waiting for it. */
  timeoutAt: number;
  /** What the process running it waits for: a model call's answer, or a retry's backoff before the next call. */
  awaiting: 'call' | 'retry';
}

export interface ResumeOptions {
  /** A session this build cannot resume (written by another machine version), and why. */
  onSkipped?: (sessionId: string, reason: string) => void;
  /** The live worker holding a session, if any: such a session is that worker's to run. */
  heldBy?: (sessionId: string) => string | null;
  /** Each session left to the live worker holding it. */
  onHeld?: (sessionId: string, workerId: string) => void;
  /** Each session resumed whose only work is timers due later: a short-lived process will exit before they fire. */
  onWaiting?: (session: WaitingSession) => void;
  /**
   * Given, sessions with a model call still within its timeout are left to the process that may be running them
   * (not rehydrated, so their calls are not made twice) and reported here; without it they are taken over at once.
   */
  leaveInFlight?: (session: InFlightSession) => void;
  /**
   * Takes a session with work to do now before anything of it runs here (a lease, where workers share the store);
   * null when it is taken, else who took it first. Such a session is then reported through `onHeld`.
   */
  claim?: (sessionId: string) => Promise<string | null>;
}

/**
 * Finds every session with unfinished work — a turn in progress, queued queries, or an actor with a started timer
 * or a model request that has no outcome — and rehydrates all of its actors, so the session goes on as if the
 * process that ran it had never stopped. Returns the ids of those with work now; those that only wait on a timer
 * due later are rehydrated too (a long-lived process fires it when due) and reported through `onWaiting`.
 */
export async function resumeUnfinishedSessions(runtime: ActorRuntime, options: ResumeOptions = {}): Promise<string[]> {
  const resumed: string[] = [];
  for (const sessionId of await listSessionIds(runtime.store)) {
    // A session a live worker holds is that worker's to run: resuming it here too would call its models twice.
    const holder = options.heldBy?.(sessionId) ?? null;
    if (holder !== null) {
      options.onHeld?.(sessionId, holder);
      continue;
    }
    try {
      const work = await resumeSessionIfUnfinished(runtime, sessionId, { leaveInFlight: options.leaveInFlight !== undefined, ...(options.claim ? { claim: options.claim } : {}) });
      if (work?.takenBy) options.onHeld?.(sessionId, work.takenBy);
      else if (work?.inFlight) options.leaveInFlight?.(work.inFlight);
      else if (work?.waiting) options.onWaiting?.(work.waiting);
      else if (work) resumed.push(sessionId);
    } catch (error) {
      // A session written by another machine version cannot be resumed by this build; the others still can.
      if (!(error instanceof MachineVersionError)) throw error;
      options.onSkipped?.(sessionId, error.message);
    }
  }
  return resumed;
}

/**
 * Rehydrates every actor of one session when it has unfinished work; null when it has none. `waiting` is set when
 * all there is to do is a timer due later (overdue timers are work now: rehydrating fires them at once). With
 * `leaveInFlight`, a session with a model call still within its timeout is not rehydrated but returned as `inFlight`.
 */
export async function resumeSessionIfUnfinished(
  runtime: ActorRuntime,
  sessionId: string,
  options: { leaveInFlight?: boolean; claim?: ResumeOptions['claim'] } = {},
): Promise<{ waiting?: WaitingSession; inFlight?: InFlightSession; takenBy?: string } | null> {
  const { streams, outstanding, timers, workNow } = await unfinishedWork(runtime, sessionId);
  if (!workNow && timers.length === 0) return null;
  const now = runtime.clock.now();
  const callTimeout = timers.find((t) => t.key === MODEL_TIMEOUT && t.dueAt > now);
  // A retry's backoff still ahead, with nothing overdue, is a turn some process may be waiting out to call again:
  // taken up here too, its model would be called twice when both timers fire.
  const backoff = timers.find((t) => t.key === RETRY_BACKOFF && t.dueAt > now);
  const awaited = callTimeout && outstanding.some((o) => o.modelRequests > 0) ? { timeoutAt: callTimeout.dueAt, awaiting: 'call' as const }
    : backoff && !timers.some((t) => t.dueAt <= now) ? { timeoutAt: backoff.dueAt, awaiting: 'retry' as const } : undefined;
  if (options.leaveInFlight && awaited) {
    // Loaded only to look: dropped again, so nothing of it is hosted here while another process may extend it.
    runtime.forgetSession(sessionId);
    return { inFlight: { sessionId, ...awaited } };
  }
  // Claimed only for work now: a session that just waits on a timer is not run by a command that exits before it.
  const takenBy = workNow && options.claim ? await options.claim(sessionId) : null;
  if (takenBy !== null) {
    runtime.forgetSession(sessionId);
    return { takenBy };
  }
  for (const s of streams) await runtime.rehydrate(s);
  return workNow ? {} : { waiting: { sessionId, dueAt: timers[0]!.dueAt, key: timers[0]!.key } };
}

/** What of a session is unfinished: its actors' streams, their outstanding effects, its timers soonest first. */
async function unfinishedWork(runtime: ActorRuntime, sessionId: string) {
  const stream = sessionStream(sessionId);
  const session = await runtime.snapshotOf(stream);
  const context = session.context as SessionContext;
  const streams = [stream, ...Object.values(context.agents)];
  const outstanding = await Promise.all(streams.map((s) => runtime.outstandingEffects(s)));
  if (context.transition !== null && context.transition !== undefined) streams.push(context.transition);
  const timers = outstanding.flatMap((o) => o.timers).sort((a, b) => a.dueAt - b.dueAt);
  const workNow = session.matches('turn') || session.matches('handingOff') || context.queued.length > 0
    || outstanding.some((o) => o.modelRequests > 0) || timers.some((t) => t.dueAt <= runtime.clock.now());
  return { streams, outstanding, timers, workNow };
}

/**
 * The sessions that, once their work now is done, still wait on a timer due later (a breaker's cool-down armed while
 * they ran): what a command that exits now leaves for a later one to fire. Sessions with work now are not listed.
 */
export async function sessionsStillWaiting(runtime: ActorRuntime, sessionIds: readonly string[]): Promise<WaitingSession[]> {
  const waiting: WaitingSession[] = [];
  for (const sessionId of sessionIds) {
    const { timers, workNow } = await unfinishedWork(runtime, sessionId);
    if (!workNow && timers.length > 0) waiting.push({ sessionId, dueAt: timers[0]!.dueAt, key: timers[0]!.key });
  }
  return waiting;
}

/** Resolves when none of the sessions has a turn running or queued. */
export async function untilSessionsIdle(runtime: ActorRuntime, sessionIds: readonly string[]): Promise<void> {
  await Promise.all(sessionIds.map((id) => runtime.waitFor(sessionStream(id), (s) => !s.matches('turn') && !s.matches('handingOff') && (s.context as SessionContext).queued.length === 0)));
}
