import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { machineEventOf } from '../runtime/actorFold.ts';
import { actorKindOf, sessionIdOf } from '../runtime/actorKinds.ts';
import { sessionStream } from '../runtime/sessionStreams.ts';
import type { InspectionAdapter } from './inspectionServer.ts';

type Inspector = ReturnType<typeof createInspector>;
type ActorRef = Parameters<Inspector['actor']>[0];

/** What an inspector is shown of a snapshot: the persisted part (the machines hold plain data). */
export interface InspectedState {
  value: unknown;
  context: unknown;
  status: string;
}

/** A recorded (or just written) event, as much of it as inspection needs. */
export interface InspectedEvent {
  eventId: string;
  type: string;
  data: unknown;
  metadata: { causationId: string | null; recordedAt: string };
}

/** Causes remembered to name an event's source; the oldest are forgotten first, so a long live run stays bounded. */
const REMEMBERED_CAUSES = 100_000;
/** Machine definitions nest deeper than the library's default of 10 (states → on → transitions → actions). */
const DEPTH_LIMIT = 64;

/**
 * Chronicle's actor system as Stately inspection events, through `@statelyai/inspect`'s `createInspector`: each
 * actor stream is an actor (`@xstate.actor`, its machine's config as the definition, the session as parent and
 * root of its agents and transitions), each recorded event an `@xstate.event` to that actor whose source is the
 * actor that recorded its cause (`metadata.causationId`; for a message, the sender's `message.sent`), and each
 * step's result an `@xstate.snapshot`. Times are the events' `recordedAt`, so a replay shows when things happened;
 * every event's `rootId` is the session's stream.
 */
export class ActorSystemInspection {
  private readonly inspector: Inspector;
  private readonly announced = new Set<string>();
  private readonly recordedBy = new Map<string, string>();
  private at = '';

  constructor(adapter: InspectionAdapter) {
    this.inspector = createInspector(adapter, { serializationDepthLimit: DEPTH_LIMIT, serialize: (event) => this.stamp(event) });
  }

  isAnnounced(streamId: string): boolean {
    return this.announced.has(streamId);
  }

  /** Remembers which stream recorded an event, so events it caused can name their source. */
  noteRecorded(eventId: string, streamId: string): void {
    this.recordedBy.set(eventId, streamId);
    if (this.recordedBy.size > REMEMBERED_CAUSES) this.recordedBy.delete(this.recordedBy.keys().next().value!);
  }

  /** Registers an actor with the state it has before the next event shown (its machine's initial state if new). */
  announce(streamId: string, state: InspectedState, recordedAt: string): void {
    this.at = recordedAt;
    this.announced.add(streamId);
    this.inspector.actor(actorRef(streamId, state), inspected(state));
  }

  /** One step: the event the actor received, then its snapshot after it. */
  step(streamId: string, event: InspectedEvent, state: InspectedState): void {
    this.noteRecorded(event.eventId, streamId);
    this.at = event.metadata.recordedAt;
    const received = machineEventOf(event);
    const cause = event.metadata.causationId;
    const source = cause === null ? undefined : this.recordedBy.get(cause);
    this.inspector.event(streamId, received, source === undefined ? undefined : { source });
    this.inspector.snapshot(streamId, inspected(state), { event: received });
  }

  private stamp(event: StatelyInspectionEvent): StatelyInspectionEvent {
    const createdAt = this.at === '' ? event.createdAt : String(Date.parse(this.at));
    // As in XState's own inspection, every event of a system carries its root actor's id: here the session's.
    const rootId = sessionStream(sessionIdOf(event.sessionId));
    // The library names an actor after its machine id ("agent"); the stream id tells the instances apart.
    return event.type === '@xstate.actor' ? { ...event, createdAt, rootId, name: event.sessionId } : { ...event, createdAt, rootId };
  }
}

type SnapshotStatus = 'active' | 'done' | 'error' | 'stopped';

function inspected(state: InspectedState): { value: unknown; context: unknown; status: SnapshotStatus } {
  return { value: state.value, context: state.context, status: state.status as SnapshotStatus };
}

/**
 * The library takes an actor's definition from `actorRef.logic.config` and its parent and root from `_parent`;
 * Chronicle's actors are not XState actor objects, so each is described by a ref carrying just those.
 */
function actorRef(streamId: string, state: InspectedState): ActorRef {
  const session = sessionStream(sessionIdOf(streamId));
  const parent = streamId === session ? undefined : { sessionId: session, id: session, send: () => {}, getSnapshot: () => undefined };
  const ref = { sessionId: streamId, id: streamId, logic: actorKindOf(streamId).machine, _parent: parent, send: () => {}, getSnapshot: () => state };
  return ref;
}
