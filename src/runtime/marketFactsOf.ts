import type { RecordedEvent } from '../events/envelope.ts';
import type { EventStore } from '../store/eventStore.ts';

/**
 * The market facts a session's ledger settled, as an export must carry them: a ledger entry a trade caused names
 * the market's fact as its cause, and a session imported without it would fail its causality audit ("the event that
 * caused it was removed"). For each market stream holding such a cause, its events from the first through the
 * newest cause: a market stream replays (and verifies) only from its start, so the book's other entries up to that
 * point come along (a market's book is shared by every session trading on it). Empty for a session that never traded.
 */
export async function marketFactsOf(store: EventStore, sessionEvents: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
  const own = new Set(sessionEvents.map((e) => e.eventId));
  const causes = new Set(sessionEvents.flatMap((e) => (e.metadata.causationId !== null && !own.has(e.metadata.causationId) ? [e.metadata.causationId] : [])));
  if (causes.size === 0) return [];
  const byStream = new Map<string, RecordedEvent[]>();
  const through = new Map<string, bigint>();
  for await (const event of store.readAll({ filter: { streamNamePrefix: 'market-' } })) {
    const events = byStream.get(event.streamId);
    if (events) events.push(event);
    else byStream.set(event.streamId, [event]);
    if (causes.has(event.eventId)) through.set(event.streamId, event.revision);
  }
  return [...through].flatMap(([streamId, last]) => byStream.get(streamId)!.filter((e) => e.revision <= last));
}
