import type { TrueCost } from '../../../projections/climate/trueCost.ts';
import { expect } from 'vitest';
import type { RecordedEvent } from '../../../src/events/envelope.ts';
import type { CallFacts } from '../../../projections/climate/climateCall.ts';
import type { Spread } from '../../../projections/climate/spread.ts';

/** Equal to 1e-9 relative: the expected figures were worked out by hand, so the last bits of rounding may differ. */
export function expectClose(actual: number, expected: number, label = ''): void {
  const tolerance = 1e-9 * Math.abs(expected) + 1e-15;
  expect(Math.abs(actual - expected), `${label}: ${actual} vs expected ${expected}`).toBeLessThanOrEqual(tolerance);
}

export function expectSpread(actual: Spread, expected: Spread, label = ''): void {
  expectClose(actual.min, expected.min, `${label}.min`);
  expectClose(actual.central, expected.central, `${label}.central`);
  expectClose(actual.max, expected.max, `${label}.max`);
}

export const flat = (value: number): Spread => ({ min: value, central: value, max: value });

export function facts(overrides: Partial<CallFacts>): CallFacts {
  return {
    model: 'gpt-4o', provider: 'openai', inferenceRegion: 'US', inputTokens: 100, outputTokens: 500, latencyMs: 12_000,
    originRegion: 'KE', purpose: 'climate_adaptation', turn: 0, ...overrides,
  };
}

/** A recorded event as a store would hand it out (hashes are placeholders: the fold does not read them). */
export function recorded(streamId: string, type: string, data: unknown, position: number, sessionId = 's1'): RecordedEvent {
  return {
    eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    type,
    data,
    streamId,
    revision: 0n,
    position: BigInt(position),
    metadata: {
      actorId: streamId, actorKind: streamId.startsWith('agent-') ? 'agent' : 'session', sessionId, correlationId: sessionId,
      causationId: null, recordedAt: new Date(Date.UTC(2026, 10, 24, 12, 0, position)).toISOString(), schemaVersion: 1,
      machineVersion: 'test', prevHash: '0'.repeat(64), hash: '0'.repeat(64),
    },
  };
}

export function responded(streamId: string, position: number, data: { requestId: string; model?: string; provider?: string; region?: string; outputTokens?: number; latencyMs?: number }, sessionId = 's1'): RecordedEvent {
  return recorded(streamId, 'model.responded', {
    requestId: data.requestId, text: 'answer', usage: { inputTokens: 120, outputTokens: data.outputTokens ?? 500 },
    latencyMs: data.latencyMs ?? 12_000, model: data.model ?? 'gpt-4o', provider: data.provider ?? 'openai', region: data.region ?? 'US',
    usageSource: 'provider',
  }, position, sessionId);
}

/** Each true-cost term within float tolerance of the hand-worked value. */
export function expectTrueCost(cost: TrueCost, expected: TrueCost): void {
  expectClose(cost.energyCost, expected.energyCost, 'energy cost');
  expectClose(cost.carbonCost, expected.carbonCost, 'carbon cost');
  expectClose(cost.renewableDiscount, expected.renewableDiscount, 'renewable discount');
  expectClose(cost.justiceAdjustment, expected.justiceAdjustment, 'justice adjustment');
  expectClose(cost.total, expected.total, 'total');
}
