import type { StateValue } from 'xstate';
import { createEventRegistry } from '../events/catalogue.ts';
import { streamCategory, type EventToAppend, type RecordedEvent } from '../events/envelope.ts';
import type { AgentConfig } from '../events/catalogue.ts';
import { backoffMs, RETRY_BACKOFF } from '../../machines/agentMachine.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import type { EventStore } from '../store/eventStore.ts';
import { appendInOrder, copyProgress, predictHashes, readStreams, unsealed, type PlannedEvent } from '../store/importEvents.ts';
import { initialSnapshot, machineEventOf, stepActor } from './actorFold.ts';
import { actorKinds } from './actorKinds.ts';
import { derivedId } from './ids.ts';
import { isAtOrBefore, type PointInTime } from './pointInTime.ts';
import { ledgerStream, readSessionEvents, sessionStream } from './sessionStreams.ts';
import { LEDGER_VERSION } from './ledgerKeeper.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { escrowAccount, initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';

/** A fork that cannot be made as asked. Nothing has been written. */
export class ForkRefusedError extends Error {
  override readonly name = 'ForkRefusedError';
}

export const SESSION_ID = /^[A-Za-z0-9_]+$/;

export interface ForkOptions {
  sessionId: string;
  at: PointInTime;
  /** The fork's session id; by default one derived from the source and the cut, so the same fork is made once. */
  as?: string;
  /** The time `session.forked` is recorded at (ISO); the copied events keep their own. */
  now?: () => string;
}

export interface ForkReport {
  sessionId: string;
  fromSession: string;
  /** The source position and time of the last event copied: where the fork was cut. */
  atPosition: bigint;
  atTime: string;
  /** Events copied (without `session.forked`), and the fork's streams. */
  events: number;
  streams: string[];
  /** Copied events beyond the asked point, taken along so that no write is split (see `cutAt`). */
  extended: number;
  /** The fork's session state after the copy, e.g. `{ turn: 'council' }`: anything but `ready` is finished by `resume`. */
  sessionState: StateValue;
  /** Events an earlier, interrupted run of the same fork had written. */
  alreadyWritten: number;
  lastPosition: bigint | null;
}

/**
 * Forks a session: a new session whose history is a copy of the source's events up to a point (every stream of
 * the session, cut at the point), renamed, with new event ids, sealed into new hash chains, and closed by a
 * `session.forked` event. The fork then lives on its own: `resume` finishes a turn cut in the middle (re-issuing
 * model requests that had no outcome), and further queries are asked in it like in any session.
 */
export async function forkSession(store: EventStore, options: ForkOptions, registry: EventRegistry = createEventRegistry()): Promise<ForkReport> {
  const { sessionId, at } = options;
  const source = await readSessionEvents(store, sessionId);
  const { copied, extended } = cutAt(source, at);
  const last = copied.at(-1);
  if (last === undefined) {
    throw new ForkRefusedError(`session ${sessionId} has no events at or before ${'position' in at ? `position ${at.position}` : at.time}: it starts at position ${source[0]!.position} (${source[0]!.metadata.recordedAt}).`);
  }
  const newId = options.as ?? derivedId(`fork/${sessionId}/${last.position}`).replace(/-/g, '').slice(0, 8);
  if (!SESSION_ID.test(newId)) throw new ForkRefusedError(`the fork's session id "${newId}" may hold letters, digits and _ only.`);
  if (newId === sessionId) throw new ForkRefusedError(`the fork needs a session id other than its source's ("${sessionId}").`);

  const rename = forkRenaming(sessionId, newId, copied.map((e) => e.eventId));
  const planned: PlannedEvent[] = withForkedBackoffs(copied, copied.map((e) => ({ streamId: rename.text(e.streamId), event: withoutLearningInputs(rename.event(e)) })));
  const sessionEvents = planned.filter((p) => p.streamId === sessionStream(newId));
  planned.push(...escrowReturns(sessionId, newId, planned, last));
  planned.push({ streamId: sessionStream(newId), event: forkedEvent(sessionId, newId, last, copied.length, sessionEvents.at(-1)!.event, options.now?.() ?? new Date().toISOString()) });

  const hashes: (string | undefined)[] = predictHashes(planned, registry);
  hashes[hashes.length - 1] = undefined; // `session.forked` carries the time of the run that wrote it
  const progress = copyProgress(planned, hashes, await readStreams(store, planned.map((p) => p.streamId)));
  if ('conflict' in progress) throw new ForkRefusedError(`cannot fork as "${newId}": ${progress.conflict}. Choose another id with --as.`);
  if (progress.written === planned.length) {
    throw new ForkRefusedError(`session ${newId} already exists: it is this same fork of ${sessionId} at position ${last.position}. Give --as <newId> for another fork.`);
  }
  const written = await appendInOrder(store, planned, progress.written);
  return {
    sessionId: newId, fromSession: sessionId, atPosition: last.position, atTime: last.metadata.recordedAt, events: copied.length,
    streams: [...new Set(planned.map((p) => p.streamId))], extended, sessionState: sessionStateOf(sessionEvents.map((p) => p.event)),
    alreadyWritten: progress.written, lastPosition: written.lastPosition,
  };
}

/**
 * An agent's retry backoff is drawn from the failed request's id (`backoffMs`), and a fork renames every id: a copied
 * `timer.started` kept as recorded would no longer be what the agent's machine asks for when the fork is refolded,
 * and `audit` would call the fork's history diverged. So a backoff that is the source's drawn delay is drawn again
 * from the renamed request (its due time with it); a wait the provider named (`retryAfterMs`) is kept as it was.
 * `planned` is `copied` renamed, event for event.
 */
function withForkedBackoffs(copied: readonly RecordedEvent[], planned: PlannedEvent[]): PlannedEvent[] {
  const agents = new Map<string, { config?: AgentConfig; request?: { from: string; to: string; attempt: number }; named?: boolean }>();
  return planned.map((item, i) => {
    const source = copied[i]!;
    if (streamCategory(source.streamId) !== 'agent') return item;
    let agent = agents.get(source.streamId);
    if (!agent) agents.set(source.streamId, agent = {});
    const data = source.data as Record<string, unknown>;
    if (source.type === 'agent.assigned') agent.config = data.config as AgentConfig;
    if (source.type === 'model.requested') agent.request = { from: data.requestId as string, to: (item.event.data as { requestId: string }).requestId, attempt: data.attempt as number };
    // The provider named the wait (its own, kept), even when it happens to equal the drawn one.
    if (source.type === 'model.failed') agent.named = data.retryAfterMs !== undefined;
    const { config, request } = agent;
    if (source.type !== 'timer.started' || data.key !== RETRY_BACKOFF || config?.retryBackoffMs === undefined || request === undefined || agent.named) return item;
    if (data.delayMs !== backoffMs(config, request.attempt, request.from)) return item;
    const delayMs = backoffMs(config, request.attempt, request.to);
    const dueAt = new Date(Date.parse(source.metadata.recordedAt) + delayMs).toISOString();
    return { ...item, event: { ...item.event, data: { ...(item.event.data as object), delayMs, dueAt } } };
  });
}

/**
 * The session's events at or before the point (a prefix of its global order), plus what a cut there would split:
 * the runtime writes a fact with every effect record, delivered message and ledger entry its step produced in one
 * append, at one `recordedAt`, so a cut in its middle would leave, say, a model request without its reservation
 * (which `resume` refuses to call). Events of the same write linked by causation either way come along; outcomes
 * (a model's answer, a timer firing) are later writes of their own and never do.
 */
export function cutAt(events: readonly RecordedEvent[], at: PointInTime): { copied: RecordedEvent[]; extended: number } {
  let end = 0;
  while (end < events.length && isAtOrBefore(events[end]!, at)) end++;
  const included = new Set(events.slice(0, end).map((e) => e.eventId));
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const sameWrite = (cause: RecordedEvent, effect: RecordedEvent) => cause.metadata.recordedAt === effect.metadata.recordedAt
    && effect.eventId !== derivedId(`${cause.eventId}/outcome`) && effect.eventId !== derivedId(`${cause.eventId}/fired`);
  for (let grew = true; grew;) {
    grew = false;
    for (const event of events) {
      const cause = event.metadata.causationId === null ? undefined : byId.get(event.metadata.causationId);
      if (cause === undefined || !sameWrite(cause, event) || included.has(event.eventId) === included.has(cause.eventId)) continue;
      included.add(event.eventId);
      included.add(cause.eventId);
      grew = true;
    }
  }
  const copied = events.filter((e) => included.has(e.eventId));
  return { copied, extended: copied.length - end };
}

/** Derived ids (`actorRuntime`): an outcome, a timer's firing and a delivered message are named after their source. */
const DERIVED_SUFFIXES = ['outcome', 'fired', 'delivered'] as const;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * How a fork renames what names its source: stream names (`<category>-<old>` and `<category>-<old>.…`), the session
 * id where a `sessionId` (or the correlation id) holds it, and every id the session made — its event ids, which
 * request, timer and message ids are — wherever they occur. A new id is `derivedId("<old id>/fork/<new session>")`,
 * except that an id derived from another (`<requestId>/outcome`, `<timerId>/fired`, `<messageId>/delivered`) is
 * derived from that one's new id, as the runtime would derive it, so `resume` recognises what is already recorded.
 * Ids of things outside the session (an emergency, another session) and free text are kept as recorded.
 */
export function forkRenaming(oldId: string, newId: string, sessionEventIds: Iterable<string>) {
  const escaped = oldId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const streamName = new RegExp(`^([a-z][a-zA-Z0-9]*)-${escaped}(\\..+)?$`);
  const made = new Set(sessionEventIds);
  const derivations = new Map<string, { from: string; suffix: string }>();
  for (const id of made) for (const suffix of DERIVED_SUFFIXES) derivations.set(derivedId(`${id}/${suffix}`), { from: id, suffix });
  const renamed = new Map<string, string>();

  const id = (old: string): string => {
    let mapped = renamed.get(old);
    if (mapped === undefined) {
      const derivation = derivations.get(old);
      mapped = derivation ? derivedId(`${id(derivation.from)}/${derivation.suffix}`) : derivedId(`${old}/fork/${newId}`);
      renamed.set(old, mapped);
    }
    return mapped;
  };
  const isMade = (value: string) => made.has(value) || derivations.has(value);
  const text = (value: string, key?: string): string => {
    if (key === 'sessionId' && value === oldId) return newId;
    if (streamName.test(value)) return value.replace(streamName, `$1-${newId}$2`);
    return value.replace(UUID, (match) => (isMade(match) ? id(match) : match));
  };
  const json = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') return text(value, key);
    if (Array.isArray(value)) return value.map((item) => json(item));
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), json(v, k)]));
    return value;
  };
  const event = (source: RecordedEvent): EventToAppend => {
    const { eventId, type, data, metadata } = unsealed(source);
    return {
      eventId: id(eventId), type, data: json(data),
      metadata: {
        ...metadata, actorId: text(metadata.actorId), sessionId: text(metadata.sessionId, 'sessionId'), correlationId: text(metadata.correlationId, 'sessionId'),
        causationId: metadata.causationId === null ? null : text(metadata.causationId),
      },
    };
  };
  return { id, text, json, event };
}

/**
 * A copied `budget.reconciled` keeps what the ledger folds (turn, estimated, actual, error) but not what budget
 * learning reads (mode, roles, confidence, budget): learning folds every reconciliation in the store, and a copy is
 * the source's turn again, not new evidence.
 */
export const LEARNING_INPUTS = ['mode', 'roles', 'confidence', 'budgeted', 'budgetErrorPct'] as const;

function withoutLearningInputs(event: EventToAppend): EventToAppend {
  if (event.type !== 'budget.reconciled') return event;
  const data = { ...(event.data as Record<string, unknown>) };
  for (const key of LEARNING_INPUTS) delete data[key];
  return { ...event, data };
}

/** The fork's record of itself: the last event of its session stream, at the time the fork was made. */
function forkedEvent(fromSession: string, newId: string, last: RecordedEvent, events: number, lastSessionEvent: EventToAppend, now: string): EventToAppend {
  return {
    eventId: derivedId(`${newId}/forked/${fromSession}@${last.position}`),
    type: 'session.forked',
    data: { fromSession, atPosition: String(last.position), atTime: last.metadata.recordedAt, events },
    metadata: {
      actorId: sessionStream(newId), actorKind: 'session', sessionId: newId, correlationId: newId, causationId: null, recordedAt: now,
      // The stream's machine version, so the fork replays (or is refused) as a whole, like its source.
      machineVersion: lastSessionEvent.metadata.machineVersion,
    },
  };
}

/**
 * Tokens the copy leaves escrowed for the source's open market offers, returned to the fork's pool. The market
 * holds each offer as the source's and settles (sells or expires) it in the source's ledger only, so in the fork
 * they would stay locked for good. Recorded at the cut's time, so a re-run of an interrupted fork writes the same.
 */
function escrowReturns(fromSession: string, newId: string, planned: readonly PlannedEvent[], last: RecordedEvent): PlannedEvent[] {
  const stream = ledgerStream(newId);
  const ledger = planned.filter((p) => p.streamId === stream).reduce((state, p) => applyLedgerEvent(state, p.event.type, p.event.data), initialLedgerState);
  return Object.entries(ledger.balances)
    .filter(([account, amount]) => account.startsWith(escrowAccount('')) && amount > 0)
    .map(([account, amount]) => {
      const offerId = account.slice(escrowAccount('').length);
      return {
        streamId: stream,
        event: {
          eventId: derivedId(`${newId}/forked/returned/${offerId}`),
          type: 'offer.returned',
          data: { offerId, amount, reason: `a fork does not trade on the market: offer ${offerId} stays with session ${fromSession}, whose ledger the market settles` },
          metadata: {
            actorId: stream, actorKind: 'ledger', sessionId: newId, correlationId: newId, causationId: null,
            recordedAt: last.metadata.recordedAt, machineVersion: LEDGER_VERSION,
          },
        },
      };
    });
}

/**
 * Where each fork's copied history ends in a store: the position of its `session.forked` (fork session id → position).
 * A fork's events at or before it are copies of its source's, not new facts: a store-wide tally (budget learning,
 * climate over the whole store) that counts them counts the source's calls and reconciliations twice.
 */
export async function forkedHistoryEnds(store: EventStore): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for await (const event of store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'session.forked' } })) {
    ends.set(event.metadata.sessionId, event.position);
  }
  return ends;
}

function sessionStateOf(events: readonly EventToAppend[]): StateValue {
  const kind = actorKinds.session!;
  let snapshot = initialSnapshot(kind);
  for (const event of events) snapshot = stepActor(kind, snapshot, machineEventOf(event)).snapshot;
  return snapshot.value;
}
