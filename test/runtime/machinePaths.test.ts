import { getShortestPaths } from 'xstate/graph';
import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentMachine, BREAKER_COOLDOWN, MODEL_TIMEOUT, type AgentContext } from '../../machines/agentMachine.ts';
import type { Effect } from '../../machines/effects.ts';
import { sessionMachine, type SessionContext } from '../../machines/sessionMachine.ts';
import { foldActor, initialSnapshot, persistedState, stepActor } from '../../src/runtime/actorFold.ts';
import { actorKinds } from '../../src/runtime/actorKinds.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

const config = { model: 'primary', fallbackModel: 'fallback', contextWindow: 8192, modelTimeoutMs: 1000, maxAttempts: 3, breakerThreshold: 2, breakerCooldownMs: 5000, outputReserveTokens: 256 };
const usage = { inputTokens: 40, outputTokens: 60 };

/** The facts an agent can receive in a given state: what the runtime and the session could send it there. */
function agentEvents(snapshot: AnyMachineSnapshot) {
  const c = snapshot.context as AgentContext;
  const events: { type: string; [k: string]: unknown }[] = [];
  const at = (state: string) => snapshot.matches(state);
  if (at('unassigned')) events.push({ type: 'agent.assigned', sessionId: 's', sessionStream: 'session-s', agentStream: 'agent-s.express.0', role: 'express', instance: 0, config, quotaTokens: 10_000 });
  if (at('idle') || at('responded') || at('failed')) events.push({ type: 'task.assigned', turn: c.history.length, query: 'q', region: 'KE', purpose: 'climate_adaptation' });
  if (at('preparing')) events.push({ type: 'model.requested', requestId: `r${c.totals.calls}`, model: c.breaker.state === 'open' ? 'fallback' : 'primary', prompt: 'p', estimatedInputTokens: 40, attempt: c.attempt });
  if (at('awaitingModel') && c.pending) {
    const requestId = c.pending.requestId;
    events.push({ type: 'model.responded', requestId, text: 'a', usage, latencyMs: 5, model: c.pending.model, provider: 'p', region: 'KE', usageSource: 'tiktoken' });
    events.push({ type: 'model.failed', requestId, reason: 'server: 503', retryable: true, kind: 'server' });
    events.push({ type: 'model.failed', requestId, reason: 'auth: no key', retryable: false, kind: 'auth' });
    if (c.timers[MODEL_TIMEOUT] === undefined) events.push({ type: 'timer.started', timerId: `t${c.totals.calls}`, key: MODEL_TIMEOUT, delayMs: 1000, dueAt: '2026-01-01T00:00:01Z' });
    else events.push({ type: 'timer.fired', timerId: c.timers[MODEL_TIMEOUT], key: MODEL_TIMEOUT });
  }
  if (c.breaker.state === 'open' && c.timers[BREAKER_COOLDOWN] === undefined) events.push({ type: 'timer.started', timerId: `c${c.breaker.trips}`, key: BREAKER_COOLDOWN, delayMs: 5000, dueAt: '2026-01-01T00:00:05Z' });
  if (c.timers[BREAKER_COOLDOWN] !== undefined) events.push({ type: 'timer.fired', timerId: c.timers[BREAKER_COOLDOWN], key: BREAKER_COOLDOWN });
  return events;
}

/** States that differ only in unbounded counters are the same state for path coverage. */
function agentKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as AgentContext;
  return JSON.stringify([snapshot.value, c.breaker.state, Math.min(c.breaker.consecutiveFailures, c.breaker.threshold), c.attempt, c.pending?.model ?? null, Object.keys(c.timers).sort(), c.history.length > 0]);
}

/** What must hold in every reachable agent state, whatever path led there. */
function checkAgentInvariants(snapshot: AnyMachineSnapshot, effects: Effect[]): void {
  const c = snapshot.context as AgentContext;
  if (snapshot.matches('awaitingModel')) expect(c.pending).not.toBeNull();
  if (!snapshot.matches('awaitingModel')) expect(c.pending).toBeNull();
  expect(c.attempt).toBeLessThanOrEqual(config.maxAttempts);
  if (c.breaker.state !== 'closed') expect(c.breaker.trips).toBeGreaterThan(0);
  for (const effect of effects) {
    if (effect.type === 'model.call') expect(effect.model).toBe(c.breaker.state === 'open' ? 'fallback' : 'primary');
    if (effect.type === 'message.send') expect(['agent.answered', 'agent.failed']).toContain(effect.messageType);
  }
}

describe('model-based paths (xstate/graph)', () => {
  it('every shortest path through the agent keeps its invariants and replays from the store to the same state', async () => {
    const paths = getShortestPaths(agentMachine, { events: agentEvents as never, serializeState: agentKey as never, limit: 5_000 });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect([...values].sort()).toEqual(['"awaitingModel"', '"failed"', '"idle"', '"preparing"', '"responded"', '"unassigned"']);
    expect(paths.some((p) => (p.state.context as AgentContext).breaker.state === 'halfOpen')).toBe(true);
    expect(paths.length).toBeGreaterThan(40);

    const kind = actorKinds.agent!;
    for (const [i, path] of paths.entries()) {
      let snapshot = initialSnapshot(kind);
      const store = new MemoryEventStore();
      const streamId = `agent-path${i}.express.0`;
      for (const step of path.steps.slice(1)) {
        const result = stepActor(kind, snapshot, step.event);
        snapshot = result.snapshot;
        checkAgentInvariants(snapshot, result.effects);
        const { type, ...data } = step.event as { type: string };
        await store.appendToStream(streamId, [{
          eventId: crypto.randomUUID(), type, data,
          metadata: { actorId: streamId, actorKind: 'agent', sessionId: 's', correlationId: 's', causationId: null, recordedAt: '2026-01-01T00:00:00Z', machineVersion: kind.version },
        }]);
      }
      if (path.steps.length > 1) {
        const replayed = foldActor(kind, await collect(store.readStream(streamId)));
        expect(persistedState(kind, replayed)).toEqual(persistedState(kind, snapshot));
      }
    }
  });

  it('every shortest path through the session serves its queries in order, one agent per role', () => {
    const sessionEvents = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as SessionContext;
      const events: { type: string; [k: string]: unknown }[] = [];
      if (snapshot.matches('new')) events.push({ type: 'session.started', sessionId: 's', agent: config, budgetTokens: 10_000 });
      if (snapshot.matches('ready') || snapshot.matches('turn')) {
        if (c.turn + c.queued.length < 3) events.push({ type: 'query.received', text: `q${c.turn + c.queued.length}`, region: 'KE', purpose: 'climate_adaptation' });
      }
      if (snapshot.matches('ready')) events.push({ type: 'session.closed', reason: 'user closed it' });
      if (snapshot.matches({ turn: 'express' })) {
        events.push({ type: 'agent.answered', turn: c.turn, agentStream: 'agent-s.express.0', text: 'a', usage, model: 'primary', attempts: 1 });
        events.push({ type: 'agent.failed', turn: c.turn, agentStream: 'agent-s.express.0', reason: 'server', attempts: 3 });
        events.push({ type: 'agent.answered', turn: c.turn + 7, agentStream: 'agent-s.express.0', text: 'stale', usage, model: 'primary', attempts: 1 });
      }
      return events;
    };
    const key = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as SessionContext;
      return JSON.stringify([snapshot.value, c.turn, c.queued.length, c.recentOutcomes.map((o) => o.status)]);
    };
    const paths = getShortestPaths(sessionMachine, { events: sessionEvents as never, serializeState: key as never });
    expect(paths.length).toBeGreaterThan(20);
    const kind = actorKinds.session!;
    for (const path of paths) {
      let snapshot = initialSnapshot(kind);
      const assigned: string[] = [];
      for (const step of path.steps.slice(1)) {
        const result = stepActor(kind, snapshot, step.event);
        snapshot = result.snapshot;
        for (const effect of result.effects) if (effect.type === 'message.send' && effect.messageType === 'agent.assigned') assigned.push(effect.to);
      }
      const c = snapshot.context as SessionContext;
      // The newest outcomes, in turn order, ending with the last turn finished.
      expect(c.recentOutcomes.map((o) => o.turn)).toEqual(c.recentOutcomes.map((_, i) => c.turn - c.recentOutcomes.length + i));
      expect(c.answered + c.failed).toBe(c.turn);
      expect(assigned.length).toBeLessThanOrEqual(1);
      expect(c.recentOutcomes.every((o) => o.text !== 'stale')).toBe(true);
    }
  });
});
