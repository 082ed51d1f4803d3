import type { EventStore } from '../store/eventStore.ts';
import { firstEvent, lastEventAt, pointOf, type ApiPoint } from './logAt.ts';

export interface Range {
  first: ApiPoint | null;
  last: ApiPoint | null;
  sessions: number;
}

/** The slider's bounds: the first and last event of the store, and how many sessions it holds now. */
export async function rangeOf(store: EventStore): Promise<Range> {
  const [first, last] = [await firstEvent(store), await lastEventAt(store, undefined)];
  let sessions = 0;
  for await (const _ of store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'session.started' } })) sessions++;
  return { first: first ? pointOf(first) : null, last: last ? pointOf(last) : null, sessions };
}
