import type { AnyMachineSnapshot, StateValue } from 'xstate';
import type { SessionProjection } from '../../projections/sessionProjection.ts';
import { ledgerProjection } from '../../projections/tokenLedger/ledgerProjection.ts';
import type { LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventData } from '../events/catalogue.ts';
import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import type { EventStore } from '../store/eventStore.ts';
import { initialSnapshot, replayStep } from './actorFold.ts';
import { actorKindOf, actorKinds } from './actorKinds.ts';
import { newestCheckpointAt } from './checkpoints.ts';
import { assertPointInTime, isAtOrBefore, type PointInTime } from './pointInTime.ts';
import type { ActorStateAt } from './replay.ts';
import { assertSessionExists, readSessionTail } from './sessionStreams.ts';

export interface SessionStateAt {
  sessionId: string;
  /** Position of the last event folded; null when the session did not exist yet at that point. */
  position: bigint | null;
  actors: ActorStateAt[];
  ledger: LedgerState;
  projections: Record<string, unknown>;
  /** The last revision and position folded of every stream: what a checkpoint of this state covers. */
  covered: CheckpointData['covered'];
}

/** Projections folded besides the ledger (tiered session state, climate impact), by name. */
export type ExtraProjections = Record<string, SessionProjection<unknown>>;

export type CheckpointData = EventData<'checkpoint.recorded'>;

/**
 * One session as of a point: every actor folded through its machine and every projection folded over the
 * session's events, all up to the same position (or time). It starts from the newest checkpoint at or before the
 * point that holds every projection asked for, and folds only the tail; the answer is the same either way.
 */
export async function sessionStateAt(store: EventStore, sessionId: string, at?: PointInTime, extra: ExtraProjections = {}, options: { checkpoints?: boolean } = {}): Promise<SessionStateAt> {
  assertPointInTime(at);
  const checkpoint = options.checkpoints === false ? undefined : await newestCheckpointAt(store, sessionId, at, ['ledger', ...Object.keys(extra)]);
  // The tail (from the start when there is no checkpoint) holds only events at or before the point.
  const tail = await readSessionTail(store, sessionId, checkpoint?.covered ?? {}, at);
  // A session with no stream at all is unknown.
  if (!checkpoint && tail.length === 0) await assertSessionExists(store, sessionId);
  return foldSession(sessionId, tail.sort(byPosition), extra, checkpoint);
}

/** Folds a session's events (in global order) into its state, from the start or from a checkpoint. */
export function foldSession(sessionId: string, events: readonly RecordedEvent[], extra: ExtraProjections = {}, from?: CheckpointData): SessionStateAt {
  const actors = new Map<string, { snapshot: AnyMachineSnapshot; revision: bigint | null; position: bigint | null }>();
  for (const [streamId, state] of Object.entries(from?.actors ?? {})) {
    const kind = actorKindOf(streamId);
    const covered = from!.covered[streamId]!;
    actors.set(streamId, { snapshot: kind.machine.resolveState({ value: state.value as StateValue, context: state.context as never }), revision: BigInt(covered.revision), position: BigInt(covered.position) });
  }
  let ledger = (from?.projections.ledger as LedgerState | undefined) ?? ledgerProjection.initial;
  const projections: Record<string, unknown> = Object.fromEntries(Object.entries(extra).map(([name, p]) => [name, from ? from.projections[name] : p.initial]));
  let position = from ? maxCoveredPosition(from) : null;
  const covered: CheckpointData['covered'] = { ...from?.covered };
  for (const event of events) {
    covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
    const kind = actorKinds[streamCategory(event.streamId)];
    if (kind) {
      const actor = actors.get(event.streamId) ?? { snapshot: initialSnapshot(kind), revision: null, position: null };
      actors.set(event.streamId, { snapshot: replayStep(kind, actor.snapshot, event).snapshot, revision: event.revision, position: event.position });
    }
    ledger = ledgerProjection.evolve(ledger, event);
    for (const [name, projection] of Object.entries(extra)) projections[name] = projection.evolve(projections[name], event);
    position = event.position;
  }
  const actorStates: ActorStateAt[] = [...actors].sort(([a], [b]) => (a < b ? -1 : 1)).map(([streamId, a]) => ({
    streamId, actorKind: streamCategory(streamId), revision: a.revision, position: a.position,
    value: a.snapshot.value, context: a.snapshot.context, status: a.snapshot.status,
  }));
  return { sessionId, position, actors: actorStates, ledger, projections, covered };
}

function maxCoveredPosition(checkpoint: CheckpointData): bigint | null {
  let max: bigint | null = null;
  for (const { position } of Object.values(checkpoint.covered)) if (max === null || BigInt(position) > max) max = BigInt(position);
  return max;
}

export function byPosition(a: RecordedEvent, b: RecordedEvent): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}


/**
 * Every session of the store as of a point (the whole-store form of `sessionStateAt`): sessions started after the
 * point are absent; each present one is answered from its own newest checkpoint at or before the point.
 */
export async function storeStateAt(store: EventStore, at?: PointInTime, extra: ExtraProjections = {}, options: { checkpoints?: boolean } = {}): Promise<SessionStateAt[]> {
  assertPointInTime(at);
  const started: string[] = [];
  for await (const event of store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'session.started' } })) {
    if (isAtOrBefore(event, at)) started.push((event.data as EventData<'session.started'>).sessionId);
  }
  // A fork's copied history keeps its source's times, but the fork exists from its `session.forked` on: before that
  // point (by position or by time) it is absent from the store, as a session not yet started is.
  const forkedLater = new Set<string>();
  for await (const event of store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'session.forked' } })) {
    if (!isAtOrBefore(event, at)) forkedLater.add(event.metadata.sessionId);
  }
  const sessions: SessionStateAt[] = [];
  for (const sessionId of started) if (!forkedLater.has(sessionId)) sessions.push(await sessionStateAt(store, sessionId, at, extra, options));
  return sessions;
}
