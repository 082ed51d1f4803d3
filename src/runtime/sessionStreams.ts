import type { RecordedEvent } from '../events/envelope.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { collect, readWholeStreams, type EventStore } from '../store/eventStore.ts';
import { isAtOrBefore, type PointInTime } from './pointInTime.ts';
import type { CheckpointData } from './stateAt.ts';

export function sessionStream(sessionId: string): string {
  return `session-${sessionId}`;
}

/** The session's token ledger: not an actor, and nobody messages it, so it is named rather than reached. */
export function ledgerStream(sessionId: string): string {
  return `ledger-${sessionId}`;
}

/** Thrown when a session id names no session in the store. */
export class UnknownSessionError extends Error {
  override readonly name = 'UnknownSessionError';
  constructor(sessionId: string) {
    super(`No session "${sessionId}" in this store. List them with \`chronicle sessions\`.`);
  }
}

/**
 * Every stream of a session: its own, its ledger, and every actor reached through recorded `message.sent` targets
 * (agents, and whoever they message in turn). Returns the streams' events keyed by stream. `ledger: false` leaves
 * the ledger out, for readers of the actors alone (replay): nothing is reached through it, and it holds ~40 % of
 * a session's events.
 */
export async function readSessionStreams(store: EventStore, sessionId: string, options: { ledger?: boolean } = {}): Promise<Map<string, RecordedEvent[]>> {
  const streams = Map.groupBy(await readSessionTail(store, sessionId, {}, undefined, options), (event) => event.streamId);
  if (!streams.has(sessionStream(sessionId))) throw new UnknownSessionError(sessionId);
  return streams;
}

/** Refuses a session id that names no session in the store. */
export async function assertSessionExists(store: EventStore, sessionId: string): Promise<void> {
  try {
    for await (const _ of store.readStream(sessionStream(sessionId), { maxCount: 1 })) return;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  throw new UnknownSessionError(sessionId);
}

/** Events read per statement while reading a tail up to a point: the tail of a checkpoint near the point is short. */
const TAIL_PAGE = 16;

/**
 * The session's events after a checkpoint, up to the point when one is given: each covered stream from the
 * revision after the one covered, and any stream the tail reaches through `message.sent` from its start. Reads
 * stop at the first event past a position, so a query in the middle of a long session reads only its tail.
 */
export async function readSessionTail(store: EventStore, sessionId: string, covered: CheckpointData['covered'], at?: PointInTime, options: { ledger?: boolean } = {}): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const seen = new Set<string>();
  const ledger = options.ledger === false ? [] : [ledgerStream(sessionId)];
  // Breadth first, a level at a time (the streams named so far, then those their messages reach), so that each level
  // is one read of many streams where it can be.
  let level = [sessionStream(sessionId), ...ledger, ...Object.keys(covered)];
  while (level.length > 0) {
    const fresh = [...new Set(level)].filter((streamId) => !seen.has(streamId));
    for (const streamId of fresh) seen.add(streamId);
    level = [];
    for await (const tail of readLevel(store, fresh, covered, at)) {
      events.push(...tail);
      for (const event of tail) if (event.type === 'message.sent') level.push((event.data as { to: string }).to);
    }
  }
  return events;
}

/**
 * Each stream's tail, skipping streams never written. Whole streams (no checkpoint covers them, no point to stop
 * at) are one `readWholeStreams`, read ahead where the store can; the rest are read one by one up to the point.
 */
async function* readLevel(store: EventStore, streamIds: readonly string[], covered: CheckpointData['covered'], at: PointInTime | undefined): AsyncGenerator<RecordedEvent[]> {
  if (at === undefined && streamIds.every((streamId) => covered[streamId] === undefined)) {
    for await (const { events } of readWholeStreams(store, streamIds, { skipMissing: true })) yield events;
    return;
  }
  for (const streamId of streamIds) {
    const after = covered[streamId];
    try {
      yield await readUntil(store, streamId, after === undefined ? 0n : BigInt(after.revision) + 1n, at);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
  }
}

/**
 * A stream's events from a revision up to the point: read page by page, stopping at the first event past it. A
 * stream's positions rise with its revisions, and so do its `recordedAt` times (one writer at a time extends a
 * stream, on its own clock, and workers hold a session through a fenced lease), so what follows is past it too.
 */
async function readUntil(store: EventStore, streamId: string, from: bigint, at: PointInTime | undefined): Promise<RecordedEvent[]> {
  if (at === undefined) return collect(store.readStream(streamId, { fromRevision: from }));
  const events: RecordedEvent[] = [];
  for (let next = from; ;) {
    let read = 0;
    for await (const event of store.readStream(streamId, { fromRevision: next, maxCount: TAIL_PAGE })) {
      read++;
      if (!isAtOrBefore(event, at)) return events;
      events.push(event);
      next = event.revision + 1n;
    }
    if (read < TAIL_PAGE) return events;
  }
}

/** All of a session's events in global order. */
export async function readSessionEvents(store: EventStore, sessionId: string): Promise<RecordedEvent[]> {
  const streams = await readSessionStreams(store, sessionId);
  return [...streams.values()].flat().sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

/** Ids of every session in the store, in the order they started. */
export async function listSessionIds(store: EventStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const event of store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'session.started' } })) {
    ids.push((event.data as { sessionId: string }).sessionId);
  }
  return ids;
}
