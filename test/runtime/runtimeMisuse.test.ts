import { describe, expect, it } from 'vitest';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime, RuntimeStoppedError, SessionAlreadyStartedError } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

function system() {
  const store = new MemoryEventStore();
  const clock = new SimulatedClock();
  const model = createScriptedModel({ spec: 'm', latencyMs: 10, wait: (ms, signal) => clock.wait(ms, signal) });
  const runtime = new ActorRuntime({ store, clock, ids: seededIds('misuse'), models: () => model });
  return { store, clock, runtime, config: agentConfigFor({ model: 'm' }, () => model) };
}

const query = { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' };

describe('runtime misuse is refused, and nothing is written', () => {
  it('a session started twice, one after the other or both at once: the second start is refused, its budget allocated once', async () => {
    const { store, runtime, config } = system();
    await startSession(runtime, 's1', config, 20_000);
    await expect(startSession(runtime, 's1', config, 999_999)).rejects.toThrow(SessionAlreadyStartedError);
    const both = await Promise.allSettled([startSession(runtime, 's2', config, 20_000), startSession(runtime, 's2', config, 20_000)]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    for (const sessionId of ['s1', 's2']) {
      const ledger = await collect(store.readStream(`ledger-${sessionId}`));
      expect(ledger.filter((e) => e.type === 'budget.allocated').map((e) => (e.data as { amount: number }).amount)).toEqual([20_000]);
      expect((await collect(store.readStream(`session-${sessionId}`))).filter((e) => e.type === 'session.started')).toHaveLength(1);
    }
    runtime.stop();
  });

  it('a fact from outside that breaks its schema is refused naming the field, before triage or the ledger reads it', async () => {
    const { store, runtime, config } = system();
    await startSession(runtime, 's1', config);
    const before = (await collect(store.readAll())).length;
    await expect(askInSession(runtime, 's1', { ...query, text: 1 as unknown as string })).rejects.toThrow(/data\.text: Invalid input: expected string, received number/);
    await expect(runtime.deliver('agent-s1.express.0', { type: 'timer.fired', data: { timerId: 'nope', key: 'x', extra: 1 }, causationId: null })).rejects.toThrow(/Unrecognized key: "extra"/);
    expect((await collect(store.readAll())).length).toBe(before);
    runtime.stop();
  });

  it('a fact delivered after stop is refused at once, not half-recorded and left hanging', async () => {
    const { store, runtime, config } = system();
    await startSession(runtime, 's1', config);
    const before = (await collect(store.readAll())).length;
    runtime.stop();
    await expect(askInSession(runtime, 's1', query)).rejects.toThrow(RuntimeStoppedError);
    await expect(startSession(runtime, 's2', config)).rejects.toThrow(/the runtime was stopped/);
    expect((await collect(store.readAll())).length).toBe(before);
  });
});
