import { RECENT_CALLS } from '../../../projections/climate/climateState.ts';
import { createStore } from '@xstate/store';
import { describe, expect, it } from 'vitest';
import { climateCall } from '../../../projections/climate/climateCall.ts';
import { climateListing } from '../../../projections/climate/climateListing.ts';
import { climateProjection, climateStoreConfig, foldClimate } from '../../../projections/climate/climateProjection.ts';
import { climateReport } from '../../../projections/climate/climateReport.ts';
import { evolveClimate } from '../../../projections/climate/evolveClimate.ts';
import { defaultFactorSet, factorSetById } from '../../../src/policy/climate/factorSets.ts';
import { readSessionEvents } from '../../../src/runtime/sessionStreams.ts';
import { query, simulatedSystem } from '../../support/simulatedSystem.ts';
import { facts, recorded, responded } from './climateFixtures.ts';

const SESSION = 'session-s1';
const EXPRESS = 'agent-s1.express.0';
const CRITIC = 'agent-s1.critic.0';
const restating = factorSetById('ecologits-2025.1-ember-2024-scc190');

/** Two turns of one session: a Bangladeshi adaptation question, then a US crypto one, three calls in all. */
const log = [
  recorded(SESSION, 'session.started', { sessionId: 's1' }, 1),
  recorded(SESSION, 'factorSet.adopted', { factorSetId: defaultFactorSet.id, sha256: defaultFactorSet.sha256 }, 2),
  recorded(SESSION, 'query.received', { text: 'Flood warnings?', region: 'BD', purpose: 'climate_adaptation' }, 3),
  recorded(EXPRESS, 'task.assigned', { turn: 0, query: 'Flood warnings?', region: 'BD', purpose: 'climate_adaptation' }, 4),
  recorded(EXPRESS, 'model.requested', { requestId: 'r1', model: 'gpt-4o', prompt: 'p', estimatedInputTokens: 100, attempt: 1 }, 5),
  responded(EXPRESS, 6, { requestId: 'r1' }),
  recorded(SESSION, 'query.received', { text: 'Cheaper mining?', region: 'US', purpose: 'crypto_mining' }, 7),
  recorded(EXPRESS, 'task.assigned', { turn: 1, query: 'Cheaper mining?', region: 'US', purpose: 'crypto_mining' }, 8),
  responded(EXPRESS, 9, { requestId: 'r2', model: 'claude-sonnet-4', provider: 'anthropic', outputTokens: 2000, latencyMs: 45_000 }),
  // An agent with no task of its own in the log: the session's latest query is its origin.
  responded(CRITIC, 10, { requestId: 'r3', model: 'gpt-4o-mini', outputTokens: 1200, latencyMs: 9000 }),
];
// The same fact folded twice (a checkpoint overlapping its tail) is counted once: it is at or before the last position.
const events = [...log, log[5]!];

describe('climate projection (fold over recorded events)', () => {
  const state = foldClimate(events, defaultFactorSet);
  const { calls } = climateListing(events, defaultFactorSet);

  it('records one call per model.responded with the origin of the turn it served, every input beside every output', () => {
    expect(calls.map((c) => [c.requestId, c.streamId, c.inputs.originRegion, c.inputs.purpose, c.inputs.turn, c.inputs.originClass])).toEqual([
      ['r1', EXPRESS, 'BD', 'climate_adaptation', 0, 'global-south'],
      ['r2', EXPRESS, 'US', 'crypto_mining', 1, 'global-north'],
      ['r3', CRITIC, 'US', 'crypto_mining', 1, 'global-north'],
    ]);
    const first = calls[0]!;
    expect(first).toMatchObject({ position: '6', sessionId: 's1', recordedAt: '2026-11-24T12:00:06.000Z', factorSetInForce: { id: defaultFactorSet.id, sha256: defaultFactorSet.sha256 } });
    const direct = climateCall(facts({ originRegion: 'BD', inputTokens: 120 }), defaultFactorSet);
    expect(first.inputs).toEqual(direct.inputs);
    expect(first.outputs).toEqual(direct.outputs);
    expect(state.position).toBe('10');
    // The state keeps the newest calls whole (RECENT_CALLS of them); the listing has every one.
    expect(state.recentCalls).toEqual(calls.slice(-RECENT_CALLS));
    expect(climateListing(events, defaultFactorSet).state).toEqual(state);
  });

  it('keeps totals per session, agent, model, inference region, origin region and purpose', () => {
    const wh = calls.map((c) => c.outputs.energyWh.central);
    expect(state.totals.all.calls).toBe(3);
    expect(state.totals.all.outputTokens).toBe(500 + 2000 + 1200);
    expect(state.totals.all.energyWh.central).toBe(wh[0]! + wh[1]! + wh[2]!);
    expect(state.totals.bySession.s1).toEqual(state.totals.all);
    expect(Object.keys(state.totals.byAgent)).toEqual([EXPRESS, CRITIC]);
    expect(state.totals.byAgent[EXPRESS]!.calls).toBe(2);
    expect(Object.keys(state.totals.byModel)).toEqual(['gpt-4o', 'claude-sonnet-4', 'gpt-4o-mini']);
    expect(state.totals.byInferenceRegion.US!.calls).toBe(3);
    expect(state.totals.byOriginRegion.BD!.energyWh).toEqual(calls[0]!.outputs.energyWh);
    expect(state.totals.byPurpose.crypto_mining!.calls).toBe(2);
    const t = state.totals.all.trueCostUsd;
    expect(t.total).toBeCloseTo(t.energyCost + t.carbonCost + t.renewableDiscount + t.justiceAdjustment, 15);
  });

  it('is deterministic and its state survives a JSON round trip, so a checkpoint plus the tail equals the whole fold', () => {
    expect(foldClimate(events, defaultFactorSet)).toEqual(state);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    const checkpoint = JSON.parse(JSON.stringify(foldClimate(events.slice(0, 6), defaultFactorSet)));
    expect(foldClimate(events.slice(6), defaultFactorSet, checkpoint)).toEqual(state);
  });

  it('runs live in an @xstate/store with the same handlers, and as a session projection', () => {
    const store = createStore(climateStoreConfig(defaultFactorSet));
    for (const event of events) store.send({ type: 'recorded', event });
    expect(store.getSnapshot().context).toEqual(state);
    const projection = climateProjection(defaultFactorSet);
    expect(events.reduce(projection.evolve, projection.initial)).toEqual(state);
  });

  it('restates under another factor set exactly: only the carbon cost, the total and the set named change', () => {
    const restated = climateListing(events, restating);
    expect(restated.calls).toHaveLength(calls.length);
    for (const [i, call] of restated.calls.entries()) {
      const original = calls[i]!;
      expect({ ...call.inputs, factorSetId: null, factorSetSha256: null }).toEqual({ ...original.inputs, factorSetId: null, factorSetSha256: null });
      expect(call.inputs.factorSetId).toBe(restating.id);
      const { trueCostUsd, ...physical } = call.outputs;
      const { trueCostUsd: originalCost, ...originalPhysical } = original.outputs;
      expect(physical).toEqual(originalPhysical);
      expect(trueCostUsd.carbonCost).toBeCloseTo(originalCost.carbonCost * 1.9, 18);
      expect({ ...trueCostUsd, carbonCost: 0, total: 0 }).toEqual({ ...originalCost, carbonCost: 0, total: 0 });
      expect(trueCostUsd.total - originalCost.total).toBeCloseTo(trueCostUsd.carbonCost - originalCost.carbonCost, 18);
    }
    expect(climateReport({ state, calls }, defaultFactorSet).restated).toBe(false);
    expect(() => climateReport(restated, defaultFactorSet)).toThrow(/folded with ecologits-2025.1-ember-2024-scc190/);
    expect(climateReport(restated, restating)).toMatchObject({ factorSet: { id: restating.id, sha256: restating.sha256 }, restated: true, recordedFactorSets: { s1: { id: defaultFactorSet.id } }, constants: { prices: { carbonUsdPerTonne: 190 } } });
  });

  it('refuses to report a listing that misses calls, such as a state\'s newest few', () => {
    expect(() => climateReport({ state, calls: calls.slice(1) }, defaultFactorSet)).toThrow(/2 call\(s\) but the totals count 3/);
  });

  it('folds several sessions in global order (the whole store): per-session totals equal each session folded alone', () => {
    const other = [
      recorded('session-s2', 'query.received', { text: 'Heat?', region: 'KE', purpose: 'climate_adaptation' }, 4, 's2'),
      recorded('agent-s2.express.0', 'task.assigned', { turn: 0, query: 'Heat?', region: 'KE', purpose: 'climate_adaptation' }, 5, 's2'),
      responded('agent-s2.express.0', 7, { requestId: 'r1', region: 'KE' }, 's2'),
    ];
    // Renumbered into one global order with the first session's events (positions 1…10 and 4/5/7 made unique).
    const whole = [...log.map((e) => ({ ...e, position: e.position * 10n })), ...other.map((e) => ({ ...e, position: e.position * 10n + 5n }))]
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    const store = climateListing(whole, defaultFactorSet);
    const s1 = climateListing(whole.filter((e) => e.metadata.sessionId === 's1'), defaultFactorSet);
    const s2 = climateListing(whole.filter((e) => e.metadata.sessionId === 's2'), defaultFactorSet);
    expect(store.calls.map((c) => `${c.sessionId}/${c.requestId}`)).toEqual(['s1/r1', 's2/r1', 's1/r2', 's1/r3']);
    expect(store.state.totals.bySession).toEqual({ s1: s1.state.totals.all, s2: s2.state.totals.all });
    expect(store.calls.find((c) => c.sessionId === 's2')!.inputs.originRegion).toBe('KE');
    // The in-place fold and the pure one (step by step, each state left as it was) agree.
    const initial = climateProjection(defaultFactorSet).initial;
    const frozen = JSON.stringify(initial);
    expect(whole.reduce((s, e) => evolveClimate(s, e, defaultFactorSet), initial)).toEqual(store.state);
    expect(JSON.stringify(initial)).toBe(frozen);
    expect(foldClimate(whole, defaultFactorSet)).toEqual(store.state);
  });

  it('folds a real session run by the runtime (scripted model, simulated clock)', async () => {
    const system = simulatedSystem({ seed: 'climate' });
    await system.start('c1', { model: 'scripted:latency=800,seed=1,model=scripted-large' });
    await system.ask('c1', query('Which mangroves protect coasts best?', 'BD'));
    await system.runUntilAnswered(['c1'], 1);
    const { state: climate, calls: listed } = climateListing(await readSessionEvents(system.store, 'c1'), defaultFactorSet);
    expect(listed).toHaveLength(1);
    const call = listed[0]!;
    expect(call.inputs).toMatchObject({
      model: 'scripted-large', modelKey: 'scripted-large', provider: 'scripted', inferenceRegion: 'local',
      gridRegion: 'WORLD', originRegion: 'BD', originClass: 'global-south', purpose: 'climate_adaptation', turn: 0,
    });
    // The runtime measures latency on its (simulated) clock: the scripted 800 ms plus the tick that delivered it.
    expect(call.inputs.requestLatencyS).toBeGreaterThanOrEqual(0.8);
    expect(call.inputs.requestLatencyS).toBeLessThan(1.1);
    expect(call.flags).toContain('grid-world-average');
    expect(call.outputs.energyWh.central).toBeGreaterThan(0);
    expect(climate.totals.bySession.c1!.calls).toBe(1);
  });
});
