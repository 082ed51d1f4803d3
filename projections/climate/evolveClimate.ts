import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { FactorSet } from '../../src/policy/climate/factorSet.ts';
import { FACTOR_SET_ADOPTED, factorSetAdoptedSchema } from '../../src/policy/climate/factorSetEvent.ts';
import { climateCall } from './climateCall.ts';
import { addToTotals, appendRecentCall, withKey, type CallRecord, type ClimateState, type Origin } from './climateState.ts';

/**
 * Folds one recorded event into the climate state under `factors`. Pure: the result depends only on the state,
 * the event and the set (no clock, no randomness, no I/O), so the same events always give the same state, and the
 * state given is left as it was.
 *
 * - `query.received` (session stream): the session's latest origin, a fallback for calls with no task before them.
 * - `task.assigned` (agent stream): the origin of the turn that agent is serving, used for its next calls.
 * - `model.responded` (agent stream): one call, accounted in full.
 * - `model.failed` with `billed` (agent stream): a call the provider ran and billed without an answer, accounted
 *   the same way from what it billed. Other failures ran nothing the log can account.
 * - `factorSet.adopted`: which set the log says was in force for the session from then on.
 * Every other event leaves the state as it was (but for the position). An event at or before the last position
 * folded is ignored: events come in global order, so it was folded already.
 */
export function evolveClimate(state: ClimateState, event: RecordedEvent, factors: FactorSet): ClimateState {
  return stepClimate(state, event, factors, false);
}

/**
 * One step of the fold. With `owned`, the caller vouches that nobody else holds `state` or anything in it (a fold
 * that cloned its starting state), so the step writes in place: every step is then O(1), with no copy of maps that
 * grow with the sessions and agents of a whole-store fold. Without it, the step copies what it changes.
 */
export function stepClimate(state: ClimateState, event: RecordedEvent, factors: FactorSet, owned: boolean): ClimateState {
  if (state.position !== null && event.position <= BigInt(state.position)) return state;
  const next = applyClimateEvent(state, event, factors, owned);
  const position = String(event.position);
  if (!owned) return { ...next, position };
  next.position = position;
  return next;
}

function applyClimateEvent(state: ClimateState, event: RecordedEvent, factors: FactorSet, owned: boolean): ClimateState {
  const sessionId = event.metadata.sessionId;
  const next = owned ? state : { ...state };
  switch (event.type) {
    case 'query.received': {
      const d = event.data as EventData<'query.received'>;
      const previous = state.origins.bySession[sessionId];
      const origin: Origin = { region: d.region, purpose: d.purpose, turn: previous ? previous.turn + 1 : 0 };
      next.origins = { ...state.origins, bySession: withKey(state.origins.bySession, sessionId, origin, owned) };
      return next;
    }
    case 'task.assigned': {
      const d = event.data as EventData<'task.assigned'>;
      const origin: Origin = { region: d.region, purpose: d.purpose, turn: d.turn };
      next.origins = { ...state.origins, byAgentStream: withKey(state.origins.byAgentStream, event.streamId, origin, owned) };
      return next;
    }
    case FACTOR_SET_ADOPTED: {
      const parsed = factorSetAdoptedSchema.safeParse(event.data);
      if (!parsed.success) return state;
      next.inForce = withKey(state.inForce, sessionId, { id: parsed.data.factorSetId, sha256: parsed.data.sha256, position: String(event.position) }, owned);
      return next;
    }
    case 'model.responded':
    case 'model.failed': {
      const call = callOf(event);
      if (call === undefined) return state;
      const record = callRecord(state, event, call, factors);
      next.recentCalls = appendRecentCall(state.recentCalls, record);
      next.totals = addToTotals(state.totals, record, owned);
      return next;
    }
    default:
      return state;
  }
}

type AccountedCall = Pick<EventData<'model.responded'>, 'requestId' | 'model' | 'provider' | 'region' | 'usage' | 'latencyMs'>;

/** What an outcome says the call ran: an answer's own fields, or what a failed call was billed; undefined if nothing ran. */
function callOf(event: RecordedEvent): AccountedCall | undefined {
  if (event.type === 'model.responded') return event.data as EventData<'model.responded'>;
  const d = event.data as EventData<'model.failed'>;
  return d.billed === undefined ? undefined : { requestId: d.requestId, ...d.billed };
}

/** The full account of a call (answered, or billed without an answer), with the origin of the turn it served. */
function callRecord(state: ClimateState, event: RecordedEvent, d: AccountedCall, factors: FactorSet): CallRecord {
  const sessionId = event.metadata.sessionId;
  const origin = state.origins.byAgentStream[event.streamId] ?? state.origins.bySession[sessionId] ?? null;
  const impact = climateCall({
    model: d.model,
    provider: d.provider,
    inferenceRegion: d.region,
    inputTokens: d.usage.inputTokens,
    outputTokens: d.usage.outputTokens,
    latencyMs: d.latencyMs,
    originRegion: origin?.region ?? null,
    purpose: origin?.purpose ?? null,
    turn: origin?.turn ?? null,
  }, factors);
  const inForce = state.inForce[sessionId];
  return {
    position: String(event.position),
    sessionId,
    streamId: event.streamId,
    requestId: d.requestId,
    recordedAt: event.metadata.recordedAt,
    factorSetInForce: inForce ? { id: inForce.id, sha256: inForce.sha256 } : null,
    ...impact,
  };
}
