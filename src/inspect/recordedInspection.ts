import type { AnyMachineSnapshot } from 'xstate';
import type { RecordedEvent } from '../events/envelope.ts';
import { streamCategory } from '../events/envelope.ts';
import { initialSnapshot, persistedState, replayStep } from '../runtime/actorFold.ts';
import { actorKindOf, actorKinds } from '../runtime/actorKinds.ts';
import { isAtOrBefore, type PointInTime } from '../runtime/pointInTime.ts';
import { readSessionEvents } from '../runtime/sessionStreams.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { ActorSystemInspection } from './inspectionStream.ts';

export interface ReplayPacing {
  /** Recorded gaps are divided by this: 1 = as recorded, 10 = ten times faster, 0 = no waiting at all. */
  speed: number;
  /** No single wait is longer than this (ms), so the idle hours between two turns do not stall a replay. */
  maxWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayRange {
  /** Events before this are folded silently: the actors are shown as they stood at it. */
  from?: PointInTime;
  /** Events after this are not shown. */
  to?: PointInTime;
}

export interface ReplaySummary {
  actors: number;
  events: number;
  /** Total time waited between events (ms). */
  waitedMs: number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Replays a recorded session into an inspection: every actor stream of the session in global order, each event
 * stepped through its machine with the same pure `transition()` the runtime used (so each snapshot is the one the
 * fold gives), paced by the recorded `recordedAt` gaps. No model is called and no timer armed; events written under
 * another machine version are refused, as replay refuses them.
 */
export async function replayIntoInspection(store: EventStore, sessionId: string, inspection: ActorSystemInspection, range: ReplayRange, pacing: ReplayPacing): Promise<ReplaySummary> {
  const events = (await readSessionEvents(store, sessionId)).filter((event) => streamCategory(event.streamId) in actorKinds);
  // Causes are known up front, so a message names its sender whatever order one write's streams were given in.
  for (const event of events) inspection.noteRecorded(event.eventId, event.streamId);
  const states = new Map<string, AnyMachineSnapshot>();
  const sleep = pacing.sleep ?? wait;
  let previous: RecordedEvent | undefined;
  let shown = 0;
  let waitedMs = 0;
  const announced = new Set<string>();
  const announce = (streamId: string, snapshot: AnyMachineSnapshot, at: RecordedEvent) => {
    announced.add(streamId);
    inspection.announce(streamId, persistedState(actorKindOf(streamId), snapshot), at.metadata.recordedAt);
  };

  for (const event of events) {
    if (range.to !== undefined && !isAtOrBefore(event, range.to)) break;
    const kind = actorKindOf(event.streamId);
    const before = states.get(event.streamId) ?? initialSnapshot(kind);
    const after = replayStep(kind, before, event).snapshot;
    states.set(event.streamId, after);
    if (isBefore(event, range.from)) continue;
    if (previous === undefined) {
      // The actors the range starts in, as they stood then: the one stepping now as it stood before this event.
      for (const [streamId, snapshot] of states) announce(streamId, streamId === event.streamId ? before : snapshot, event);
    } else {
      const ms = pacedWait(previous, event, pacing);
      if (ms > 0) await sleep(ms);
      waitedMs += ms;
    }
    if (!announced.has(event.streamId)) announce(event.streamId, before, event);
    inspection.step(event.streamId, event, persistedState(kind, after));
    previous = event;
    shown++;
  }
  return { actors: announced.size, events: shown, waitedMs };
}

function pacedWait(previous: RecordedEvent, next: RecordedEvent, pacing: ReplayPacing): number {
  if (pacing.speed === 0) return 0;
  const gap = Date.parse(next.metadata.recordedAt) - Date.parse(previous.metadata.recordedAt);
  return Math.min(Math.max(gap, 0) / pacing.speed, pacing.maxWaitMs);
}

/** Whether an event comes before the point (`--from` is inclusive). */
/**
 * Whether a range of a session shows anything: an actor event at or after `from` and at or before `to`. A range
 * whose ends are of different kinds (a position and a time) cannot be compared without the log, so it is checked on it.
 */
export async function rangeShowsEvents(store: EventStore, sessionId: string, range: ReplayRange): Promise<boolean> {
  const events = await readSessionEvents(store, sessionId);
  return events.some((event) => streamCategory(event.streamId) in actorKinds && !isBefore(event, range.from) && (range.to === undefined || isAtOrBefore(event, range.to)));
}

function isBefore(event: RecordedEvent, point: PointInTime | undefined): boolean {
  if (point === undefined) return false;
  if ('position' in point) return event.position < point.position;
  return Date.parse(event.metadata.recordedAt) < Date.parse(point.time);
}
