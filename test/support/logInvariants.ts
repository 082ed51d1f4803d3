import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { verifyChain } from '../../src/events/hashChain.ts';
import { applyLedgerEvent, initialLedgerState, ledgerViolations } from '../../projections/tokenLedger/index.ts';
import { streamCategory } from '../../src/events/envelope.ts';
import { foldActor } from '../../src/runtime/actorFold.ts';
import { actorKindOf, actorKinds } from '../../src/runtime/actorKinds.ts';
import { derivedId } from '../../src/runtime/ids.ts';
import { ledgerStream } from '../../src/runtime/sessionStreams.ts';
import { sessionStream } from '../../src/runtime/sessionStreams.ts';
import { MESSAGE_TYPES } from '../../src/audit/causalityAudit.ts';

type Data = Record<string, unknown>;
const dataOf = (event: RecordedEvent) => event.data as Data;
const OUTCOMES = new Set(['model.responded', 'model.failed']);

/** What a log shows as begun and not finished: the state a crash left behind. */
export interface KillPoint {
  events: number;
  /** The log's shape: each event's actor kind and type, in order. Equal shapes are the same crash state. */
  shape: string;
  /** Model requests without an outcome (a kill between a request and its outcome): their ids. */
  pendingRequests: string[];
  /** `message.sent` records whose message is not in the target stream yet. */
  undelivered: number;
  /** Timers started and neither fired nor cancelled. */
  activeTimers: number;
}

export function killPointOf(all: readonly RecordedEvent[]): KillPoint {
  const ids = new Set(all.map((e) => e.eventId));
  const requests = all.filter((e) => e.type === 'model.requested').map((e) => dataOf(e).requestId as string);
  const answered = new Set(all.filter((e) => OUTCOMES.has(e.type)).map((e) => dataOf(e).requestId));
  const started = all.filter((e) => e.type === 'timer.started').map((e) => dataOf(e).timerId);
  const ended = new Set(all.filter((e) => e.type === 'timer.fired' || e.type === 'timer.cancelled').map((e) => dataOf(e).timerId));
  return {
    events: all.length,
    shape: all.map((e) => `${e.metadata.actorKind}:${e.type}`).join(' '),
    pendingRequests: requests.filter((id) => !answered.has(id)),
    undelivered: all.filter((e) => e.type === 'message.sent' && !ids.has(derivedId(`${dataOf(e).messageId as string}/delivered`))).length,
    activeTimers: started.filter((id) => !ended.has(id)).length,
  };
}

/**
 * Everything a finished, crash-recovered session must satisfy, as a list of problems (empty when all hold): the
 * session answered (or failed) each of its `turns` exactly once, every model request has exactly one outcome,
 * every timer ended at most once, every sent message arrived exactly once, no event id repeats, every stream's
 * hash chain verifies, every actor stream folds through its machine, and the token ledger (when there is one) keeps
 * its laws with each call reserved once and settled or released once.
 */
export function logProblems(all: readonly RecordedEvent[], sessionId: string, turns: number): string[] {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);
  const byStream = Map.groupBy(all, (e) => e.streamId);

  const chain = verifyChain(all);
  if (!chain.ok) problem(`hash chain: ${chain.message}`);
  const ids = Map.groupBy(all, (e) => e.eventId);
  for (const [id, events] of ids) if (events.length > 1) problem(`event id ${id} recorded ${events.length} times (${events.map((e) => `${e.streamId}@${e.revision} ${e.type}`).join(', ')})`);

  const session = byStream.get(sessionStream(sessionId)) ?? [];
  const count = (type: string) => session.filter((e) => e.type === type).length;
  if (count('session.started') !== 1) problem(`session.started recorded ${count('session.started')} times`);
  if (count('query.received') !== turns) problem(`query.received recorded ${count('query.received')} times, expected ${turns}`);
  // A turn ends once, with turn.completed (a council's members answer it several times before its synthesis).
  for (let turn = 0; turn < turns; turn++) {
    const endings = session.filter((e) => e.type === 'turn.completed' && dataOf(e).turn === turn).length;
    if (endings !== 1) problem(`turn ${turn} ended ${endings} times in the session stream`);
  }

  const ledger = byStream.get(ledgerStream(sessionId));
  if (ledger) ledgerProblems(ledger, all).forEach(problem);

  for (const [streamId, events] of byStream) {
    if (!(streamCategory(streamId) in actorKinds)) continue;
    let folded;
    try {
      folded = foldActor(actorKindOf(streamId), events);
    } catch (error) {
      problem(`${streamId} does not fold: ${(error as Error).message}`);
      continue;
    }
    if (streamId === sessionStream(sessionId)) {
      const context = folded.context as SessionContext;
      // Every turn finished exactly once, in order: the session's own log says so (its context keeps only the newest outcomes).
      const done = events.filter((e) => e.type === 'turn.completed').map((e) => dataOf(e).turn as number).join(',');
      if (folded.matches('turn') || folded.matches('handingOff') || context.queued.length > 0 || context.turn !== turns || done !== [...Array(turns).keys()].join(',')) {
        problem(`session did not complete: state ${JSON.stringify(folded.value)}, outcomes for turns [${done}], ${context.turn} finished, ${context.queued.length} queued`);
      }
    }

    const ofType = (type: string) => events.filter((e) => e.type === type);
    const requested = new Set(ofType('model.requested').map((e) => dataOf(e).requestId as string));
    const outcomes = Map.groupBy(events.filter((e) => OUTCOMES.has(e.type)), (e) => dataOf(e).requestId as string);
    for (const id of requested) {
      const recorded = outcomes.get(id) ?? [];
      if (recorded.length !== 1) problem(`${streamId}: model request ${id} has ${recorded.length} outcomes`);
      else if (recorded[0]!.eventId !== derivedId(`${id}/outcome`)) problem(`${streamId}: outcome of ${id} has a fresh id, not the derived one`);
    }
    for (const id of outcomes.keys()) if (!requested.has(id)) problem(`${streamId}: outcome for unknown request ${id}`);
    for (const e of ofType('model.cancelled')) if (!requested.has(dataOf(e).requestId as string)) problem(`${streamId}: cancel of unknown request ${dataOf(e).requestId}`);

    const started = new Set(ofType('timer.started').map((e) => dataOf(e).timerId));
    const endings = Map.groupBy([...ofType('timer.fired'), ...ofType('timer.cancelled')], (e) => dataOf(e).timerId as string);
    for (const [id, ended] of endings) {
      if (!started.has(id)) problem(`${streamId}: timer ${id} ended but never started`);
      if (ended.length > 1) problem(`${streamId}: timer ${id} ended ${ended.length} times (${ended.map((e) => e.type).join(', ')})`);
    }

    for (const sent of ofType('message.sent')) {
      const { messageId, to, messageType } = dataOf(sent) as { messageId: string; to: string; messageType: string };
      const delivered = (byStream.get(to) ?? []).filter((e) => e.eventId === derivedId(`${messageId}/delivered`));
      if (delivered.length !== 1) problem(`${streamId}: message ${messageId} (${messageType}) is in ${to} ${delivered.length} times`);
      else if (delivered[0]!.type !== messageType || delivered[0]!.metadata.causationId !== sent.eventId) problem(`${streamId}: message ${messageId} arrived as ${delivered[0]!.type} caused by ${delivered[0]!.metadata.causationId}`);
    }
  }

  // Messages are the only events one actor writes into another's stream: each must come from a recorded send.
  const sentIds = new Set(all.filter((e) => e.type === 'message.sent').map((e) => derivedId(`${dataOf(e).messageId as string}/delivered`)));
  for (const e of all) if (MESSAGE_TYPES.has(e.type) && !sentIds.has(e.eventId)) problem(`${e.streamId}@${e.revision}: ${e.type} arrived without a recorded message.sent`);
  return problems;
}

/** Every model request reserved or refused once; every reservation settled or released once; the ledger's laws. */
function ledgerProblems(ledger: readonly RecordedEvent[], all: readonly RecordedEvent[]): string[] {
  const problems: string[] = [];
  let state = initialLedgerState;
  for (const event of ledger) state = applyLedgerEvent(state, event.type, event.data);
  problems.push(...ledgerViolations(state).map((v) => `ledger: ${v}`));
  const open = Object.keys(state.reservations);
  if (open.length > 0) problems.push(`ledger: reservations still open at the end: ${open.join(', ')}`);
  const byRequest = Map.groupBy(ledger.filter((e) => 'requestId' in dataOf(e)), (e) => dataOf(e).requestId as string);
  for (const request of all.filter((e) => e.type === 'model.requested')) {
    const id = dataOf(request).requestId as string;
    const types = (byRequest.get(id) ?? []).map((e) => e.type).filter((t) => t !== 'overdraft.recorded').sort().join(', ');
    if (types !== 'tokens.refused' && types !== 'tokens.released, tokens.reserved' && types !== 'tokens.reserved, tokens.settled') {
      problems.push(`ledger: model request ${id} has [${types}], not one reservation (or refusal) and one settlement or release`);
    }
  }
  return problems;
}

export function describeKillPoint(k: KillPoint): string {
  return `${k.events} events (${k.pendingRequests.length} requests awaiting an outcome, ${k.activeTimers} timers armed, ${k.undelivered} messages undelivered)`;
}
