import type { RecordedEvent } from '../events/envelope.ts';

/** A point in the log: a global position, or a clock time compared with each event's `recordedAt`. */
export type PointInTime = { position: bigint } | { time: string };

export class PointInTimeError extends Error {
  override readonly name = 'PointInTimeError';
}

/** Parses `--at`: a non-negative integer is a position, an ISO 8601 date-time a time. */
export function parsePointInTime(text: string): PointInTime {
  const value = text.trim();
  if (/^\d+$/.test(value)) return { position: BigInt(value) };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) {
    const notADate = notACalendarDate(value);
    if (notADate === undefined) return { time: new Date(value).toISOString() };
    throw new PointInTimeError(`--at "${text}": ${notADate}`);
  }
  throw new PointInTimeError(`--at "${text}" is neither a position (a non-negative integer, e.g. 42) nor an ISO 8601 time with a zone (e.g. 2026-11-24T10:15:00Z)`);
}

/**
 * Why the date an ISO 8601 text starts with is not a day of the calendar, or undefined when it is (or the text does
 * not start with one). Date.parse rolls a day past the month's end over (2026-11-31 is read as 2026-12-01): refused
 * instead, as a typo would otherwise answer for another day.
 */
export function notACalendarDate(text: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth ? undefined : `${match[0]} is not a date (${match[1]}-${match[2]} has ${daysInMonth} days)`;
}

/** Whether an event is at or before the point. */
export function isAtOrBefore(event: RecordedEvent, point: PointInTime | undefined): boolean {
  return placeIsAtOrBefore(event.position, event.metadata.recordedAt, point);
}

/** Whether an event at `position`, recorded at `recordedAt`, is at or before the point (for events located, not read). */
export function placeIsAtOrBefore(position: bigint, recordedAt: string, point: PointInTime | undefined): boolean {
  if (point === undefined) return true;
  if ('position' in point) return position <= point.position;
  return Date.parse(recordedAt) <= Date.parse(point.time);
}

/**
 * A point as code may pass it, checked before it is used: a malformed one (a negative or non-bigint position, a time
 * that is not a date) would otherwise select nothing, and an empty state reads as a real answer ("nothing yet").
 */
export function assertPointInTime(at: unknown): asserts at is PointInTime | undefined {
  if (at === undefined) return;
  const point = at as Partial<Record<'position' | 'time', unknown>>;
  if (typeof at === 'object' && at !== null && 'position' in at) {
    if (typeof point.position === 'bigint' && point.position >= 0n) return;
    throw new PointInTimeError(`a point's position must be a non-negative bigint (e.g. 42n), not ${String(point.position)} (${typeof point.position})`);
  }
  if (typeof at === 'object' && at !== null && 'time' in at) {
    if (typeof point.time === 'string' && !Number.isNaN(Date.parse(point.time))) return;
    throw new PointInTimeError(`a point's time must be an ISO 8601 time (e.g. 2026-11-24T10:15:00Z), not ${JSON.stringify(point.time)}`);
  }
  throw new PointInTimeError('a point in time is { position: <bigint> } or { time: <ISO 8601 string> }');
}
