import type { SessionContext } from '../../machines/sessionMachine.ts';
import { MachineVersionError } from './actorFold.ts';
import type { ActorRuntime } from './actorRuntime.ts';
import { listSessionIds, sessionStream } from './sessionStreams.ts';

/**
 * Finds every session with unfinished work — a turn in progress, queued queries, or an actor with a started timer
 * or a model request that has no outcome — and rehydrates all of its actors, so the session goes on as if the
 * process that ran it had never stopped. Returns the ids it resumed.
 */
export async function resumeUnfinishedSessions(runtime: ActorRuntime, onSkipped: (sessionId: string, reason: string) => void = () => {}, heldBy: (sessionId: string) => string | null = () => null): Promise<string[]> {
  const resumed: string[] = [];
  for (const sessionId of await listSessionIds(runtime.store)) {
    // A session a live worker holds is that worker's to run: resuming it here too would call its models twice.
    if (heldBy(sessionId) !== null) continue;
    try {
      if (await resumeSessionIfUnfinished(runtime, sessionId)) resumed.push(sessionId);
    } catch (error) {
      // A session written by another machine version cannot be resumed by this build; the others still can.
      if (!(error instanceof MachineVersionError)) throw error;
      onSkipped(sessionId, error.message);
    }
  }
  return resumed;
}

/** Rehydrates every actor of one session when it has unfinished work; false when it has none. */
export async function resumeSessionIfUnfinished(runtime: ActorRuntime, sessionId: string): Promise<boolean> {
  const stream = sessionStream(sessionId);
  const session = await runtime.snapshotOf(stream);
  const context = session.context as SessionContext;
  const streams = [stream, ...Object.values(context.agents)];
  const outstanding = await Promise.all(streams.map((s) => runtime.outstandingEffects(s)));
  if (context.transition !== null && context.transition !== undefined) streams.push(context.transition);
  const unfinished = session.matches('turn') || session.matches('handingOff') || context.queued.length > 0 || outstanding.some((o) => o.timers + o.modelRequests > 0);
  if (!unfinished) return false;
  for (const s of streams) await runtime.rehydrate(s);
  return true;
}

/** Resolves when none of the sessions has a turn running or queued. */
export async function untilSessionsIdle(runtime: ActorRuntime, sessionIds: readonly string[]): Promise<void> {
  await Promise.all(sessionIds.map((id) => runtime.waitFor(sessionStream(id), (s) => !s.matches('turn') && !s.matches('handingOff') && (s.context as SessionContext).queued.length === 0)));
}
