import type { SessionContext, TurnOutcome } from '../../machines/sessionMachine.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { foldActor } from './actorFold.ts';
import { actorKinds } from './actorKinds.ts';
import { sessionStream } from './sessionStreams.ts';

/** A turn's outcome, and the session it belongs to. */
export interface FinishedTurn extends TurnOutcome {
  sessionId: string;
}

/**
 * The turns of these sessions whose completion was recorded at or after `since` (ISO time), each with its answer or
 * failure as the session recorded it: what a command that resumed them finished, for it to print. With
 * `askedBefore`, only turns whose query is at or before that position: not the ones the command asked itself.
 */
export async function turnsFinishedSince(store: EventStore, sessionIds: readonly string[], since: string, askedBefore?: bigint): Promise<FinishedTurn[]> {
  const finished: FinishedTurn[] = [];
  const from = Date.parse(since);
  for (const sessionId of sessionIds) {
    const events = await collect(store.readStream(sessionStream(sessionId)));
    // Turns are numbered in the order their queries were received.
    const asked = events.filter((e) => e.type === 'query.received').map((e) => e.position);
    foldActor(actorKinds.session!, events, (event, snapshot) => {
      if (event.type !== 'turn.completed' || Date.parse(event.metadata.recordedAt) < from) return;
      const turn = (event.data as { turn: number }).turn;
      const askedAt = asked[turn];
      if (askedBefore !== undefined && (askedAt === undefined || askedAt > askedBefore)) return;
      const outcome = (snapshot.context as SessionContext).recentOutcomes.at(-1);
      if (outcome) finished.push({ sessionId, ...outcome });
    });
  }
  return finished;
}
