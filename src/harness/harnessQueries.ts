import { z } from 'zod';
import type { AnyMachineSnapshot, StateValue } from 'xstate';
import type { RecordedEvent } from '../events/envelope.ts';
import { streamCategory } from '../events/envelope.ts';
import { parsePointInTime, type PointInTime } from '../runtime/pointInTime.ts';

/** Which recorded events to return: all of them by default, in global order. */
export interface EventFilter {
  /** One stream, e.g. `agent-s1.express.0`. */
  stream?: string;
  /** Every stream of a session (its actors, ledger and checkpoints). */
  session?: string;
  /** Stream category: `session`, `agent`, `transition`, `ledger`, `checkpoint`. */
  category?: string;
  /** One type or any of several. */
  type?: string | readonly string[];
  /** Only events after this global position. */
  after?: bigint;
}

export const eventFilterSchema = z.strictObject({
  stream: z.string().min(1).optional(),
  session: z.string().min(1).optional(),
  category: z.string().min(1).optional(),
  type: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  after: z.bigint().optional(),
});

export function matchesFilter(event: RecordedEvent, filter: EventFilter): boolean {
  if (filter.stream !== undefined && event.streamId !== filter.stream) return false;
  if (filter.session !== undefined && event.metadata.sessionId !== filter.session) return false;
  if (filter.category !== undefined && streamCategory(event.streamId) !== filter.category) return false;
  if (filter.after !== undefined && event.position <= filter.after) return false;
  if (filter.type !== undefined && !(typeof filter.type === 'string' ? event.type === filter.type : filter.type.includes(event.type))) return false;
  return true;
}

/** A point in the log: a position (bigint, number or digits), an ISO time, a recorded event, or a `PointInTime`. */
export type PointInput = PointInTime | bigint | number | string | Pick<RecordedEvent, 'position'>;

export function pointOf(at: PointInput | undefined): PointInTime | undefined {
  if (at === undefined) return undefined;
  if (typeof at === 'bigint') return { position: at };
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at) || at < 0) throw new RangeError(`a position is a whole number of at least 0, got ${at}`);
    return { position: BigInt(at) };
  }
  if (typeof at === 'string') return parsePointInTime(at);
  if ('time' in at) return { time: new Date(Date.parse(at.time)).toISOString() };
  return { position: at.position };
}

/** What `waitFor` waits for: a state value (`'awaitingModel'`, `{ turn: 'express' }`) or a predicate on the snapshot. */
export type StateTarget = string | StateValue | ((snapshot: AnyMachineSnapshot) => boolean);

export const stateTargetSchema = z.union([
  z.string().min(1),
  z.record(z.string(), z.unknown()),
  z.custom<(snapshot: AnyMachineSnapshot) => boolean>((value) => typeof value === 'function', 'a predicate on the snapshot'),
]);

export function checkOf(target: StateTarget): (snapshot: AnyMachineSnapshot) => boolean {
  stateTargetSchema.parse(target);
  if (typeof target === 'function') return target;
  return (snapshot) => snapshot.matches(target as never);
}

export function describeTarget(target: StateTarget): string {
  return typeof target === 'function' ? `a predicate${target.name ? ` (${target.name})` : ''}` : JSON.stringify(target);
}
