import { beforeAll, describe, expect, it } from 'vitest';
import {
  EPISODE_QUERY_TOKENS, EPISODE_TOKEN_CAP, episodeTokens, foldSessionMemory, initialSessionMemory, memoryAdvice, patternsOf, rankedEpisodes, similarEpisodes, terms, type SessionMemoryState,
} from '../../projections/sessionMemory/index.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { countTokens } from '../../src/models/tokenCount.ts';
import { COUNCIL_QUERY } from '../fork/forkSupport.ts';
import { allEvents, familyModels, FAMILIES, MODEL, sessionScenario } from './memoryScenario.ts';
import { syntheticLog } from './synthetic.ts';

const CROPS = FAMILIES[0].texts;
const MANGROVES = FAMILIES[1].texts;

/** Three sessions, five turns: express and council, two regions and purposes. */
async function recorded(): Promise<RecordedEvent[]> {
  const s = sessionScenario({ seed: 'memory-fold', models: familyModels });
  for (const id of ['k1', 'k2', 'k3']) await s.start(id, { model: MODEL });
  await s.ask('k1', { text: CROPS[0], region: 'KE', purpose: 'food_security' });
  await s.ask('k2', { text: MANGROVES[0], region: 'BD', purpose: 'climate_adaptation' });
  await s.ask('k1', { text: COUNCIL_QUERY, region: 'BD', purpose: 'climate_adaptation' });
  await s.ask('k3', { text: CROPS[1], region: 'KE', purpose: 'food_security' });
  await s.ask('k3', { text: COUNCIL_QUERY, region: 'BD', purpose: 'climate_adaptation' });
  s.runtime.stop();
  return allEvents(s);
}

const of = <T>(events: readonly RecordedEvent[], type: string, sessionId: string, turn: number) =>
  events.find((e) => e.type === type && e.metadata.sessionId === sessionId && (e.data as { turn: number }).turn === turn)!.data as T;

describe('session memory: the fold over every session', () => {
  let events: RecordedEvent[];
  let memory: SessionMemoryState;
  beforeAll(async () => {
    events = await recorded();
    memory = foldSessionMemory(events);
  });

  it('remembers each completed turn with its query, triage and reconciliation', () => {
    expect(memory.episodes.map((e) => `${e.sessionId}#${e.turn}`)).toEqual(['k1#0', 'k2#0', 'k1#1', 'k3#0', 'k3#1']);
    for (const e of memory.episodes) {
      const decided = of<EventData<'triage.decided'>>(events, 'triage.decided', e.sessionId, e.turn);
      const reconciled = events.find((r) => r.type === 'budget.reconciled' && r.metadata.sessionId === e.sessionId && (r.data as { turn: number }).turn === e.turn)!;
      expect(e).toMatchObject({ mode: decided.decision.mode, roles: decided.decision.roles, tokens: (reconciled.data as EventData<'budget.reconciled'>).actual, budgeted: (reconciled.data as EventData<'budget.reconciled'>).budgeted, outcome: 'answered' });
      expect(BigInt(e.position)).toBeGreaterThanOrEqual(reconciled.position);
    }
    expect(memory.episodes.map((e) => e.mode)).toEqual(['express', 'express', 'council', 'express', 'council']);
    expect(memory.episodes[2]!.query).toBe(COUNCIL_QUERY);
    expect(memory.through).toBe(String(events.at(-1)!.position));
  });

  it('sums patterns per purpose, region and mode', () => {
    const patterns = patternsOf(memory.patterns);
    expect(patterns.map((p) => [p.purpose, p.region, p.mode, p.turns])).toEqual([
      ['climate_adaptation', 'BD', 'council', 2], ['food_security', 'KE', 'express', 2], ['climate_adaptation', 'BD', 'express', 1],
    ]);
    const council = memory.episodes.filter((e) => e.mode === 'council');
    expect(patterns[0]!.meanTokens).toBe(Math.round((council[0]!.tokens + council[1]!.tokens) / 2));
    const abs = (e: { tokens: number; budgeted: number }) => Math.abs(Math.round(((e.tokens - e.budgeted) / e.budgeted) * 10_000) / 100);
    expect(patterns[0]!.meanAbsBudgetErrorPct).toBeCloseTo((abs(council[0]!) + abs(council[1]!)) / 2, 1);
    expect(patterns.every((p) => p.handoffRate === 0)).toBe(true);
  });

  it('is stable under replay: folded twice, or in two halves through JSON, gives the same state and the same lookups', () => {
    const again = foldSessionMemory(events);
    const half = Math.floor(events.length / 2);
    const resumed = foldSessionMemory(events.slice(half), JSON.parse(JSON.stringify(foldSessionMemory(events.slice(0, half)))) as SessionMemoryState);
    expect(again).toEqual(memory);
    expect(resumed).toEqual(memory);
    const q = { text: 'Which drought crops suit farmers in Machakos?', region: 'KE', purpose: 'food_security' };
    expect(memoryAdvice(resumed, q)).toEqual(memoryAdvice(memory, q));
    expect(similarEpisodes(again, { text: COUNCIL_QUERY }, 5)).toEqual(similarEpisodes(memory, { text: COUNCIL_QUERY }, 5));
  });

  it('ranks a near-duplicate query first, and advises from what it used', () => {
    const similar = similarEpisodes(memory, { text: 'Which drought crops suit Machakos farmers this year?', region: 'KE', purpose: 'food_security' });
    expect(similar[0]).toMatchObject({ sessionId: 'k1', turn: 0, mode: 'express' });
    expect(similar[0]!.similarity).toBeGreaterThan(0.8);
    expect(similar[1]).toMatchObject({ sessionId: 'k3', turn: 0 });
    expect(similar.every((s, i) => i === 0 || s.similarity <= similar[i - 1]!.similarity)).toBe(true);
    const council = similarEpisodes(memory, { text: 'Compare mangrove restoration and seawalls for Khulna: costs, risks and a financing plan', region: 'BD', purpose: 'climate_adaptation' });
    expect(council[0]!.mode).toBe('council');
    // Same text in both council turns: the newer one wins the tie.
    expect(council.slice(0, 2).map((s) => `${s.sessionId}#${s.turn}`)).toEqual(['k3#1', 'k1#1']);

    const advice = memoryAdvice(memory, { text: CROPS[2], region: 'KE', purpose: 'food_security', mode: 'express' });
    const crops = memory.episodes.filter((e) => e.query.includes('crops'));
    expect(advice.suggestedTokens).toBeGreaterThanOrEqual(Math.min(...crops.map((e) => e.tokens)));
    expect(advice.suggestedTokens).toBeLessThanOrEqual(Math.max(...crops.map((e) => e.tokens)));
    expect(advice.basis).toMatch(/similarity-weighted mean/);
    expect(memoryAdvice(memory, { text: 'Quantum chromodynamics lattice gauge theory', region: 'US', purpose: 'research' })).toEqual({ similar: [], suggestedTokens: null, basis: expect.stringMatching(/^no advice/), through: memory.through });
    expect(memoryAdvice(memory, { text: CROPS[0], mode: 'emergency' }).suggestedTokens).toBeNull();
  });
});

describe('session memory: bounds and bookkeeping', () => {
  it('ranks the best few of each mode as a full ranking of every remembered turn would, ties to the newer', () => {
    const log = syntheticLog();
    const topics = ['drought crops for Kitui farmers', 'mangrove buffers for Khulna', 'heat shelters in Dhaka wards', 'flood drainage in Mombasa'];
    // Many turns of a few texts: equal similarities abound, so the order of ties is tested as much as the scores.
    for (let i = 0; i < 240; i++) {
      log.turn(`r${i % 17}`, `${topics[i % topics.length]} ${i % 5 === 0 ? 'with costs and risks' : ''}`, {
        mode: i % 3 === 0 ? 'council' : 'express', region: i % 2 ? 'KE' : 'BD', purpose: i % 4 ? 'climate_adaptation' : 'food_security', actual: 100 + i,
      });
    }
    const memory = foldSessionMemory(log.events);
    expect(memory.episodes.length).toBeGreaterThan(100);
    for (const text of [...topics, 'drought and flood costs', 'unrelated quantum words']) {
      const query = { text, region: 'KE', purpose: 'food_security' };
      const full = rankedEpisodes(memory, query, Number.POSITIVE_INFINITY);
      for (const k of [1, 3, 5]) {
        const ranked = rankedEpisodes(memory, query, k);
        expect(ranked.slice(0, k)).toEqual(full.slice(0, k));
        for (const mode of ['express', 'council'] as const) {
          expect(ranked.filter((e) => e.mode === mode)).toEqual(full.filter((e) => e.mode === mode).slice(0, k));
        }
      }
      expect(full.every((e, i) => i === 0 || e.similarity < full[i - 1]!.similarity || (e.similarity === full[i - 1]!.similarity && BigInt(e.position) < BigInt(full[i - 1]!.position)))).toBe(true);
    }
  });

  it('words: lower-cased, stop words and plural s removed', () => {
    expect(terms('Which DROUGHT crops suit the farmers of Kitui?')).toEqual(['drought', 'crop', 'suit', 'farmer', 'kitui']);
  });

  it(`keeps the newest turns within ${EPISODE_TOKEN_CAP} tokens of query text; patterns count every turn`, () => {
    const log = syntheticLog();
    const long = 'Assess flood drainage, heat shelters, groundwater salinity and mangrove buffers for ward '.repeat(4);
    for (let i = 0; i < 200; i++) log.turn(`s${i}`, `${long} number ${i}`, { actual: 100 + i });
    const memory = foldSessionMemory(log.events);
    expect(memory.episodes.every((e) => e.queryTokens <= EPISODE_QUERY_TOKENS && countTokens(e.query) === e.queryTokens)).toBe(true);
    expect(episodeTokens(memory.episodes)).toBeLessThanOrEqual(EPISODE_TOKEN_CAP);
    expect(memory.episodes.length).toBe(Math.floor(EPISODE_TOKEN_CAP / EPISODE_QUERY_TOKENS));
    expect(memory.episodes.at(-1)).toMatchObject({ sessionId: 's199', tokens: 299 });
    expect(patternsOf(memory.patterns)).toEqual([expect.objectContaining({ turns: 200, meanTokens: Math.round(100 + 199 / 2) })]);
  });

  it('counts hand-offs per turn of the pattern they followed, and waits for both outcome and reconciliation', () => {
    const log = syntheticLog();
    log.turn('h', 'Plan cooling centres', { actual: 500, budgeted: 400 });
    log.add('h', 'transition.completed', { transitionId: 't1', protocol: 'graceful', participants: [] });
    log.turn('h', 'Plan cooling centres again', { actual: 300, budgeted: 400 });
    const memory = foldSessionMemory(log.events);
    expect(patternsOf(memory.patterns)).toEqual([{ purpose: 'climate_adaptation', region: 'KE', mode: 'express', turns: 2, meanTokens: 400, meanAbsBudgetErrorPct: 25, handoffRate: 0.5 }]);
    const partial = foldSessionMemory(log.events.slice(0, 3));
    expect(partial.episodes).toEqual([]);
    expect(initialSessionMemory.episodes).toEqual([]);
  });

  it("does not remember a copied turn that a fork cut in its middle finishes after its marker", () => {
    const log = syntheticLog();
    // The copy: the query and triage of turn 0, cut before its outcome; then the marker.
    log.add('w', 'query.received', { text: 'Which drought crops suit Machakos?', region: 'KE', purpose: 'food_security' });
    log.add('w', 'triage.decided', { turn: 0, decision: { mode: 'express', roles: ['express'], confidence: 0.6 } });
    log.add('w', 'transition.completed', { transitionId: 'copied', protocol: 'graceful', participants: [] });
    log.add('w', 'session.forked', { fromSession: 'src', atPosition: '41', atTime: '2026-11-24T09:00:00.000Z', events: 3 });
    // Resume finishes the copied turn in the fork: the source's question, not the fork's own.
    log.add('w', 'turn.completed', { turn: 0, status: 'answered', mode: 'express', agents: [] });
    log.add('w', 'budget.reconciled', { turn: 0, estimated: 900, actual: 200, errorPct: 0, mode: 'express', roles: 1, confidence: 0.6, budgeted: 900 });
    log.turn('w', 'And which trees?', { actual: 150 }); // turn 1: the fork's own
    const memory = foldSessionMemory(log.events);
    expect(memory.episodes.map((e) => `${e.sessionId}#${e.turn}`)).toEqual(['w#1']);
    expect(memory.forks).toEqual({ w: { fromSession: 'src', copiedTurns: 1 } });
    expect(patternsOf(memory.patterns)).toEqual([expect.objectContaining({ turns: 1, handoffRate: 0 })]);
  });

  it('leaves failed turns out of the advice but remembers them', () => {
    const log = syntheticLog();
    log.turn('f', 'Which drought crops suit Machakos?', { actual: 10, status: 'failed' });
    const memory = foldSessionMemory(log.events);
    expect(memory.episodes).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(memoryAdvice(memory, { text: 'Which drought crops suit Machakos?' })).toMatchObject({ suggestedTokens: null, basis: 'no advice: the similar turns all failed' });
  });
});
