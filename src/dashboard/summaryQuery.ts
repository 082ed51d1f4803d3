import type { ClimateTotals } from '../../projections/climate/climateState.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import type { PointInTime } from '../runtime/pointInTime.ts';
import { sessionStateAt, storeStateAt, type SessionStateAt } from '../runtime/stateAt.ts';
import { readSessionEvents, sessionStream } from '../runtime/sessionStreams.ts';
import { forkedHistoryEnds } from '../runtime/forkSession.ts';
import { isAtOrBefore } from '../runtime/pointInTime.ts';
import type { EventStore } from '../store/eventStore.ts';
import { sessionClimateReport, storeClimateReport } from './climateOf.ts';
import { lastEventAt, logUpTo, pointOf, type ApiPoint } from './logAt.ts';
import { isClimatePurpose, isGlobalSouth, sessionOrigin } from './sessionOrigin.ts';

type Spread = { central: number; min: number; max: number };

export interface Summary {
  at: ApiPoint | null;
  sessions: number;
  tokens: { input: number; output: number; total: number };
  costUsd: number;
  calls: number;
  energyWh: Spread;
  gco2e: { usage: Spread; embodied: Spread };
  trueCostUsd: { total: number; energyCost: number; carbonCost: number; renewableDiscount: number; justiceAdjustment: number };
  shares: { globalSouthTokens: number; climatePurposeTokens: number };
}

/**
 * The headline figures as of a point, for the whole store or one session: tokens, cost and calls are the sum of
 * each session's ledger (what `ledger <id> --json` prints), climate the totals `climate --all --json` (or
 * `climate <id> --json`) prints, so the page never shows a number the CLI would not.
 */
export async function summaryAt(store: EventStore, at: PointInTime | undefined, sessionId: string | undefined): Promise<Summary> {
  if (sessionId !== undefined) {
    const state = await sessionStateAt(store, sessionId, at);
    const events = (await readSessionEvents(store, sessionId)).filter((e) => isAtOrBefore(e, at));
    const climate = sessionClimateReport(sessionId, events).totals.all;
    const own = events.filter((e) => e.streamId === sessionStream(sessionId));
    const last = await lastEventAt(store, at);
    return summary(last, state.position === null ? [] : [state], new Map([[sessionId, own]]), climate);
  }
  const log = await logUpTo(store, at);
  const states = await storeStateAt(store, at);
  const climate = (await storeClimateReport(store, log)).totals.all;
  const bySession = Map.groupBy(log.filter((e) => e.streamId.startsWith('session-')), (e) => e.streamId);
  const own = new Map(states.map((s) => [s.sessionId, bySession.get(sessionStream(s.sessionId)) ?? []]));
  // A fork's ledger holds its source's usage up to the cut as well: counted at the source, as climate counts it.
  const forks = await forkedHistoryEnds(store);
  const copied = new Map<string, Usage>();
  for (const state of states) {
    const end = forks.get(state.sessionId);
    if (end !== undefined) copied.set(state.sessionId, (await sessionStateAt(store, state.sessionId, { position: end })).ledger.usage.total);
  }
  return summary(log.at(-1), states, own, climate, copied);
}

type Usage = SessionStateAt['ledger']['usage']['total'];

function summary(last: RecordedEvent | undefined, states: readonly SessionStateAt[], sessionEvents: Map<string, RecordedEvent[]>, climate: ClimateTotals, copied = new Map<string, Usage>()): Summary {
  let input = 0; let output = 0; let costUsd = 0; let calls = 0; let south = 0; let climatePurpose = 0;
  for (const state of states) {
    const whole = state.ledger.usage.total;
    const copy = copied.get(state.sessionId);
    const usage = copy === undefined ? whole : {
      inputTokens: whole.inputTokens - copy.inputTokens, outputTokens: whole.outputTokens - copy.outputTokens, costUsd: whole.costUsd - copy.costUsd, calls: whole.calls - copy.calls,
    };
    input += usage.inputTokens; output += usage.outputTokens; costUsd += usage.costUsd; calls += usage.calls;
    // Weighted by the session's tokens: the share of the work done for whom, and for what.
    const tokens = usage.inputTokens + usage.outputTokens;
    const origin = sessionOrigin(sessionEvents.get(state.sessionId) ?? []);
    if (isGlobalSouth(origin.region)) south += tokens;
    if (isClimatePurpose(origin.purpose)) climatePurpose += tokens;
  }
  const total = input + output;
  const c = climate.trueCostUsd;
  return {
    at: last ? pointOf(last) : null,
    sessions: states.length,
    tokens: { input, output, total },
    costUsd, calls,
    energyWh: climate.energyWh,
    gco2e: { usage: climate.usageGco2e, embodied: climate.embodiedGco2e },
    trueCostUsd: { total: c.total, energyCost: c.energyCost, carbonCost: c.carbonCost, renewableDiscount: c.renewableDiscount, justiceAdjustment: c.justiceAdjustment },
    shares: { globalSouthTokens: total === 0 ? 0 : south / total, climatePurposeTokens: total === 0 ? 0 : climatePurpose / total },
  };
}
