import { describe, expect, it } from 'vitest';
import { foldSessionMemory, patternsOf } from '../../projections/sessionMemory/index.ts';
import { forkSession } from '../../src/runtime/forkSession.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { allEvents, familyModels, FAMILIES, MODEL, sessionScenario } from './memoryScenario.ts';

describe('session memory and forks', () => {
  it("does not count a fork's copied turns again; the fork's own turns count", async () => {
    const store = new MemoryEventStore();
    const source = sessionScenario({ seed: 'memory-fork-src', store, models: familyModels });
    await source.start('src', { model: MODEL });
    await source.ask('src', { text: FAMILIES[0].texts[0], region: 'KE', purpose: 'food_security' });
    await source.ask('src', { text: FAMILIES[2].texts[0], region: 'KE', purpose: 'public_health' });
    source.runtime.stop();
    const before = foldSessionMemory(await allEvents(source));
    expect(before.episodes.map((e) => `${e.sessionId}#${e.turn}`)).toEqual(['src#0', 'src#1']);

    const last = (await allEvents(source)).at(-1)!;
    await forkSession(store, { sessionId: 'src', at: { position: last.position }, as: 'whatif', now: () => '2026-11-24T10:00:00.000Z' });
    const forked = foldSessionMemory(await allEvents(source));
    // The copy holds both turns again (query, triage, outcome; reconciliations without their learning fields).
    expect((await allEvents(source)).filter((e) => e.type === 'turn.completed' && e.metadata.sessionId === 'whatif')).toHaveLength(2);
    expect(forked.episodes).toEqual(before.episodes);
    expect(forked.patterns).toEqual(before.patterns);
    expect(forked.forks).toEqual({ whatif: { fromSession: 'src', copiedTurns: 2 } });

    const fork = sessionScenario({ seed: 'memory-fork-go-on', store, models: familyModels });
    await fork.ask('whatif', { text: FAMILIES[1].texts[0], region: 'BD', purpose: 'climate_adaptation' });
    fork.runtime.stop();
    const after = foldSessionMemory(await allEvents(fork));
    expect(after.episodes.map((e) => `${e.sessionId}#${e.turn}`)).toEqual(['src#0', 'src#1', 'whatif#2']);
    expect(patternsOf(after.patterns).reduce((n, p) => n + p.turns, 0)).toBe(3);
  });
});
