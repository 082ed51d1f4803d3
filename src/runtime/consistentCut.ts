import type { RecordedEvent } from '../events/envelope.ts';
import type { EventStore } from '../store/eventStore.ts';
import { sessionIdOf } from './actorKinds.ts';
import type { PointInTime } from './pointInTime.ts';

/** A point, and where it was moved from when the asked one would have cut a write between cause and effect. */
export interface ConsistentPoint {
  at: PointInTime | undefined;
  /** The asked position, when `at` is later than it. */
  movedFrom?: bigint;
}

/**
 * The earliest position at or after `at` that is a consistent cut of the log: no event at or before it whose cause
 * comes after it. The runtime writes a group of facts (one actor's answer, the message it sends, the session's step
 * on it, the ledger's postings) in one atomic multi-stream append, stream part by stream part, so inside one append a
 * session's `agent.failed` can take a lower position than the agent's `model.failed` that caused it. Every event at
 * or before such a position (ARCHITECTURE §4's "as of P") would show a state that never stood — a session told of a
 * failure its agent has not had — so `replay`, `state` and the other "as of" commands move the point forward to where
 * every cause is in: no effect without its cause (a consistent cut, though it may still fall inside the append). Between
 * appends, and for times (all of one append's facts are recorded at one time), a point is already consistent and is
 * returned as it is.
 *
 * Only the append holding the point is read: its facts share their `recordedAt`, and positions inside one append
 * are contiguous, so a cause beyond the point is among the events after it with the same time.
 */
export async function consistentCut(store: EventStore, at: PointInTime | undefined, options: CutOptions = {}): Promise<ConsistentPoint> {
  // A store that writes an append's parts one by one (KurrentDB) showed each in-between state to its readers: they
  // stood. Its positions are not contiguous either (commit positions).
  if (at === undefined || !('position' in at) || store.atomicMultiStreamAppend !== true) return { at };
  const before = await sameTimeRun(store, at.position, 'backwards');
  const last = before[0];
  if (last === undefined) return { at };
  const after = await sameTimeRun(store, at.position + 1n, 'forwards', last.metadata.recordedAt);
  const end = cutEnd([...before.reverse(), ...after], at.position, options.streams);
  return end === at.position ? { at } : { at: { position: end }, movedFrom: at.position };
}

export interface CutOptions {
  /** Only these streams' events need their causes in (a session's own, for a command about one session). Default: all. */
  streams?: (streamId: string) => boolean;
}

/** The streams of one session (its actors', ledger and checkpoints): what a point about that session must have the causes of. */
export function sessionScope(sessionId: string): CutOptions {
  return { streams: (streamId) => sessionIdOf(streamId) === sessionId };
}

/**
 * Over events in position order (one append and what surrounds it), the smallest position ≥ `from` that no event at
 * or before it (of the streams asked about) has its cause after.
 */
export function cutEnd(events: readonly RecordedEvent[], from: bigint, streams: (streamId: string) => boolean = () => true): bigint {
  const positionOf = new Map(events.map((e) => [e.eventId, e.position]));
  let end = from;
  for (const event of events) {
    if (event.position > end) break;
    if (!streams(event.streamId)) continue;
    const cause = event.metadata.causationId === null ? undefined : positionOf.get(event.metadata.causationId);
    if (cause !== undefined && cause > end) end = cause;
  }
  return end;
}

/** The run of events from `position` on (in `direction`) recorded at one time: `recordedAt`, or the first one's. */
async function sameTimeRun(store: EventStore, position: bigint, direction: 'forwards' | 'backwards', recordedAt?: string): Promise<RecordedEvent[]> {
  const run: RecordedEvent[] = [];
  let time = recordedAt;
  for await (const event of store.readAll({ fromPosition: position, direction, maxCount: MAX_APPEND_EVENTS })) {
    time ??= event.metadata.recordedAt;
    if (event.metadata.recordedAt !== time) break;
    run.push(event);
  }
  return run;
}

/**
 * More events than one append of the runtime holds (at most 256 deliveries, a few events each): a run this long is
 * several appends recorded in the same millisecond (a simulated clock's), read no further.
 */
const MAX_APPEND_EVENTS = 2_048;
