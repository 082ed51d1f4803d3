import type { AnyMachineSnapshot, StateValue } from 'xstate';
import type { RecordedEvent } from '../events/envelope.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { mayHaveEvents, type EventStore } from '../store/eventStore.ts';
import { foldActor, initialSnapshot, machineOfEvent } from './actorFold.ts';
import { sessionIdOf, type ActorKind } from './actorKinds.ts';
import { emptyTracking, trackEvent, type ActorTracking } from './actorTracking.ts';
import { newestCheckpointAt } from './checkpoints.ts';
import type { CheckpointData } from './stateAt.ts';

/** What the runtime hosts of an actor: its snapshot, the last revision of its stream, and its open effects. */
export interface LoadedActor {
  snapshot: AnyMachineSnapshot;
  revision: bigint;
  tracking: ActorTracking;
  /** The checkpoint revision it was rebuilt from, or null when its whole stream was folded. */
  fromCheckpoint: bigint | null;
}

/**
 * An actor rebuilt from its stream: from its session's newest checkpoint when that covers it (the snapshot the
 * checkpoint holds, then the stream folded on from the covered revision), else by folding the whole stream. The
 * checkpoint's `openFrom` says where the effects still open at it begin (a timer started, a model requested), so
 * the stream is read from there rather than from its start: a cold start of a long session reads its tail, not its
 * history. Only on stores that write a group's streams in one atomic append (`atomicMultiStreamAppend`): there a
 * message is always recorded with its delivery, so none sent before the checkpoint awaits re-delivery.
 */
export async function loadActor(store: EventStore, kind: ActorKind, streamId: string): Promise<LoadedActor> {
  if (!await mayHaveEvents(store, streamId)) return emptyActor(kind);
  if (store.atomicMultiStreamAppend) {
    const checkpoint = await newestCheckpointAt(store, sessionIdOf(streamId), undefined, []);
    const resumed = checkpoint && await foldFromCheckpoint(store, kind, streamId, checkpoint);
    if (resumed) return resumed;
  }
  return foldWholeStream(store, kind, streamId);
}

function emptyActor(kind: ActorKind): LoadedActor {
  return { snapshot: initialSnapshot(kind), revision: -1n, tracking: emptyTracking(), fromCheckpoint: null };
}

async function foldWholeStream(store: EventStore, kind: ActorKind, streamId: string): Promise<LoadedActor> {
  const tracking = emptyTracking();
  let revision = -1n;
  const events: RecordedEvent[] = [];
  try {
    for await (const event of store.readStream(streamId)) {
      events.push(event);
      trackEvent(tracking, event);
      revision = event.revision;
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  if (events.length === 0) return emptyActor(kind);
  return { snapshot: foldActor(kind, events), revision, tracking, fromCheckpoint: null };
}

/**
 * The checkpoint's snapshot folded on through the stream's events after the covered revision, with the open effects
 * tracked from `openFrom`. Undefined, for the caller to fold the whole stream, when the checkpoint does not cover
 * the actor or the stream does not hold what the checkpoint says it covers.
 */
async function foldFromCheckpoint(store: EventStore, kind: ActorKind, streamId: string, checkpoint: CheckpointData): Promise<LoadedActor | undefined> {
  const state = checkpoint.actors[streamId];
  const covered = checkpoint.covered[streamId];
  const openFrom = checkpoint.openFrom?.[streamId];
  if (!state || !covered || openFrom === undefined) return undefined;
  const cut = BigInt(covered.revision);
  // The covered event itself is read too: its version and position vouch that the stream is the one checkpointed.
  const from = BigInt(openFrom) < cut ? BigInt(openFrom) : cut;
  const tracking = emptyTracking();
  const tail: RecordedEvent[] = [];
  let revision = -1n;
  let pastCut = false;
  for await (const event of store.readStream(streamId, { fromRevision: from })) {
    if (revision < 0n && event.revision !== from) return undefined; // records before the cut were removed: no whole history to trust
    if (event.revision === cut && String(event.position) !== covered.position) return undefined;
    machineOfEvent(kind, event); // refuses a version this build cannot replay before anything is folded
    if (!pastCut && event.revision > cut) {
      // Every message sent up to the checkpoint was written with its delivery: only later ones may need re-delivery.
      tracking.sentMessages = new Map();
      pastCut = true;
    }
    trackEvent(tracking, event);
    if (pastCut) tail.push(event);
    revision = event.revision;
  }
  if (revision < cut) return undefined;
  if (!pastCut) tracking.sentMessages = new Map();
  const snapshot = kind.machine.resolveState({ value: state.value as StateValue, context: state.context as never });
  return { snapshot: foldActor(kind, tail, undefined, { from: snapshot }), revision, tracking, fromCheckpoint: cut };
}
