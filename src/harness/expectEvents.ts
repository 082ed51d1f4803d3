import type { RecordedEvent } from '../events/envelope.ts';
import { show } from './difference.ts';

/**
 * One expected event: its type alone, or its type with a stream (name or pattern) and a partial data matcher.
 * In `data`, objects match when every key given matches (others are ignored), arrays match element by element,
 * a RegExp matches a string, a function is a predicate, and asymmetric matchers (`expect.any(Number)`, …) work.
 */
export type EventExpectation = string | { type: string; stream?: string | RegExp; data?: unknown };

export class EventExpectationError extends Error {
  override readonly name = 'EventExpectationError';
}

/**
 * Checks that `events` contain the expected ones in this order (others may come between, unless `exact`), and
 * returns the events matched. On failure the message names the expectation not met, what matched before it,
 * the nearest candidates with the first field that differs, and the events it looked at.
 */
export function expectEvents(events: readonly RecordedEvent[], expected: readonly EventExpectation[], options: { exact?: boolean } = {}): RecordedEvent[] {
  const matched: RecordedEvent[] = [];
  let from = 0;
  for (const [i, expectation] of expected.entries()) {
    const want = normalise(expectation);
    const candidates = options.exact ? events.slice(from, from + 1) : events.slice(from);
    const found = candidates.findIndex((event) => mismatch(want, event) === null);
    if (found < 0) throw new EventExpectationError(failure(events, expected, i, from, matched, options.exact === true));
    matched.push(events[from + found]!);
    from += found + 1;
  }
  if (options.exact && from < events.length) {
    throw new EventExpectationError(`expectEvents (exact): all ${expected.length} expectations were met, but ${events.length - from} more event(s) follow:\n${listing(events.slice(from))}`);
  }
  return matched;
}

interface Wanted { type: string; stream?: string | RegExp; data?: unknown; label: string }

function normalise(expectation: EventExpectation): Wanted {
  if (typeof expectation === 'string') return { type: expectation, label: expectation };
  const parts = [expectation.type];
  if (expectation.stream !== undefined) parts.push(`in ${String(expectation.stream)}`);
  if (expectation.data !== undefined) parts.push(show(expectation.data, 200));
  return { ...expectation, label: parts.join(' ') };
}

/** Why an event does not meet an expectation (null: it does). */
function mismatch(want: Wanted, event: RecordedEvent): string | null {
  if (event.type !== want.type) return `type is ${event.type}`;
  if (want.stream !== undefined && !(typeof want.stream === 'string' ? event.streamId === want.stream : want.stream.test(event.streamId))) {
    return `stream is ${event.streamId}`;
  }
  return want.data === undefined ? null : dataMismatch(want.data, event.data, 'data');
}

/** Where `actual` fails the partial matcher `expected`, or null. */
export function dataMismatch(expected: unknown, actual: unknown, path: string): string | null {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual) ? null : `${path}: ${show(actual)} does not match ${String(expected)}`;
  if (typeof expected === 'function') return (expected as (v: unknown) => boolean)(actual) ? null : `${path}: ${show(actual)} fails the predicate ${show(expected)}`;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual) ? null : `${path}: ${show(actual)} does not match ${String(expected)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${show(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`;
    for (const [i, item] of expected.entries()) {
      const difference = dataMismatch(item, actual[i], `${path}[${i}]`);
      if (difference) return difference;
    }
    return null;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return `${path}: expected an object, got ${show(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      const difference = dataMismatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference) return difference;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

function isAsymmetric(value: unknown): value is { asymmetricMatch(actual: unknown): boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { asymmetricMatch?: unknown }).asymmetricMatch === 'function';
}

const MAX_LISTED = 25;

function failure(events: readonly RecordedEvent[], expected: readonly EventExpectation[], index: number, from: number, matched: readonly RecordedEvent[], exact: boolean): string {
  const want = normalise(expected[index]!);
  const after = matched.at(-1);
  const lines = [
    `expectEvents: expectation ${index + 1} of ${expected.length} was not met${exact ? ' (exact: it had to be the very next event)' : ''}.`,
    `  expected: ${want.label}`,
    `  looked ${after ? `after ${label(after)}` : 'from the first event'} (${events.length - from} of ${events.length} events)`,
  ];
  if (matched.length > 0) lines.push('  matched so far:', ...matched.map((e, i) => `    ${i + 1}. ${label(e)}`));
  const sameType = events.slice(from).filter((e) => e.type === want.type);
  if (sameType.length > 0) {
    lines.push(`  ${want.type} events after that point, and why each does not match:`);
    for (const e of sameType.slice(0, 5)) lines.push(`    ${label(e)}: ${mismatch(want, e)}`);
  } else {
    const earlier = events.slice(0, from).filter((e) => mismatch(want, e) === null);
    if (earlier.length > 0) lines.push(`  note: a matching ${want.type} occurs earlier, at ${label(earlier[0]!)}, before the previous expectation matched: check the order`);
    else lines.push(`  no ${want.type} event after that point${events.some((e) => e.type === want.type) ? '' : ' (none at all)'}`);
  }
  lines.push('  events looked at:', listing(events.slice(from)));
  return lines.join('\n');
}

function label(event: RecordedEvent): string {
  return `${event.type} (${event.streamId}@${event.revision}, position ${event.position})`;
}

function listing(events: readonly RecordedEvent[]): string {
  const shown = events.slice(0, MAX_LISTED).map((e) => `    ${e.streamId}@${e.revision} ${e.type} ${show(e.data, 100)}`);
  if (events.length > MAX_LISTED) shown.push(`    … and ${events.length - MAX_LISTED} more`);
  return shown.length > 0 ? shown.join('\n') : '    (none)';
}
