import { consistentCut, type CutOptions } from '../runtime/consistentCut.ts';
import { parsePointInTime, type PointInTime } from '../runtime/pointInTime.ts';
import type { EventStore } from '../store/eventStore.ts';
import { UsageError } from './usageError.ts';

/** `--at` for any command: a position or an ISO time, or now when absent. */
export function pointFlag(command: string, value: string | undefined): PointInTime | undefined {
  if (value === undefined) return undefined;
  try {
    return parsePointInTime(value);
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

export function describePoint(at: PointInTime | undefined): string {
  return at === undefined ? 'now' : 'position' in at ? `position ${at.position}` : at.time;
}

/** The point a command answers for, as it says it in text and in JSON. */
export interface AnsweredPoint {
  at: PointInTime | undefined;
  /** "position 815 (…)", "now", or the time. */
  described: string;
  /** For `--json`: `at` as before (the point, or "now"), and `movedFrom` when the asked position was moved. */
  json: { at: PointInTime | 'now'; movedFrom?: bigint };
}

/**
 * The asked point, or, when it falls inside one append between an effect and its cause (`consistentCut`), the first
 * position after it where every event's cause is in, rather than a state with effects of causes not yet there. Said so.
 */
export async function answeredPoint(store: EventStore, asked: PointInTime | undefined, options: CutOptions = {}): Promise<AnsweredPoint> {
  const { at, movedFrom } = await consistentCut(store, asked, options);
  if (movedFrom === undefined) return { at, described: describePoint(at) + await beyondTheLog(store, at), json: { at: at ?? 'now' } };
  return {
    at,
    described: `${describePoint(at)} (position ${movedFrom} falls inside one atomic write, between events and their causes recorded after them: moved to the first position where every cause is in)`,
    json: { at: at!, movedFrom },
  };
}

/** Said of a position past the newest event: the answer is then the log as it stands, which a typo would hide. */
async function beyondTheLog(store: EventStore, at: PointInTime | undefined): Promise<string> {
  if (at === undefined || !('position' in at) || store.lastPosition === undefined) return '';
  const last = await store.lastPosition();
  return at.position > last ? ` (past the end of the log, at position ${last}: as it stands now)` : '';
}
