import type { SessionState, TierItem } from '../../projections/sessionState/sessionState.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { sessionProjections } from '../cli/sessionProjections.ts';
import { toJson } from '../cli/output.ts';
import { isAtOrBefore, type PointInTime } from '../runtime/pointInTime.ts';
import { readSessionEvents } from '../runtime/sessionStreams.ts';
import { sessionStateAt } from '../runtime/stateAt.ts';
import type { EventStore } from '../store/eventStore.ts';
import { sessionClimateReport } from './climateOf.ts';
import { lastEventAt, pointOf, type ApiPoint } from './logAt.ts';

const SUMMARY_CHARS = 120;

type Item = { kind: string; text: string; tokens: number };
type Spread = { central: number; min: number; max: number };

export interface SessionDetail {
  sessionId: string;
  at: ApiPoint | null;
  actors: { streamId: string; kind: string; value: unknown; status: string; revision: string | null }[];
  sessionState: { hot: Item[]; warm: Item[]; cold: { count: number; tokens: number } };
  ledger: { balances: Record<string, number>; reservations: Record<string, unknown>; usage: unknown; loans: Record<string, number>; reconciled: unknown };
  climateCalls: { position: string; streamId: string; model: string; outputTokens: number; energyWh: Spread; usageGco2e: Spread; embodiedGco2e: Spread; trueCostUsd: number }[];
  timeline: { position: string; time: string; stream: string; type: string; summary: string }[];
  links: { audit: string; inspector: string };
}

/**
 * One session as of a point: its actors and projections from `sessionStateAt` (checkpoint plus tail, as `state`
 * answers), every climate call as `climate <id>` lists it, and every event of its streams up to the point.
 */
export async function sessionDetailAt(store: EventStore, sessionId: string, at: PointInTime | undefined): Promise<SessionDetail> {
  const state = await sessionStateAt(store, sessionId, at, sessionProjections());
  const events = (await readSessionEvents(store, sessionId)).filter((e) => isAtOrBefore(e, at));
  const tiers = state.projections['sessionState'] as SessionState;
  const last = await lastEventAt(store, at);
  const { ledger } = state;
  return {
    sessionId,
    at: last ? pointOf(last) : null,
    // The session actor first (it drives the rest), then its agents and transitions by stream.
    actors: [...state.actors].sort((a, b) => Number(b.actorKind === 'session') - Number(a.actorKind === 'session')).map((a) => ({ streamId: a.streamId, kind: a.actorKind, value: a.value, status: a.status, revision: a.revision === null ? null : String(a.revision) })),
    sessionState: { hot: tiers.hot.map(item), warm: tiers.warm.map(item), cold: { count: tiers.cold.count, tokens: tiers.tokens.cold } },
    ledger: { balances: ledger.balances, reservations: ledger.reservations, usage: ledger.usage, loans: ledger.loans, reconciled: ledger.reconciled },
    climateCalls: sessionClimateReport(sessionId, events).calls.map((call) => ({
      position: call.position, streamId: call.streamId, model: call.inputs.model, outputTokens: call.inputs.outputTokens,
      energyWh: call.outputs.energyWh, usageGco2e: call.outputs.usageGco2e, embodiedGco2e: call.outputs.embodiedGco2e,
      trueCostUsd: call.outputs.trueCostUsd.total,
    })),
    timeline: events.map((e) => ({ ...pointOf(e), stream: e.streamId, type: e.type, summary: summarise(e) })),
    links: { audit: `chronicle audit ${sessionId}`, inspector: `chronicle inspect ${sessionId}` },
  };
}

function item(i: TierItem): Item {
  return { kind: i.kind, text: i.text, tokens: i.tokens };
}

/** The event's data on one line, cut to fit a timeline row; the whole event is `chronicle events <id> --json`. */
function summarise(event: RecordedEvent): string {
  const text = toJson(event.data);
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS - 1)}…` : text;
}
