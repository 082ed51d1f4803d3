import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { climateCall } from '../../projections/climate/climateCall.ts';
import { climateListing } from '../../projections/climate/climateListing.ts';
import { climateProjection } from '../../projections/climate/climateProjection.ts';
import { RECENT_CALLS } from '../../projections/climate/climateState.ts';
import type { SessionProjection } from '../../projections/sessionProjection.ts';
import { COLD_RECENT_ITEMS, RECENT_MOVES, type ItemKind } from '../../projections/sessionState/sessionState.ts';
import { sessionStateProjection } from '../../projections/sessionState/sessionStateStore.ts';
import { foldTierHistory, materialiseColdTier } from '../../projections/sessionState/tierHistory.ts';
import { defaultFactorSet, factorSetById } from '../../src/policy/climate/factorSets.ts';
import { ledgerProjection } from '../../projections/tokenLedger/ledgerProjection.ts';
import { RECENT_RECONCILIATIONS, type Reconciliation } from '../../projections/tokenLedger/reconciliation.ts';
import { syntheticSession } from './syntheticSession.ts';

/**
 * Long sessions: a projection's state is what a checkpoint stores and a point-in-time query parses, so its size
 * must not grow with the session's turns or calls; and what it no longer holds must still be derivable, whole,
 * from the log.
 */
const SHORT = 50;
const LONG = 2_000;
const shortSession = syntheticSession(SHORT);
const longSession = syntheticSession(LONG);

function fold<S>(projection: SessionProjection<S>, events: readonly RecordedEvent[], from: S = projection.initial): S {
  let state = from;
  for (const event of events) state = projection.evolve(state, event);
  return state;
}

const size = (state: unknown) => JSON.stringify(state).length;

/** Bounded: the long session's state is about the short one's, whatever the 40× more turns. */
function expectBounded(short: unknown, long: unknown): void {
  expect(size(long)).toBeLessThanOrEqual(1.2 * size(short) + 512);
}

/** A checkpoint's round trip at random cuts: parse(stringify(fold(head))) folded on with the tail is the whole fold. */
/** Folds the first `cut` events, passes the state through JSON as a checkpoint does, and folds the rest on. */
function foldThroughCheckpoint<S>(projection: SessionProjection<S>, events: readonly RecordedEvent[], cut: number): S {
  const checkpoint = JSON.parse(JSON.stringify(fold(projection, events.slice(0, cut)))) as S;
  return fold(projection, events.slice(cut), checkpoint);
}

function expectHalvesEqualWhole<S>(projection: SessionProjection<S>, events: readonly RecordedEvent[]): void {
  const whole = fold(projection, events);
  fc.assert(fc.property(fc.nat({ max: events.length }), (cut) => {
    expect(foldThroughCheckpoint(projection, events, cut)).toEqual(whole);
  }), { numRuns: 25 });
}

describe('token ledger over a long session', () => {
  const short = fold(ledgerProjection, shortSession);
  const long = fold(ledgerProjection, longSession);

  it('keeps a state of bounded size: open turns only, reconciliations as an aggregate and the newest few', () => {
    expectBounded(short, long);
    expect(long.turns).toEqual({});
    expect(long.reconciliations).toHaveLength(RECENT_RECONCILIATIONS);
  });

  it('aggregates every reconciliation in the log, and keeps the newest whole', () => {
    const recorded = longSession.filter((e) => e.type === 'budget.reconciled').map((e) => e.data as Reconciliation);
    expect(recorded).toHaveLength(LONG);
    const abs = recorded.map((r) => Math.abs(r.errorPct));
    expect(long.reconciled).toEqual({
      count: LONG,
      estimated: recorded.reduce((n, r) => n + r.estimated, 0),
      actual: recorded.reduce((n, r) => n + r.actual, 0),
      sumErrorPct: recorded.reduce((n, r) => n + r.errorPct, 0),
      sumAbsErrorPct: abs.reduce((n, a) => n + a, 0),
      meanErrorPct: recorded.reduce((n, r) => n + r.errorPct, 0) / LONG,
      meanAbsErrorPct: abs.reduce((n, a) => n + a, 0) / LONG,
      maxAbsErrorPct: Math.max(...abs),
    });
    expect(long.reconciliations).toEqual(recorded.slice(-RECENT_RECONCILIATIONS));
    // Usage is still counted call by call, failed attempts released, not used.
    expect(long.usage.total.calls).toBe(LONG);
  });

  it('holds an open turn until it is reconciled, with what its answered calls reserved and used', () => {
    const reconciled = longSession.findLastIndex((e) => e.type === 'budget.reconciled');
    const beforeLast = fold(ledgerProjection, longSession.slice(0, reconciled));
    const last = longSession[reconciled]!.data as Reconciliation;
    expect(beforeLast.turns).toEqual({ [String(last.turn)]: { estimated: last.estimated, actual: last.actual } });
  });

  it('folds to the same state in two halves through a JSON round trip (a checkpoint) as all at once', () => {
    expectHalvesEqualWhole(ledgerProjection, syntheticSession(60));
    expect(foldThroughCheckpoint(ledgerProjection, longSession, Math.floor(longSession.length / 2))).toEqual(long);
  });
});

describe('climate over a long session', () => {
  const projection = climateProjection(defaultFactorSet);
  const short = fold(projection, shortSession);
  const long = fold(projection, longSession);
  const listing = climateListing(longSession, defaultFactorSet);

  it('keeps a state of bounded size: totals and the newest call records', () => {
    expectBounded(short, long);
    expect(long.totals.all.calls).toBe(LONG);
    expect(long.recentCalls).toHaveLength(RECENT_CALLS);
    expect(listing.state).toEqual(long);
  });

  it('lists every call, each exactly as the method accounts it directly from the recorded facts', () => {
    const responded = longSession.filter((e) => e.type === 'model.responded');
    expect(listing.calls).toHaveLength(LONG);
    expect(listing.calls.map((c) => c.position)).toEqual(responded.map((e) => String(e.position)));
    for (const [turn, event] of responded.entries()) {
      const d = event.data as { requestId: string; usage: { inputTokens: number; outputTokens: number }; latencyMs: number; model: string; provider: string; region: string };
      // Independently: the facts as recorded, the origin of the task that turn's agent was given.
      const direct = climateCall({
        model: d.model, provider: d.provider, inferenceRegion: d.region, inputTokens: d.usage.inputTokens, outputTokens: d.usage.outputTokens,
        latencyMs: d.latencyMs, originRegion: 'KE', purpose: 'climate_adaptation', turn,
      }, defaultFactorSet);
      const call = listing.calls[turn]!;
      expect(call.requestId).toBe(d.requestId);
      expect({ flags: call.flags, inputs: call.inputs, outputs: call.outputs }).toEqual(direct);
    }
    expect(listing.calls.slice(-RECENT_CALLS)).toEqual(long.recentCalls);
    expect(long.totals.all.energyWh.central).toBe(listing.calls.reduce((n, c) => n + c.outputs.energyWh.central, 0));
    expect(long.totals.all.outputTokens).toBe(listing.calls.reduce((n, c) => n + c.inputs.outputTokens, 0));
  });

  it('restates the whole listing under another set: same calls, only the carbon cost and total move', () => {
    const restated = climateListing(longSession, factorSetById('ecologits-2025.1-ember-2024-scc190'));
    expect(restated.calls).toHaveLength(LONG);
    for (const [i, call] of restated.calls.entries()) {
      const original = listing.calls[i]!;
      expect(call.outputs.energyWh).toEqual(original.outputs.energyWh);
      expect(call.outputs.trueCostUsd.carbonCost).toBeCloseTo(original.outputs.trueCostUsd.carbonCost * 1.9, 18);
    }
  });

  it('folds to the same state in two halves through a JSON round trip (a checkpoint) as all at once', () => {
    expectHalvesEqualWhole(projection, syntheticSession(60));
    expect(foldThroughCheckpoint(projection, longSession, Math.floor(longSession.length / 2))).toEqual(long);
  });
});

describe('tiered session state over a long session', () => {
  const short = fold(sessionStateProjection, shortSession);
  const long = fold(sessionStateProjection, longSession);
  const history = foldTierHistory(longSession);

  it('keeps a state of bounded size: hot and warm within budget, a summary of cold and of the moves', () => {
    expectBounded(short, long);
    expect(long.cold.recent).toHaveLength(COLD_RECENT_ITEMS);
    expect(long.moves.recent).toHaveLength(RECENT_MOVES);
    expect(history.state).toEqual(long);
  });

  it('materialises the whole cold tier from the log: every item, full text, as the summary counts it', () => {
    const cold = materialiseColdTier(longSession);
    expect(cold).toEqual(history.cold);
    expect(cold).toHaveLength(long.cold.count);
    expect(cold.reduce((n, i) => n + i.tokens, 0)).toBe(long.tokens.cold);
    // The tiers partition every item ever created: hot and warm carried, cold from the log.
    const ids = [...long.hot, ...long.warm, ...cold].map((i) => i.id);
    expect(new Set(ids).size).toBe(long.nextSeq);
    expect(cold.every((item, i) => i === 0 || cold[i - 1]!.seq < item.seq)).toBe(true);
    expect(cold.slice().sort((a, b) => a.seq - b.seq)).toEqual(cold);

    // Independently from the events: every query and every answer, whole and in order.
    const queries = longSession.filter((e) => e.type === 'query.received').map((e, turn) => `Turn ${turn} query (KE, climate_adaptation): ${(e.data as { text: string }).text}`);
    const answers = longSession.filter((e) => e.type === 'agent.answered').map((e) => {
      const d = e.data as { turn: number; text: string };
      return `Turn ${d.turn} answer from express.0 (scripted): ${d.text}`;
    });
    expect(cold.filter((i) => i.kind === 'query').map((i) => i.text)).toEqual(queries);
    expect(cold.filter((i) => i.kind === 'answer').map((i) => i.text)).toEqual(answers);
    // Every turn answered: its two questions and its task resolved, its focus superseded but for the last, and every
    // decision but the last few (hot holds the newest, warm the recent) overflowed down.
    const warmDecisions = long.warm.filter((i) => i.kind === 'decision').length;
    const expected: Partial<Record<ItemKind, number>> = {
      session: 1, query: LONG, answer: LONG, question: 2 * LONG, coordination: LONG, focus: LONG - 1, decision: LONG - 1 - warmDecisions,
    };
    const counted: Partial<Record<ItemKind, number>> = {};
    for (const item of cold) counted[item.kind] = (counted[item.kind] ?? 0) + 1;
    expect(counted).toEqual(expected);
    expect(long.cold.byKind).toEqual(expected);
    // The newest to arrive (in arrival order, which is not age order) are there whole.
    const byId = new Map(cold.map((i) => [i.id, i]));
    for (const item of long.cold.recent) expect(byId.get(item.id)).toEqual(item);
  });

  it('records every move, and the summary counts them', () => {
    expect(history.moves).toHaveLength(long.moves.count);
    expect(history.moves.slice(-RECENT_MOVES)).toEqual(long.moves.recent);
    const byReason: Record<string, number> = {};
    for (const move of history.moves) byReason[move.reason] = (byReason[move.reason] ?? 0) + 1;
    expect(long.moves.byReason).toEqual(byReason);
    // Each turn resolves its two questions and its task; each later query supersedes the focus, each later answer the decision.
    expect(byReason.resolved).toBe(3 * LONG);
    expect(history.moves.filter((m) => m.reason === 'superseded' && m.itemId.startsWith('focus:'))).toHaveLength(LONG - 1);
  });

  it('queues each task once though it is recorded twice, however long the session', () => {
    expect(long.cold.byKind.coordination).toBe(LONG);
    expect(long.tasksSeen.length).toBeLessThanOrEqual(32);
  });

  it('folds to the same state in two halves through a JSON round trip (a checkpoint) as all at once', () => {
    expectHalvesEqualWhole(sessionStateProjection, syntheticSession(60));
    expect(foldThroughCheckpoint(sessionStateProjection, longSession, Math.floor(longSession.length / 2))).toEqual(long);
  });
});
