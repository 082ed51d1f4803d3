import type { CallRecord } from '../../projections/climate/climateState.ts';
import type { PointInTime } from '../runtime/pointInTime.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { SeriesBy } from './apiParams.ts';
import { storeClimateReport } from './climateOf.ts';
import { logUpTo } from './logAt.ts';

export interface SeriesPoint {
  position: string;
  time: string;
  tokens: number;
  gco2e: number;
}

export interface Series {
  by: SeriesBy;
  series: { key: string; points: SeriesPoint[] }[];
}

const UNKNOWN = 'unknown';

/**
 * Cumulative tokens (input + output) and usage gCO2e (central) per key, one point per accounted model call (answered, or billed without an answer) up to
 * the point: the calls of the climate listing `climate --all` prints, so the last point of every series sums to
 * its totals.
 */
export async function seriesAt(store: EventStore, at: PointInTime | undefined, by: SeriesBy): Promise<Series> {
  const { calls } = await storeClimateReport(store, await logUpTo(store, at));
  const series = new Map<string, SeriesPoint[]>();
  for (const call of calls) {
    const key = keyOf(call, by);
    const points = series.get(key) ?? [];
    const previous = points.at(-1);
    points.push({
      position: call.position, time: call.recordedAt,
      tokens: (previous?.tokens ?? 0) + call.inputs.inputTokens + call.inputs.outputTokens,
      gco2e: (previous?.gco2e ?? 0) + call.outputs.usageGco2e.central,
    });
    series.set(key, points);
  }
  return { by, series: [...series].map(([key, points]) => ({ key, points })) };
}

function keyOf(call: CallRecord, by: SeriesBy): string {
  if (by === 'region') return call.inputs.originRegion ?? UNKNOWN;
  if (by === 'purpose') return call.inputs.purpose ?? UNKNOWN;
  return roleOf(call.streamId);
}

/** `agent-<sessionId>.<role>.<instance>` → role; a call on the session's own stream is its triage model's. */
function roleOf(streamId: string): string {
  if (streamId.startsWith('session-')) return 'triage';
  const parts = streamId.split('.');
  return parts.length >= 3 ? parts.at(-2)! : UNKNOWN;
}
