import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import { MODEL_TIMEOUT } from '../../machines/agentMachine.ts';
import { actorKinds } from '../runtime/actorKinds.ts';
import { derivedId } from '../runtime/ids.ts';
import { ledgerStream } from '../runtime/sessionStreams.ts';
import { describePlace, type AuditProblem } from './auditProblem.ts';
import type { SessionLog } from './sessionLog.ts';

export interface CausalitySummary {
  ok: boolean;
  modelCalls: number;
  messages: number;
  causes: number;
}

/** Types only a message brings into an actor's stream: each must come from a recorded `message.sent`. */
export const MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'agent.assigned', 'task.assigned', 'agent.answered', 'agent.failed', 'context.thresholdCrossed', 'transition.requested', 'transition.readinessRequested',
  'transition.ready', 'transition.notReady', 'transition.validated', 'transition.completed', 'transition.failed', 'agent.retired',
]);
const OUTCOMES: ReadonlySet<string> = new Set(['model.responded', 'model.failed']);

type Data = Record<string, unknown>;
const dataOf = (event: RecordedEvent) => event.data as Data;
const named = (event: RecordedEvent) => describePlace({ ...event, eventType: event.type });
type Report = (event: RecordedEvent, kind: string, text: string, expected?: unknown, found?: unknown) => void;

/**
 * Causality: every event's cause is recorded (in this session's log, or anywhere in the store) and, in the same
 * stream, before it; every model outcome answers exactly one earlier request of its stream, under the id derived
 * from it; no model call went out without a reservation in the session's ledger, a refused one being answered by a
 * `refused` failure; every sent message arrived (derived id, its type, caused by the send) and every message that
 * arrived was sent; every timer that fired was started.
 */
export async function causalityAudit(log: SessionLog): Promise<{ summary: CausalitySummary; problems: AuditProblem[] }> {
  const problems: AuditProblem[] = [];
  const report: Report = (event, kind, text, expected, found) => {
    const place = { streamId: event.streamId, revision: event.revision, position: event.position, eventType: event.type };
    problems.push({ check: 'causality', kind, ...place, message: `${describePlace(place)}: ${text}`, ...(expected === undefined ? {} : { expected, found }) });
  };
  const all = [...log.streams.values()].flatMap((s) => s.records.flatMap((r) => (r.event ? [r.event] : [])));
  const byId = new Map<string, RecordedEvent>();
  for (const event of all) {
    const first = byId.get(event.eventId);
    if (first) report(event, 'duplicate-event-id', `has the event id ${event.eventId} of ${named(first)}: ids are recorded once`);
    else byId.set(event.eventId, event);
  }
  await checkCauses(log, all, byId, report);
  const requests = all.filter((e) => e.type === 'model.requested');
  checkModelCalls(log, all, requests, report);
  const sent = all.filter((e) => e.type === 'message.sent');
  checkMessages(all, sent, byId, report);
  const started = new Map(all.filter((e) => e.type === 'timer.started').map((e) => [`${e.streamId} ${String(dataOf(e).timerId)}`, e]));
  for (const fired of all.filter((e) => e.type === 'timer.fired')) {
    const start = started.get(`${fired.streamId} ${String(dataOf(fired).timerId)}`);
    if (!start) report(fired, 'timer-without-start', `timer ${String(dataOf(fired).timerId)} fired, but this stream never started it`);
    // A model timeout recorded as missed gives up a call without blaming the provider: it must really have been late.
    else if (dataOf(fired).missed === true && dataOf(fired).key === MODEL_TIMEOUT && Date.parse(fired.metadata.recordedAt) < Date.parse(String(dataOf(start).dueAt))) {
      report(fired, 'missed-timer-not-late', `timer ${String(dataOf(fired).timerId)} is recorded as missed (fired late, after its process stopped), but it fired before it was due`, `≥ ${String(dataOf(start).dueAt)}`, fired.metadata.recordedAt);
    }
  }
  return { summary: { ok: problems.length === 0, modelCalls: requests.length, messages: sent.length, causes: all.filter((e) => e.metadata.causationId !== null).length }, problems };
}

async function checkCauses(log: SessionLog, all: readonly RecordedEvent[], byId: Map<string, RecordedEvent>, report: Report): Promise<void> {
  const unresolved: RecordedEvent[] = [];
  for (const event of all) {
    const cause = event.metadata.causationId;
    if (cause === null) continue;
    const recorded = byId.get(cause);
    if (!recorded) unresolved.push(event);
    else if (recorded.streamId === event.streamId && recorded.revision >= event.revision) {
      report(event, 'cause-after-effect', `its cause ${cause} is revision ${recorded.revision} of the same stream, not before it`, `< ${event.revision}`, String(recorded.revision));
    }
  }
  if (unresolved.length === 0) return;
  // A loan's lender side is caused by the borrower's fact: a cause may be in another session's log.
  const elsewhere = await log.existingElsewhere([...new Set(unresolved.map((e) => e.metadata.causationId!))]);
  for (const event of unresolved) {
    if (!elsewhere.has(event.metadata.causationId!)) report(event, 'missing-cause', `its cause (causationId ${event.metadata.causationId}) is not in the log: the event that caused it was removed, or the id was altered`, event.metadata.causationId, null);
  }
}

function checkModelCalls(log: SessionLog, all: readonly RecordedEvent[], requests: readonly RecordedEvent[], report: Report): void {
  const ledgerId = ledgerStream(log.sessionId);
  const ledger = all.filter((e) => e.streamId === ledgerId);
  const ledgerByRequest = Map.groupBy(ledger.filter((e) => typeof dataOf(e).requestId === 'string'), (e) => dataOf(e).requestId as string);
  const outcomesByRequest = Map.groupBy(all.filter((e) => OUTCOMES.has(e.type)), (e) => String(dataOf(e).requestId));
  const requestById = new Map(requests.map((r) => [String(dataOf(r).requestId), r]));
  for (const [requestId, outcomes] of outcomesByRequest) {
    const request = requestById.get(requestId);
    for (const [i, outcome] of outcomes.entries()) {
      if (!request || request.streamId !== outcome.streamId || request.revision >= outcome.revision) {
        report(outcome, 'outcome-without-request', `answers request ${requestId}, but no earlier model.requested of this stream has that id${request ? ` (it is ${named(request)})` : ''}`);
      } else if (i > 0) {
        report(outcome, 'duplicate-outcome', `is a second outcome for request ${requestId} (the first is revision ${outcomes[0]!.revision}): each request is answered exactly once`);
      } else if (outcome.eventId !== derivedId(`${requestId}/outcome`)) {
        report(outcome, 'outcome-id', `has id ${outcome.eventId}, not the id derived from its request, so a second recording would not have been refused`, derivedId(`${requestId}/outcome`), outcome.eventId);
      }
    }
  }
  for (const request of requests) {
    const requestId = String(dataOf(request).requestId);
    const entries = ledgerByRequest.get(requestId) ?? [];
    const of = (type: string) => entries.find((e) => e.type === type);
    const [reserved, refused] = [of('tokens.reserved'), of('tokens.refused')];
    const ended = of('tokens.settled') ?? of('tokens.released');
    const outcome = outcomesByRequest.get(requestId)?.[0];
    if (!reserved && !refused) {
      report(request, 'call-without-reservation', `request ${requestId} has no tokens.reserved (nor tokens.refused) in ${ledgerId}: a model call was made without a reservation`, 'tokens.reserved', null);
    } else if (refused) {
      if (outcome?.type !== 'model.failed' || dataOf(outcome).kind !== 'refused') {
        const found = outcome ? `${outcome.type}${outcome.type === 'model.failed' ? ` (${String(dataOf(outcome).kind)})` : ''}` : null;
        report(request, 'refusal-not-honoured', `request ${requestId} was refused by the ledger (${named(refused)}), so its outcome must be a model.failed of kind refused`, 'model.failed (refused)', found);
      }
    } else if (reserved && outcome && reserved.position > outcome.position) {
      report(request, 'reserved-after-outcome', `request ${requestId} was reserved at position ${reserved.position}, after its outcome at position ${outcome.position}`);
    } else if (!outcome && ended) {
      // A reservation the ledger closed belongs to a call that ended (an open one is a call still in flight).
      report(request, 'request-without-outcome', `request ${requestId} has no model.responded or model.failed, though the ledger closed its reservation (${named(ended)})`, 'an outcome', null);
    } else if (outcome?.type === 'model.responded' && !of('tokens.settled')) {
      report(outcome, 'answer-not-settled', `answers request ${requestId}, but ${ledgerId} has no tokens.settled for it: its usage is not accounted`, 'tokens.settled', null);
    } else if (outcome?.type === 'model.failed' && dataOf(outcome).billed !== undefined && !of('tokens.settled')) {
      report(outcome, 'billed-not-settled', `failed request ${requestId} was billed, but ${ledgerId} has no tokens.settled for it: what the provider billed is not accounted`, 'tokens.settled', ended ? named(ended) : null);
    }
  }
  for (const entry of ledger) {
    const requestId = dataOf(entry).requestId;
    if (typeof requestId === 'string' && !requestById.has(requestId)) report(entry, 'reservation-without-request', `accounts request ${requestId}, which no model.requested of the session records`);
  }
}

function checkMessages(all: readonly RecordedEvent[], sent: readonly RecordedEvent[], byId: Map<string, RecordedEvent>, report: Report): void {
  const deliveredIds = new Set<string>();
  for (const send of sent) {
    const { messageId, to, messageType } = dataOf(send) as { messageId: string; to: string; messageType: string };
    const id = derivedId(`${messageId}/delivered`);
    deliveredIds.add(id);
    const delivered = byId.get(id);
    if (!delivered) {
      report(send, 'message-not-delivered', `sent ${messageType} to ${to}, but it never arrived there (no event ${id} in that stream)`, `${messageType} in ${to}`, null);
    } else if (delivered.streamId !== to || delivered.type !== messageType || delivered.metadata.causationId !== send.eventId) {
      report(send, 'message-mismatch', `sent ${messageType} to ${to}, but it arrived as ${delivered.type} in ${delivered.streamId} caused by ${delivered.metadata.causationId}`,
        { to, messageType, causationId: send.eventId }, { to: delivered.streamId, messageType: delivered.type, causationId: delivered.metadata.causationId });
    }
  }
  for (const event of all) {
    if (MESSAGE_TYPES.has(event.type) && streamCategory(event.streamId) in actorKinds && !deliveredIds.has(event.eventId)) {
      report(event, 'message-without-send', 'arrived as a message, but no message.sent of the session sent it');
    }
  }
}
