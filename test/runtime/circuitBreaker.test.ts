import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { ModelCallError } from '../../src/models/modelCallError.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { replayStream } from '../../src/runtime/replay.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { askThroughRefusals, refusalScenario } from '../support/refusalScenario.ts';

/** A primary provider that is down for its first `downCalls` calls and healthy afterwards; a healthy fallback. */
function providers(clock: SimulatedClock, downCalls: number) {
  let primaryCalls = 0;
  const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
  const primary = createScriptedModel({
    spec: 'primary', latencyMs: 20, wait,
    replies: () => (++primaryCalls <= downCalls ? new ModelCallError('server', 'HTTP 503 from the provider', { statusCode: 503 }) : 'primary answer'),
  });
  const fallback = createScriptedModel({ spec: 'fallback', latencyMs: 20, wait, replies: () => 'fallback answer' });
  return (spec: string) => (spec === 'primary' ? primary : fallback);
}

describe('circuit breaker', () => {
  it('opens after consecutive failures, falls back, half-opens after the cool-down and closes on a good probe — all in the log', async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    const models = providers(clock, 3);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('breaker'), models });
    const config = agentConfigFor({ model: 'primary', fallbackModel: 'fallback', breakerThreshold: 2, breakerCooldownMs: 10_000, maxAttempts: 3 }, models);
    await startSession(runtime, 'b1', config);
    const ask = async (text: string, turns: number) => {
      await runtime.deliver('session-b1', { type: 'query.received', data: { text, region: 'BD', purpose: 'disaster_response' }, causationId: null });
      while (((await runtime.snapshotOf('session-b1')).context as SessionContext).turn < turns) await clock.advance(50);
    };

    await ask('Turn 0: cyclone shelters?', 1); // primary fails twice → open → fallback answers
    await clock.advance(10_000); // cool-down → half-open
    await ask('Turn 1: evacuation routes?', 2); // probe primary fails (3rd failure) → open again → fallback
    await clock.advance(10_000);
    await ask('Turn 2: early warning?', 3); // probe primary succeeds → closed
    await runtime.settled();

    const agent = await collect(store.readStream('agent-b1.express.0'));
    const calls = agent.filter((e) => e.type === 'model.requested').map((e) => (e.data as { model: string }).model);
    expect(calls).toEqual(['primary', 'primary', 'fallback', 'primary', 'fallback', 'primary']);
    const cooldowns = agent.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'breakerCooldown');
    const fired = agent.filter((e) => e.type === 'timer.fired' && (e.data as { key: string }).key === 'breakerCooldown');
    expect(cooldowns).toHaveLength(2);
    expect(fired).toHaveLength(2);

    // The breaker's state at each point, read back from the log by replay.
    const breakerAfter = (predicate: (e: RecordedEvent) => boolean) => {
      const upTo = agent.findIndex(predicate);
      return (replayStream('agent-b1.express.0', agent.slice(0, upTo + 1)).context as AgentContext).breaker.state;
    };
    expect(breakerAfter((e) => e === cooldowns[0])).toBe('open');
    expect(breakerAfter((e) => e === fired[0])).toBe('halfOpen');
    expect(breakerAfter((e) => e === cooldowns[1])).toBe('open');
    expect((replayStream('agent-b1.express.0', agent).context as AgentContext).breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 2 });

    // Every turn's outcome as the session recorded it.
    const answers = (await collect(store.readStream('session-b1'))).filter((e) => e.type === 'agent.answered').map((e) => (e.data as { text: string }).text);
    expect(answers).toEqual(['fallback answer', 'fallback answer', 'primary answer']);
    const session = (await runtime.snapshotOf('session-b1')).context as SessionContext;
    expect(session).toMatchObject({ turn: 3, answered: 3, failed: 0 });
  });

  it('a primary that fails a task in a way no retry fixes (malformed, auth) hands that task to the fallback; without one the turn fails', async () => {
    for (const fallback of ['fallback', null] as const) {
      const store = new MemoryEventStore();
      const clock = new SimulatedClock();
      const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
      const primary = createScriptedModel({ spec: 'primary', latencyMs: 20, wait, replies: () => new ModelCallError('malformed', 'the body is not valid JSON') });
      const backup = createScriptedModel({ spec: 'fallback', latencyMs: 20, wait, replies: () => 'fallback answer' });
      const models = (spec: string) => (spec === 'primary' ? primary : backup);
      const runtime = new ActorRuntime({ store, clock, ids: seededIds(`refused-${fallback}`), models });
      await startSession(runtime, 'r1', agentConfigFor({ model: 'primary', fallbackModel: fallback, breakerThreshold: 3, maxAttempts: 3 }, models));
      await runtime.deliver('session-r1', { type: 'query.received', data: { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      while (((await runtime.snapshotOf('session-r1')).context as SessionContext).turn < 1) await clock.advance(50);
      const agent = await collect(store.readStream('agent-r1.express.0'));
      const calls = agent.filter((e) => e.type === 'model.requested').map((e) => (e.data as { model: string }).model);
      const session = (await runtime.snapshotOf('session-r1')).context as SessionContext;
      if (fallback) {
        // Once: the primary is not asked again for this task, and the breaker (threshold 3) is still closed.
        expect(calls).toEqual(['primary', 'fallback']);
        expect(session).toMatchObject({ answered: 1, failed: 0 });
        expect((replayStream('agent-r1.express.0', agent).context as AgentContext).breaker).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
      } else {
        expect(calls).toEqual(['primary']);
        expect(session).toMatchObject({ answered: 0, failed: 1 });
      }
    }
  });

  it("waits out a provider's retry-after on a recorded timer; one longer than a call may take sends the task to the fallback", async () => {
    for (const retryAfterMs of [300, 60_000]) {
      const store = new MemoryEventStore();
      const clock = new SimulatedClock();
      const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
      let calls = 0;
      const primary = createScriptedModel({ spec: 'primary', latencyMs: 20, wait, replies: () => (++calls === 1 ? new ModelCallError('rate-limit', 'HTTP 429', { statusCode: 429, retryAfterMs }) : 'primary answer') });
      const backup = createScriptedModel({ spec: 'fallback', latencyMs: 20, wait, replies: () => 'fallback answer' });
      const models = (spec: string) => (spec === 'primary' ? primary : backup);
      const runtime = new ActorRuntime({ store, clock, ids: seededIds(`wait-${retryAfterMs}`), models });
      await startSession(runtime, 'w1', agentConfigFor({ model: 'primary', fallbackModel: 'fallback', modelTimeoutMs: 5_000, breakerThreshold: 3, maxAttempts: 3 }, models));
      await runtime.deliver('session-w1', { type: 'query.received', data: { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      while (((await runtime.snapshotOf('session-w1')).context as SessionContext).turn < 1) await clock.advance(50);
      const agent = await collect(store.readStream('agent-w1.express.0'));
      const requests = agent.filter((e) => e.type === 'model.requested');
      const failed = agent.find((e) => e.type === 'model.failed')!;
      expect(failed.data).toMatchObject({ kind: 'rate-limit', retryable: true, retryAfterMs });
      const backoffs = agent.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'retryBackoff');
      if (retryAfterMs === 300) {
        expect(requests.map((e) => (e.data as { model: string }).model)).toEqual(['primary', 'primary']);
        expect(backoffs.map((e) => (e.data as { delayMs: number }).delayMs)).toEqual([300]);
        expect(Date.parse(requests[1]!.metadata.recordedAt) - Date.parse(failed.metadata.recordedAt)).toBeGreaterThanOrEqual(300);
      } else {
        expect(requests.map((e) => (e.data as { model: string }).model)).toEqual(['primary', 'fallback']);
        expect(backoffs).toEqual([]);
      }
      expect(((await runtime.snapshotOf('session-w1')).context as SessionContext)).toMatchObject({ answered: 1, failed: 0 });
    }
  });

  it('backs off between retries of a failure that came without a retry-after, doubling each time, jittered by the request id; a session recorded before the setting retries at once', async () => {
    const waitsOf = async (config: ReturnType<typeof agentConfigFor>, name: string) => {
      const store = new MemoryEventStore();
      const clock = new SimulatedClock();
      const models = providers(clock, 3);
      const runtime = new ActorRuntime({ store, clock, ids: seededIds(name), models });
      await startSession(runtime, 'k1', config);
      await runtime.deliver('session-k1', { type: 'query.received', data: { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      while (((await runtime.snapshotOf('session-k1')).context as SessionContext).turn < 1) await clock.advance(50);
      const agent = await collect(store.readStream('agent-k1.express.0'));
      expect(agent.filter((e) => e.type === 'model.requested')).toHaveLength(4);
      expect(((await runtime.snapshotOf('session-k1')).context as SessionContext).recentOutcomes[0]).toMatchObject({ status: 'answered', text: 'primary answer' });
      return agent.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'retryBackoff').map((e) => (e.data as { delayMs: number }).delayMs);
    };
    const settings = { model: 'primary', breakerThreshold: 10, maxAttempts: 4, modelTimeoutMs: 30_000 };
    const waits = await waitsOf(agentConfigFor({ ...settings, retryBackoffMs: 1_000 }, () => createScriptedModel()), 'backoff');
    // After attempts 1, 2 and 3: half to all of 1, 2 and 4 seconds.
    expect(waits).toHaveLength(3);
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(wait).toBeLessThanOrEqual(1_000 * 2 ** i);
    });
    const { retryBackoffMs: _none, ...recordedBefore } = agentConfigFor(settings, () => createScriptedModel());
    expect(await waitsOf(recordedBefore, 'before')).toEqual([]);
  });

  it('with no fallback, an open breaker fails the turn at once instead of calling a provider that is down', async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    const models = providers(clock, 100);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('no-fallback'), models });
    await startSession(runtime, 'b2', agentConfigFor({ model: 'primary', breakerThreshold: 2, maxAttempts: 3, breakerCooldownMs: 60_000 }, models));
    for (let turn = 0; turn < 2; turn++) {
      await runtime.deliver('session-b2', { type: 'query.received', data: { text: `Turn ${turn}`, region: 'KE', purpose: 'climate_adaptation' }, causationId: null });
      while (((await runtime.snapshotOf('session-b2')).context as SessionContext).turn <= turn) await clock.advance(50);
    }
    const agent = await collect(store.readStream('agent-b2.express.0'));
    expect(agent.filter((e) => e.type === 'model.requested')).toHaveLength(2);
    // One backoff, between the two calls; none after the failure that opened the breaker, before a call that cannot be made.
    const timers = agent.filter((e) => e.type === 'timer.started').map((e) => (e.data as { key: string }).key).filter((key) => key !== 'modelTimeout');
    expect(timers).toEqual(['retryBackoff', 'breakerCooldown']);
    const session = (await runtime.snapshotOf('session-b2')).context as SessionContext;
    expect(session.recentOutcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(session.recentOutcomes[1]!.text).toMatch(/circuit breaker open/);
  });

  it('a call the ledger refused says nothing of the provider: refusals leave the breaker closed, and once the budget covers a call the primary answers it', async () => {
    const { store, runtime, ask, start, providerCalls } = refusalScenario();
    await start();
    await askThroughRefusals(ask);
    const agent = await collect(store.readStream('agent-r1.express.0'));
    const outcomes = agent.filter((e) => e.type === 'model.responded' || e.type === 'model.failed').map((e) => (e.data as { kind?: string }).kind ?? 'answered');
    expect(outcomes).toEqual(['answered', 'refused', 'refused', 'answered']);
    expect(providerCalls()).toBe(2);
    expect(agent.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'breakerCooldown')).toEqual([]);
    expect((replayStream('agent-r1.express.0', agent).context as AgentContext).breaker).toMatchObject({ state: 'closed', trips: 0 });
    const session = (await runtime.snapshotOf('session-r1')).context as SessionContext;
    expect(session.recentOutcomes.slice(-2).map((o) => o.status)).toEqual(['failed', 'answered']);
    expect(session.recentOutcomes.at(-2)!.text).toMatch(/^refused: budget/);
  });

  it("a provider's own refusal (an HTTP 4xx) still counts against it: two open the breaker", async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    const primary = createScriptedModel({ spec: 'primary', latencyMs: 20, wait, replies: () => new ModelCallError('refused', 'HTTP 404: the model does not exist', { statusCode: 404 }) });
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('declined'), models: () => primary });
    await startSession(runtime, 'd1', agentConfigFor({ model: 'primary', breakerThreshold: 2 }, () => primary));
    for (const turn of [0, 1]) {
      await runtime.deliver('session-d1', { type: 'query.received', data: { text: `Turn ${turn}`, region: 'KE', purpose: 'climate_adaptation' }, causationId: null });
      while (((await runtime.snapshotOf('session-d1')).context as SessionContext).turn <= turn) await clock.advance(50);
    }
    const agent = await collect(store.readStream('agent-d1.express.0'));
    expect(agent.filter((e) => e.type === 'model.failed').map((e) => e.data)).toMatchObject([{ kind: 'refused', model: 'primary' }, { kind: 'refused', model: 'primary' }]);
    expect((replayStream('agent-d1.express.0', agent).context as AgentContext).breaker).toMatchObject({ state: 'open', trips: 1 });
  });

  it('a timed-out call is abandoned: aborted at the provider, recorded once, and a late answer changes nothing', async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    const slow = createScriptedModel({ spec: 'slow', latencyMs: 5_000, wait, replies: () => 'too late' });
    const quick = createScriptedModel({ spec: 'quick', latencyMs: 10, wait, replies: () => 'in time' });
    const models = (spec: string) => (spec === 'slow' ? slow : quick);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('timeout'), models });
    await startSession(runtime, 't1', agentConfigFor({ model: 'slow', fallbackModel: 'quick', modelTimeoutMs: 1_000, breakerThreshold: 1 }, models));
    await runtime.deliver('session-t1', { type: 'query.received', data: { text: 'Quick, please', region: 'KE', purpose: 'climate_adaptation' }, causationId: null });
    await clock.advance(6_000);
    await runtime.settled();
    const types = (await collect(store.readStream('agent-t1.express.0'))).map((e) => e.type);
    expect(types).toContain('model.cancelled');
    const events = await collect(store.readStream('agent-t1.express.0'));
    const outcomes = events.filter((e) => e.type === 'model.responded' || e.type === 'model.failed');
    expect(outcomes.map((e) => [e.type, (e.data as { kind?: string }).kind ?? (e.data as { text: string }).text])).toEqual([['model.failed', 'timeout'], ['model.responded', 'in time']]);
    expect(((await runtime.snapshotOf('session-t1')).context as SessionContext).recentOutcomes[0]!.text).toBe('in time');
  });
});

