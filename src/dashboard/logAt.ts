import type { RecordedEvent } from '../events/envelope.ts';
import { isAtOrBefore, type PointInTime } from '../runtime/pointInTime.ts';
import { collect, type EventStore } from '../store/eventStore.ts';

/** Where an event sits, as the API writes it (positions are decimal strings: JSON has no 64-bit integers). */
export interface ApiPoint {
  position: string;
  time: string;
}

export function pointOf(event: RecordedEvent): ApiPoint {
  return { position: String(event.position), time: event.metadata.recordedAt };
}

/** The whole log up to a point, in global order: what the store-wide answers fold. */
export async function logUpTo(store: EventStore, at: PointInTime | undefined): Promise<RecordedEvent[]> {
  if (at !== undefined && 'position' in at) {
    const events: RecordedEvent[] = [];
    for await (const event of store.readAll()) {
      if (event.position > at.position) break;
      events.push(event);
    }
    return events;
  }
  return (await collect(store.readAll())).filter((e) => isAtOrBefore(e, at));
}

/** The last event at or before the point, read backwards so a question about "now" costs one row. */
export async function lastEventAt(store: EventStore, at: PointInTime | undefined): Promise<RecordedEvent | undefined> {
  const fromPosition = at !== undefined && 'position' in at ? at.position : 'end';
  for await (const event of store.readAll({ fromPosition, direction: 'backwards' })) {
    if (isAtOrBefore(event, at)) return event;
  }
  return undefined;
}

export async function firstEvent(store: EventStore): Promise<RecordedEvent | undefined> {
  for await (const event of store.readAll({ maxCount: 1 })) return event;
  return undefined;
}
