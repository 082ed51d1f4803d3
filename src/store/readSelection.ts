import type { AllFilter, Direction, ReadAllOptions, ReadStreamOptions } from './eventStore.ts';

/** A read's options with defaults applied, shared by every adapter so they agree on the edge cases. */
export interface StreamReadRange {
  direction: Direction;
  /** Inclusive; undefined = from the natural start of the direction. */
  from: bigint | undefined;
  maxCount: number;
}

export function streamReadRange(options: ReadStreamOptions = {}): StreamReadRange {
  const direction = options.direction ?? 'forwards';
  return { direction, from: boundary(options.fromRevision, direction), maxCount: readMaxCount(options.maxCount) };
}

export interface AllReadRange extends StreamReadRange {
  matches: (streamId: string, type: string) => boolean;
}

export function allReadRange(options: ReadAllOptions = {}): AllReadRange {
  const direction = options.direction ?? 'forwards';
  return { direction, from: boundary(options.fromPosition, direction), maxCount: readMaxCount(options.maxCount), matches: filterPredicate(options.filter) };
}

/** `start` read backwards and `end` read forwards are both empty reads; they resolve to -1n and +infinity markers. */
function boundary(value: bigint | 'start' | 'end' | undefined, direction: Direction): bigint | undefined {
  if (value === undefined) return undefined;
  if (value === 'start') return direction === 'forwards' ? undefined : -1n;
  if (value === 'end') return direction === 'backwards' ? undefined : END_MARKER;
  if (typeof value !== 'bigint' || value < 0n) throw new RangeError(`A read's from-revision/position must be a non-negative bigint, 'start' or 'end'; got ${String(value)}`);
  return value;
}

/**
 * Where a subscription starts, exclusive: undefined for the whole stream or log, `headNow()` for `end`. Checked as a
 * read's start is: a JavaScript caller's `3` (not `3n`) would otherwise fail deep inside the first poll.
 */
export function subscriptionStart(option: 'fromRevision' | 'fromPosition', value: bigint | 'start' | 'end' | undefined, headNow: () => bigint): bigint | undefined {
  if (value === undefined || value === 'start') return undefined;
  if (value === 'end') return headNow();
  if (typeof value !== 'bigint' || value < 0n) throw new RangeError(`A subscription's ${option} must be a non-negative bigint (as 3n, not 3), 'start' or 'end'; got ${typeof value === 'string' ? `"${value}"` : String(value)}`);
  return value;
}

/** Greater than any revision or position a store will reach. */
export const END_MARKER = 2n ** 63n;

function readMaxCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError(`maxCount must be a non-negative integer; got ${maxCount}`);
  return maxCount;
}

export function prefixes(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new RangeError('A filter prefix list must hold one or more non-empty strings');
  }
  return list;
}

export function filterPredicate(filter: AllFilter | undefined): (streamId: string, type: string) => boolean {
  const streams = prefixes(filter?.streamNamePrefix);
  const types = prefixes(filter?.eventTypePrefix);
  return (streamId, type) =>
    (streams === undefined || streams.some((p) => streamId.startsWith(p))) &&
    (types === undefined || types.some((p) => type.startsWith(p)));
}
