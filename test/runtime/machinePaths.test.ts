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

  it('every shortest path through the session (express, council, emergency) serves its queries in order, one agent per role', () => {
    const decision = (mode: 'express' | 'council' | 'emergency', roles: string[]) => ({
      mode, complexity: mode === 'express' ? 0.2 : 0.7, confidence: 0.8, roles, signals: [], rationale: 'test',
      emergency: mode === 'emergency' ? { emergencyId: 'e1', region: 'KE', kind: 'flood' } : null, rulesVersion: 'triage-rules@1',
    });
    const COUNCIL = ['analyst', 'critic'];
    const agent = (role: string) => `agent-s.${role}.0`;
    const sessionEvents = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as SessionContext;
      const events: { type: string; [k: string]: unknown }[] = [];
      const outcomes = (role: string, turn = c.turn) => [
        { type: 'agent.answered', turn, agentStream: agent(role), text: `${role} answer`, usage, model: 'primary', attempts: 1 },
        { type: 'agent.failed', turn, agentStream: agent(role), reason: 'server', attempts: 3 },
      ];
      if (snapshot.matches('new')) events.push({ type: 'session.started', sessionId: 's', agent: config, budgetTokens: 10_000 });
      if (snapshot.matches('ready') || snapshot.matches('turn')) {
        if (c.turn + c.queued.length < 2) events.push({ type: 'query.received', text: `q${c.turn + c.queued.length}`, region: 'KE', purpose: 'climate_adaptation' });
      }
      if (snapshot.matches('ready')) events.push({ type: 'session.closed', reason: 'user closed it' });
      if (snapshot.matches({ turn: 'triaging' })) {
        if (c.mode === null) {
          events.push({ type: 'triage.decided', turn: c.turn, decision: decision('express', ['express']) });
          events.push({ type: 'triage.decided', turn: c.turn, decision: decision('council', COUNCIL) });
          events.push({ type: 'triage.decided', turn: c.turn, decision: decision('emergency', ['hydrologist']) });
        } else {
          events.push({ type: 'budget.estimated', turn: c.turn, mode: c.mode, roles: c.roles.length + (c.mode === 'express' ? 0 : 1), confidence: 0.8, seedBase: 800, base: 800, learnedFrom: 0, learnedAsOf: null, perRole: 400, roleTokens: 400, confidenceFactor: 1.3, total: 1560 });
        }
      }
      if (snapshot.matches({ turn: 'express' })) {
        events.push(...outcomes('express'), { ...outcomes('express', c.turn + 7)[0]!, text: 'stale' });
      }
      if (snapshot.matches({ turn: { council: 'deliberating' } })) {
        for (const role of c.roles) if (!c.contributions.some((x) => x.role === role)) events.push(...outcomes(role));
        events.push({ ...outcomes('synthesiser')[0]!, text: 'stale' }, { ...outcomes(c.roles[0]!, c.turn + 7)[0]!, text: 'stale' });
      }
      if (snapshot.matches({ turn: { council: 'synthesising' } })) events.push(...outcomes('synthesiser'), { ...outcomes(c.roles[0]!)[0]!, text: 'stale' });
      return events;
    };
    const key = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as SessionContext;
      return JSON.stringify([snapshot.value, c.turn, c.queued.length, c.mode, c.contributions.map((x) => [x.role, x.status]), c.recentOutcomes.map((o) => [o.mode, o.status])]);
    };
    const paths = getShortestPaths(sessionMachine, { events: sessionEvents as never, serializeState: key as never, limit: 20_000 });
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const state of ['"new"', '"ready"', '"closed"', '{"turn":"triaging"}', '{"turn":"express"}', '{"turn":{"council":"deliberating"}}', '{"turn":{"council":"synthesising"}}']) expect(reached).toContain(state);
    expect(paths.length).toBeGreaterThan(200);
    const kind = actorKinds.session!;
    const finishedBy = new Set<string>();
    for (const path of paths) {
      let snapshot = initialSnapshot(kind);
      const assigned: string[] = [];
      let triageRequests = 0;
      let completions = 0;
      for (const step of path.steps.slice(1)) {
        const result = stepActor(kind, snapshot, step.event);
        snapshot = result.snapshot;
        for (const effect of result.effects) {
          if (effect.type === 'message.send' && effect.messageType === 'agent.assigned') assigned.push(effect.to);
          if (effect.type === 'message.send' && effect.messageType === 'task.assigned') {
            // A synthesiser is only ever asked to merge answers that exist.
            const task = effect.data as { contributions?: { status: string }[] };
            if (effect.to === agent('synthesiser')) expect(task.contributions?.some((x) => x.status === 'answered')).toBe(true);
          }
          if (effect.type === 'triage.request') triageRequests++;
          if (effect.type === 'turn.complete') completions++;
        }
      }
      const c = snapshot.context as SessionContext;
      // The newest outcomes, in turn order, ending with the last turn finished.
      expect(c.recentOutcomes.map((o) => o.turn)).toEqual(c.recentOutcomes.map((_, i) => c.turn - c.recentOutcomes.length + i));
      expect(c.answered + c.failed).toBe(c.turn);
      expect(completions).toBe(c.turn);
      expect(triageRequests).toBe(c.turn + (snapshot.matches('turn') ? 1 : 0));
      expect(new Set(assigned).size).toBe(assigned.length);
      expect(c.recentOutcomes.every((o) => o.text !== 'stale')).toBe(true);
      for (const o of c.recentOutcomes) finishedBy.add(`${o.mode}:${o.status}`);
    }
    // Every mode both answered and failed somewhere (a council fails when every member fails, or its synthesis does).
    expect([...finishedBy].sort()).toEqual(['council:answered', 'council:failed', 'emergency:answered', 'emergency:failed', 'express:answered', 'express:failed']);
    console.log(`session machine: ${paths.length} shortest paths, ${reached.size} state values reached`);
  });
});
