import type { AnyMachineSnapshot } from 'xstate';
import type { RecordedEvent } from '../events/envelope.ts';
import { readWholeStreams, type EventStore } from '../store/eventStore.ts';
import { foldActor } from './actorFold.ts';
import { actorKindOf, actorKinds } from './actorKinds.ts';
import { streamCategory } from '../events/envelope.ts';
import { assertPointInTime, isAtOrBefore, type PointInTime } from './pointInTime.ts';
import { readSessionStreams } from './sessionStreams.ts';

export interface ActorStateAt {
  streamId: string;
  actorKind: string;
  /** Revision and position of the last event folded; null when the actor did not exist yet at that point. */
  revision: bigint | null;
  position: bigint | null;
  value: unknown;
  context: unknown;
  status: string;
}

/**
 * Each actor of a session as of a point: its stream folded through its machine up to that point with the pure
 * `transition()`. No model is called and no timer armed; events written under another machine version are refused.
 */
export async function replaySession(store: EventStore, sessionId: string, at?: PointInTime): Promise<ActorStateAt[]> {
  assertPointInTime(at);
  const streams = await readSessionStreams(store, sessionId, { ledger: false });
  return [...streams].filter(([streamId]) => streamCategory(streamId) in actorKinds)
    .map(([streamId, events]) => replayStream(streamId, events.filter((e) => isAtOrBefore(e, at))));
}

/**
 * Many actor streams replayed whole, each as `replayStream` replays it, in the order given: one read of them all,
 * which a SQLite store reads ahead on a thread of its own while each stream read before is folded.
 */
export async function* replayStreams(store: EventStore, streamIds: readonly string[]): AsyncGenerator<ActorStateAt> {
  // The events are read for these folds alone and dropped after them.
  for await (const { streamId, events } of readWholeStreams(store, streamIds)) yield replayStream(streamId, events, { consume: true });
}

export function replayStream(streamId: string, events: readonly RecordedEvent[], options: { consume?: boolean } = {}): ActorStateAt {
  const kind = actorKindOf(streamId);
  const snapshot: AnyMachineSnapshot = foldActor(kind, events, undefined, options);
  const last = events.at(-1);
  return {
    streamId, actorKind: kind.category, revision: last?.revision ?? null, position: last?.position ?? null,
    // The machines hold plain data and spawn no children, so the snapshot's value and context are already what
    // persisting would produce (the determinism tests compare them with `getPersistedSnapshot`).
    value: snapshot.value, context: snapshot.context, status: snapshot.status,
  };
}
