import { getShortestPaths } from 'xstate/graph';
import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentMachine, type AgentContext } from '../../machines/agentMachine.ts';
import type { Effect } from '../../machines/effects.ts';
import { sessionMachine, type SessionContext } from '../../machines/sessionMachine.ts';
import { READINESS_TIMER, transitionMachine, type TransitionContext } from '../../machines/transitionMachine.ts';
import { foldActor, initialSnapshot, persistedState, stepActor } from '../../src/runtime/actorFold.ts';
import { actorKinds } from '../../src/runtime/actorKinds.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { agentEvents, agentKey, pathConfig as config, usage } from '../support/agentPathEvents.ts';

/** What must hold in every reachable agent state, whatever path led there. */
function checkAgentInvariants(snapshot: AnyMachineSnapshot, effects: Effect[]): void {
  const c = snapshot.context as AgentContext;
  if (snapshot.matches('awaitingModel')) expect(c.pending).not.toBeNull();
  if (!snapshot.matches('awaitingModel')) expect(c.pending).toBeNull();
  expect(c.attempt).toBeLessThanOrEqual(config.maxAttempts);
  if (c.breaker.state !== 'closed') expect(c.breaker.trips).toBeGreaterThan(0);
  for (const effect of effects) {
    if (effect.type === 'model.call') expect(effect.model).toBe(c.breaker.state === 'open' || c.primaryRefused ? 'fallback' : 'primary');
    if (effect.type === 'message.send') expect(['agent.answered', 'agent.failed', 'transition.ready', 'transition.notReady', 'transition.validated', 'context.thresholdCrossed']).toContain(effect.messageType);
    // Mid-call an instance never claims to be ready to hand over.
    if (effect.type === 'message.send' && effect.messageType === 'transition.ready') expect(snapshot.matches('idle') || snapshot.matches('responded') || snapshot.matches('failed')).toBe(true);
  }
}

describe('model-based paths (xstate/graph)', () => {
  it('every shortest path through the agent keeps its invariants and replays from the store to the same state', async () => {
    const paths = getShortestPaths(agentMachine, { events: agentEvents as never, serializeState: agentKey as never, limit: 5_000 });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect([...values].sort()).toEqual(['"awaitingModel"', '"backingOff"', '"failed"', '"idle"', '"preparing"', '"responded"', '"retired"', '"unassigned"']);
    expect(paths.some((p) => (p.state.context as AgentContext).breaker.state === 'halfOpen')).toBe(true);
    expect(paths.length).toBeGreaterThan(40);
    console.log(`agent machine: ${paths.length} shortest paths, ${values.size} state values reached`);

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
          events.push({ type: 'budget.estimated', turn: c.turn, mode: c.mode, roles: c.roles.length + (c.mode === 'express' ? 0 : 1), confidence: 0.8, seedBase: 800, base: 800, learnedFrom: 0, learnedThrough: null, perRole: 400, roleTokens: 400, confidenceFactor: 1.3, total: 1560 });
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
      // Context pressure from the express agent (reported before its answer); hand-offs between turns.
      if (snapshot.matches({ turn: 'express' }) && c.transitions < 1 && c.pressure.length === 0) {
        for (const level of ['warning', 'checkpoint', 'handoff']) events.push({ type: 'context.thresholdCrossed', agentStream: c.agents.express, role: 'express', turn: c.turn, level, percent: 90, tokens: 900, window: 1000 });
      }
      if (snapshot.matches('handingOff')) {
        const participants = [{ role: 'express', fromAgent: 'agent-s.express.0', toAgent: 'agent-s.express.1', instance: 1 }];
        events.push({ type: 'transition.completed', transitionId: c.transition, protocol: 'graceful', participants });
        events.push({ type: 'transition.failed', transitionId: c.transition, protocol: 'graceful', participants, reason: 'no consensus' });
        events.push({ type: 'transition.completed', transitionId: 'another', protocol: 'graceful', participants });
      }
      return events;
    };
    const key = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as SessionContext;
      return JSON.stringify([snapshot.value, c.turn, c.queued.length, c.mode, c.contributions.map((x) => [x.role, x.status]), c.recentOutcomes.map((o) => [o.mode, o.status]), c.pressure.map((p) => p.level), c.transitions, c.agents.express ?? null]);
    };
    const paths = getShortestPaths(sessionMachine, { events: sessionEvents as never, serializeState: key as never, limit: 20_000 });
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const state of ['"new"', '"ready"', '"closed"', '"handingOff"', '{"turn":"triaging"}', '{"turn":"express"}', '{"turn":{"council":"deliberating"}}', '{"turn":{"council":"synthesising"}}']) expect(reached).toContain(state);
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
      // A hand-off is requested only between turns, and only for an agent past its checkpoint threshold.
      if (c.transitions > 0) expect(path.steps.some((st) => st.event.type === 'context.thresholdCrossed' && (st.event as { level: string }).level !== 'warning')).toBe(true);
      expect(c.recentOutcomes.every((o) => o.text !== 'stale')).toBe(true);
      for (const o of c.recentOutcomes) finishedBy.add(`${o.mode}:${o.status}`);
    }
    // Every mode both answered and failed somewhere (a council fails when every member fails, or its synthesis does).
    expect([...finishedBy].sort()).toEqual(['council:answered', 'council:failed', 'emergency:answered', 'emergency:failed', 'express:answered', 'express:failed']);
    console.log(`session machine: ${paths.length} shortest paths, ${reached.size} state values reached`);
  });

  it('every shortest path through a hand-off ends complete (old instances retired) or failed (old instances keep the work), never both', () => {
    const participant = (role: string) => ({ role, fromAgent: `agent-s.${role}.0`, toAgent: `agent-s.${role}.1`, instance: 1 });
    const requested = (protocol: 'graceful' | 'coordinated' | 'emergency', roles: string[]) => ({
      type: 'transition.requested', transitionId: 'transition-s.0', transitionStream: 'transition-s.0', sessionId: 's', sessionStream: 'session-s', protocol,
      reason: 'test', participants: roles.map(participant), config: { ...config, handoffReadinessMs: 1000 },
    });
    const transitionEvents = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as TransitionContext;
      const events: { type: string; [k: string]: unknown }[] = [];
      if (snapshot.matches('preparing')) events.push(requested('graceful', ['express']), requested('coordinated', ['analyst', 'critic']), requested('emergency', ['express']));
      if (snapshot.matches('coordinating')) {
        for (const p of c.participants) {
          if (c.ready.includes(p.fromAgent)) continue;
          events.push({ type: 'transition.ready', transitionId: c.transitionId, agentStream: p.fromAgent });
          events.push({ type: 'transition.notReady', transitionId: c.transitionId, agentStream: p.fromAgent, reason: 'a model call is in flight' });
        }
        if (c.timers[READINESS_TIMER] === undefined) events.push({ type: 'timer.started', timerId: 't1', key: READINESS_TIMER, delayMs: 1000, dueAt: '2026-01-01T00:00:01Z' });
        else events.push({ type: 'timer.fired', timerId: c.timers[READINESS_TIMER], key: READINESS_TIMER });
        events.push({ type: 'transition.ready', transitionId: 'someone-else', agentStream: c.participants[0]!.fromAgent });
      }
      if (snapshot.matches('validating')) {
        for (const p of c.participants) {
          if (c.validated.some((v) => v.agentStream === p.toAgent)) continue;
          const check = { type: 'transition.validated', transitionId: c.transitionId, agentStream: p.toAgent, sessionId: 's', role: p.role, essentialLines: 3, presentInPrompt: 3, summaryTokens: 100, window: 8192, ok: true, problems: [] };
          events.push(check, { ...check, ok: false, presentInPrompt: 2, problems: ['1 of 3 essential lines are missing from the prompt'] }, { ...check, role: 'impostor' });
        }
      }
      return events;
    };
    const key = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as TransitionContext;
      return JSON.stringify([snapshot.value, c.protocol, c.participants.length, c.ready, c.validated, Object.keys(c.timers)]);
    };
    const paths = getShortestPaths(transitionMachine, { events: transitionEvents as never, serializeState: key as never, limit: 5_000 });
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect([...reached].sort()).toEqual(['"complete"', '"coordinating"', '"failed"', '"preparing"', '"validating"']);
    const kind = actorKinds.transition!;
    const outcomes = new Set<string>();
    for (const path of paths) {
      let snapshot = initialSnapshot(kind);
      const sent: { to: string; messageType: string; data: Record<string, unknown> }[] = [];
      for (const step of path.steps.slice(1)) {
        const result = stepActor(kind, snapshot, step.event);
        snapshot = result.snapshot;
        for (const effect of result.effects) if (effect.type === 'message.send') sent.push(effect);
      }
      const c = snapshot.context as TransitionContext;
      const toSession = sent.filter((m) => m.to === 'session-s').map((m) => m.messageType);
      const retired = sent.filter((m) => m.messageType === 'agent.retired');
      if (snapshot.matches('complete')) {
        expect(toSession).toEqual(['transition.completed']);
        expect(retired.map((m) => m.to).sort()).toEqual(c.participants.map((p) => p.fromAgent).sort());
        expect(c.validated.every((v) => v.ok)).toBe(true);
        outcomes.add(`${c.protocol}:complete`);
      } else if (snapshot.matches('failed')) {
        expect(toSession).toEqual(['transition.failed']);
        // Old instances keep the work: only successors already assigned are retired.
        expect(retired.every((m) => c.participants.some((p) => p.toAgent === m.to))).toBe(true);
        outcomes.add(`${c.protocol}:failed`);
      } else {
        expect(toSession).toEqual([]);
      }
      if (c.protocol === 'emergency') expect(sent.some((m) => m.messageType === 'transition.readinessRequested')).toBe(false);
      // Successors are assigned only after every old instance confirmed (or at once, in an emergency).
      const assigned = sent.filter((m) => m.messageType === 'agent.assigned');
      if (assigned.length > 0 && c.protocol !== 'emergency') expect(c.ready.length).toBe(c.participants.length);
    }
    expect([...outcomes].sort()).toEqual(['coordinated:complete', 'coordinated:failed', 'emergency:complete', 'emergency:failed', 'graceful:complete', 'graceful:failed']);
    console.log(`transition machine: ${paths.length} shortest paths, ${reached.size} state values reached`);
  });
});
