import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { mayHaveEvents, type AppendResult, type EventLocation, type EventStore, type StreamAppend } from '../store/eventStore.ts';
import { placeIsAtOrBefore, type PointInTime } from './pointInTime.ts';
import type { IdSource } from './ids.ts';
import { sessionStateAt, type CheckpointData, type ExtraProjections, type SessionStateAt } from './stateAt.ts';

/** How many checkpoints a session keeps by default (the stream's `$maxCount`); older ones are scavenged. */
export const CHECKPOINT_RETENTION = 5;

/** Retention: the newest N checkpoints, or `'all'` to keep every one (point-in-time queries anywhere stay fast). */
export type CheckpointRetention = number | 'all';

export function checkpointStream(sessionId: string): string {
  return `checkpoint-${sessionId}`;
}

/**
 * The newest checkpoint at or before the point that holds every projection asked for (a checkpoint made without
 * one, or under another factor set, cannot stand in for its fold). A session may keep thousands of checkpoints, so
 * the stream is searched rather than scanned: checkpoints are appended in log order, so their positions (and
 * recorded times) rise with their revisions, and an interpolation search narrows to the newest one at or before
 * the point in a few probes. Probes alternate with plain halving, so a lopsided spread cannot make it slower than
 * a binary search. A probe only locates an event (`locateInStream`, where the store offers it); the one found is
 * then read and verified in full.
 */
export async function newestCheckpointAt(store: EventStore, sessionId: string, at: PointInTime | undefined, projections: readonly string[]): Promise<CheckpointData | undefined> {
  const streamId = checkpointStream(sessionId);
  const locate = (from: bigint | 'start' | 'end') => locateInStream(store, streamId, from);
  const newest = await locate('end');
  if (!newest) return undefined;
  let found = newest;
  if (!atOrBefore(newest, at)) {
    let low = await locate('start');
    if (!low || !atOrBefore(low, at)) return undefined;
    let high = newest;
    for (let probes = 0; high.revision - low.revision > 1n; probes++) {
      const revision = probes % 2 === 0 ? interpolate(low, high, at!) : low.revision + (high.revision - low.revision) / 2n;
      const probe = await locate(revision);
      if (!probe || probe.revision >= high.revision) break;
      if (atOrBefore(probe, at)) low = probe;
      else high = probe;
    }
    found = low;
  }
  const event = await readOne(store, streamId, found.revision, 'forwards');
  // Verified in full now: an event that is not where its location said is corruption, never a silent wrong answer.
  if (!event || event.revision !== found.revision || event.position !== found.position || event.metadata.recordedAt !== found.recordedAt) {
    throw new Error(`checkpoint stream ${streamId}: revision ${found.revision} was located at position ${found.position} but reads differently`);
  }
  return withProjections(store, streamId, event, projections);
}

/** `store.locateInStream`, or for a store without it the event read (and decoded) in full. */
async function locateInStream(store: EventStore, streamId: string, from: bigint | 'start' | 'end'): Promise<EventLocation | undefined> {
  if (store.locateInStream) return store.locateInStream(streamId, from);
  const event = await readOne(store, streamId, from, from === 'end' ? 'backwards' : 'forwards');
  return event && { revision: event.revision, position: event.position, recordedAt: event.metadata.recordedAt };
}

const atOrBefore = (location: EventLocation, at: PointInTime | undefined) => placeIsAtOrBefore(location.position, location.recordedAt, at);

/** A revision strictly between `low` (at or before the point) and `high` (after it), where the point would fall. */
function interpolate(low: EventLocation, high: EventLocation, at: PointInTime): bigint {
  const value = (location: EventLocation) => ('position' in at ? Number(location.position) : Date.parse(location.recordedAt));
  const target = 'position' in at ? Number(at.position) : Date.parse(at.time);
  const span = value(high) - value(low);
  const share = span > 0 ? (target - value(low)) / span : 0.5;
  const offset = BigInt(Math.floor(share * Number(high.revision - low.revision)));
  const revision = low.revision + offset;
  return revision <= low.revision ? low.revision + 1n : revision >= high.revision ? high.revision - 1n : revision;
}

/**
 * Checkpoints made with other projections (another factor set, an older configuration) or in another format are
 * passed over, looking back a few at most: past that, a fold from the start is cheaper than decoding them all.
 */
const MAX_CHECKPOINTS_PASSED_OVER = 8;

async function withProjections(store: EventStore, streamId: string, from: RecordedEvent, projections: readonly string[]): Promise<CheckpointData | undefined> {
  // A checkpoint of another format (written before projection states were bounded) cannot be folded on from.
  const holds = (event: RecordedEvent) => event.metadata.machineVersion === CHECKPOINT_VERSION
    && projections.every((name) => name in (event.data as CheckpointData).projections);
  if (holds(from)) return from.data as CheckpointData;
  // The stream's first checkpoint has none before it to look back at.
  if (from.revision === 0n) return undefined;
  let passed = 0;
  for await (const event of store.readStream(streamId, { fromRevision: from.revision - 1n, direction: 'backwards', maxCount: MAX_CHECKPOINTS_PASSED_OVER })) {
    if (holds(event)) return event.data as CheckpointData;
    if (++passed >= MAX_CHECKPOINTS_PASSED_OVER) break;
  }
  return undefined;
}

async function readOne(store: EventStore, streamId: string, fromRevision: bigint | 'start' | 'end', direction: 'forwards' | 'backwards'): Promise<RecordedEvent | undefined> {
  if (typeof fromRevision === 'bigint' && fromRevision < 0n) return undefined;
  try {
    for await (const event of store.readStream(streamId, { fromRevision, direction, maxCount: 1 })) return event;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return undefined;
}


/** A checkpoint of a session as the store holds it now, folded from its newest checkpoint and tail. */
export async function checkpointOfStore(store: EventStore, sessionId: string, reason: CheckpointData['reason'], projections: ExtraProjections): Promise<CheckpointData> {
  return checkpointOfState(await sessionStateAt(store, sessionId, undefined, projections), reason);
}

/** What a checkpoint of a session state holds, so a fold can start from it as `sessionStateAt` does. */
export function checkpointOfState(state: SessionStateAt, reason: CheckpointData['reason']): CheckpointData {
  return {
    reason,
    usageTokens: state.ledger.usage.total.inputTokens + state.ledger.usage.total.outputTokens,
    covered: state.covered,
    actors: Object.fromEntries(state.actors.map((a) => [a.streamId, { value: a.value, context: a.context, status: a.status }])),
    projections: { ledger: state.ledger, ...state.projections },
  };
}

/** The `checkpoint.recorded` event of a checkpoint, for `checkpoint-<sessionId>`. */
export function checkpointEvent(sessionId: string, data: CheckpointData, options: { ids: IdSource; recordedAt: string }): EventToAppend {
  const streamId = checkpointStream(sessionId);
  return {
    eventId: options.ids.next(), type: 'checkpoint.recorded', data,
    metadata: { actorId: streamId, actorKind: 'checkpoint', sessionId, correlationId: sessionId, causationId: null, recordedAt: options.recordedAt, machineVersion: CHECKPOINT_VERSION },
  };
}

/** A checkpoint composed and waiting to be written with a later append. */
export interface PendingCheckpoint {
  sessionId: string;
  data: CheckpointData;
  event: EventToAppend;
}

/** Waiting checkpoints as append parts: one per checkpoint stream, its checkpoints in the order they were made. */
export function checkpointParts(pending: readonly PendingCheckpoint[]): StreamAppend[] {
  const bySession = Map.groupBy(pending, (checkpoint) => checkpoint.sessionId);
  return [...bySession].map(([sessionId, checkpoints]) => ({ streamId: checkpointStream(sessionId), events: checkpoints.map((c) => c.event) }));
}

/**
 * Sets retention (`$maxCount`) on each checkpoint stream whose first checkpoint an append just wrote: `parts` are
 * the checkpoint parts of that append and `results` their results, in the same order.
 */
export async function setRetentionOnFirst(store: EventStore, parts: readonly StreamAppend[], results: readonly AppendResult[], retention: CheckpointRetention): Promise<void> {
  if (retention === 'all') return;
  for (const [i, part] of parts.entries()) {
    if (results[i]?.nextExpectedRevision === BigInt(part.events.length - 1)) await store.setStreamMetadata(part.streamId, { maxCount: retention });
  }
}

/** The checkpoint format, recorded as each checkpoint's `machineVersion`; 2: bounded projection states. */
export const CHECKPOINT_VERSION = 'checkpoint@2';

/** Tokens used by the session when its newest checkpoint was taken (0 when it has none). */
export async function checkpointedTokens(store: EventStore, sessionId: string): Promise<number> {
  if (!(await mayHaveEvents(store, checkpointStream(sessionId)))) return 0;
  try {
    for await (const event of store.readStream(checkpointStream(sessionId), { direction: 'backwards', maxCount: 1 })) return (event.data as CheckpointData).usageTokens;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return 0;
}
