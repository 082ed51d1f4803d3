import type { FactorSet, FactorSetRef } from '../../src/policy/climate/factorSet.ts';
import type { CallImpact } from './climateCall.ts';
import { addSpreads, zeroSpread, type Spread } from './spread.ts';
import type { TrueCost } from './trueCost.ts';

/**
 * The climate projection's state: running totals and the newest call records (inputs beside outputs). Plain JSON
 * throughout (positions as decimal strings, no bigints, no Maps), because checkpoints store it; and of a size that
 * does not grow with the number of calls, because a point-in-time query parses it. The complete per-call listing
 * is a fold of the log (`climateListing` in climateListing.ts), which `climate --json` prints.
 */
export interface Origin {
  region: string;
  purpose: string;
  turn: number;
}

export interface CallRecord extends CallImpact {
  position: string;
  sessionId: string;
  streamId: string;
  requestId: string;
  recordedAt: string;
  /** The set the log recorded as in force for the session at the call (`factorSet.adopted`), or null if none. */
  factorSetInForce: FactorSetRef | null;
}

export interface ClimateTotals {
  calls: number;
  outputTokens: number;
  energyWh: Spread;
  usageGco2e: Spread;
  embodiedGco2e: Spread;
  trueCostUsd: TrueCost;
}

export interface ClimateTotalsByKey {
  all: ClimateTotals;
  bySession: Record<string, ClimateTotals>;
  /** By agent stream, e.g. `agent-<sessionId>.express.0`. */
  byAgent: Record<string, ClimateTotals>;
  byModel: Record<string, ClimateTotals>;
  byInferenceRegion: Record<string, ClimateTotals>;
  byOriginRegion: Record<string, ClimateTotals>;
  byPurpose: Record<string, ClimateTotals>;
}

export interface ClimateState {
  /** The set this fold applies; restating is folding the same events with another. */
  factorSet: FactorSetRef;
  /** The set most recently recorded as in force, per session. */
  inForce: Record<string, FactorSetRef & { position: string }>;
  /** The origin (region, purpose, turn) of the turn in progress, per session and per agent stream. */
  origins: { bySession: Record<string, Origin>; byAgentStream: Record<string, Origin> };
  /** The newest call records (at most `RECENT_CALLS`), oldest first; every call is in the totals. */
  recentCalls: CallRecord[];
  totals: ClimateTotalsByKey;
  /**
   * Position of the last event folded, as a decimal string. An event at or before it is ignored, so a fact folded
   * twice (a checkpoint overlapping its tail) counts once: folds take events in global order.
   */
  position: string | null;
}

/**
 * How many of the newest call records the state keeps whole. A record (every input beside every output) is about
 * 2 KB of JSON, and every checkpoint stores this state, so only a few: the listing has them all.
 */
export const RECENT_CALLS = 1;

export const UNKNOWN_KEY = 'unknown';

const zeroCost: TrueCost = { energyCost: 0, carbonCost: 0, renewableDiscount: 0, justiceAdjustment: 0, total: 0 };

export const emptyTotals: ClimateTotals = {
  calls: 0, outputTokens: 0, energyWh: zeroSpread, usageGco2e: zeroSpread, embodiedGco2e: zeroSpread, trueCostUsd: zeroCost,
};

export function initialClimateState(factors: FactorSet): ClimateState {
  return {
    factorSet: { id: factors.id, sha256: factors.sha256 },
    inForce: {},
    origins: { bySession: {}, byAgentStream: {} },
    recentCalls: [],
    totals: { all: emptyTotals, bySession: {}, byAgent: {}, byModel: {}, byInferenceRegion: {}, byOriginRegion: {}, byPurpose: {} },
    position: null,
  };
}

function addCost(a: TrueCost, b: TrueCost): TrueCost {
  return {
    energyCost: a.energyCost + b.energyCost,
    carbonCost: a.carbonCost + b.carbonCost,
    renewableDiscount: a.renewableDiscount + b.renewableDiscount,
    justiceAdjustment: a.justiceAdjustment + b.justiceAdjustment,
    total: a.total + b.total,
  };
}

export function addCall(totals: ClimateTotals | undefined, call: CallImpact): ClimateTotals {
  const t = totals ?? emptyTotals;
  return {
    calls: t.calls + 1,
    outputTokens: t.outputTokens + call.inputs.outputTokens,
    energyWh: addSpreads(t.energyWh, call.outputs.energyWh),
    usageGco2e: addSpreads(t.usageGco2e, call.outputs.usageGco2e),
    embodiedGco2e: addSpreads(t.embodiedGco2e, call.outputs.embodiedGco2e),
    trueCostUsd: addCost(t.trueCostUsd, call.outputs.trueCostUsd),
  };
}

/**
 * `map` with `value` at `key`. A fold that owns its state (it made it, nobody else holds it) writes in place, so a
 * whole-store fold does not copy its per-session and per-agent maps on every call; otherwise the map is copied and
 * the caller's state left as it was.
 */
export function withKey<T>(map: Record<string, T>, key: string, value: T, owned: boolean): Record<string, T> {
  if (!owned) return { ...map, [key]: value };
  map[key] = value;
  return map;
}

/** Adds one call to every grouping: each grouping's one changed key gets fresh totals. */
export function addToTotals(totals: ClimateTotalsByKey, record: CallRecord, owned: boolean): ClimateTotalsByKey {
  const { inputs } = record;
  const add = (group: Record<string, ClimateTotals>, key: string) => withKey(group, key, addCall(group[key], record), owned);
  const next: ClimateTotalsByKey = owned ? totals : { ...totals };
  next.all = addCall(totals.all, record);
  next.bySession = add(totals.bySession, record.sessionId);
  next.byAgent = add(totals.byAgent, record.streamId);
  next.byModel = add(totals.byModel, inputs.model);
  next.byInferenceRegion = add(totals.byInferenceRegion, inputs.inferenceRegion);
  next.byOriginRegion = add(totals.byOriginRegion, inputs.originRegion ?? UNKNOWN_KEY);
  next.byPurpose = add(totals.byPurpose, inputs.purpose ?? UNKNOWN_KEY);
  return next;
}

/** The newest `RECENT_CALLS` records, oldest first: copies at most that many, however many calls there were. */
export function appendRecentCall(recent: readonly CallRecord[], record: CallRecord): CallRecord[] {
  const kept = recent.length >= RECENT_CALLS ? recent.slice(recent.length - RECENT_CALLS + 1) : [...recent];
  kept.push(record);
  return kept;
}
