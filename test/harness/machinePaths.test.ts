import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentMachine, BREAKER_COOLDOWN, MODEL_TIMEOUT, type AgentContext } from '../../machines/agentMachine.ts';
import { createHarness, pathsOf, PathDivergenceError, runPath, type MachinePath } from '../../src/harness/index.ts';

const AGENT = 'agent-s.express.0';
// A window no path can fill (no hand-off interrupts), two failures open the breaker, a fallback answers while open.
const config = { model: 'primary', fallbackModel: 'fallback', contextWindow: 1_000_000, modelTimeoutMs: 1_000, maxAttempts: 3, breakerThreshold: 2, breakerCooldownMs: 5_000, outputReserveTokens: 256 };
const usage = { inputTokens: 40, outputTokens: 60 };

/**
 * What the express agent can receive in a state, as the runtime delivers it: when a step left the runtime a record
 * to make (a cool-down timer, a cancelled timeout, the next request, its timeout), that record and nothing else
 * comes next; otherwise the facts from outside: an assignment, a task, a model's answer or failure, a timer firing.
 */
function agentEvents(snapshot: AnyMachineSnapshot) {
  const c = snapshot.context as AgentContext;
  const at = (state: string) => snapshot.matches(state);
  const calls = c.totals.calls;
  const timer = (key: string, n: number) => ({ type: 'timer.started', timerId: `path-${key}-${n}`, key, delayMs: 1_000, dueAt: '2026-01-01T00:00:01.000Z' });
  const owedCooldown = c.breaker.state === 'open' && c.timers[BREAKER_COOLDOWN] === undefined;
  if (owedCooldown && !at('awaitingModel')) return [timer(BREAKER_COOLDOWN, c.breaker.trips)];
  if (!at('awaitingModel') && c.timers[MODEL_TIMEOUT] !== undefined) return [{ type: 'timer.cancelled', timerId: c.timers[MODEL_TIMEOUT], key: MODEL_TIMEOUT }];
  if (at('preparing')) {
    return [{ type: 'model.requested', requestId: `path-request-${calls}`, model: c.breaker.state === 'open' ? 'fallback' : 'primary', prompt: 'p', estimatedInputTokens: 40, attempt: c.attempt }];
  }
  if (at('awaitingModel') && c.timers[MODEL_TIMEOUT] === undefined) return [timer(MODEL_TIMEOUT, calls)];
  const events: { type: string; [k: string]: unknown }[] = [];
  if (at('unassigned')) events.push({ type: 'agent.assigned', sessionId: 's', sessionStream: 'session-s', agentStream: AGENT, role: 'express', instance: 0, config, quotaTokens: 0 });
  if (at('idle') || at('responded') || at('failed')) {
    events.push({ type: 'task.assigned', turn: c.history.length, query: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation', quotaTokens: 5_000 });
    events.push({ type: 'agent.retired', transitionId: 'transition-s.0', successor: 'agent-s.express.1', reason: 'handed over' });
  }
  if (at('awaitingModel') && c.pending) {
    const { requestId, model } = c.pending;
    events.push({ type: 'model.responded', requestId, text: 'Sorghum and millet.', usage, latencyMs: 5, model, provider: 'scripted', region: 'KE', usageSource: 'provider', estimatedUsage: usage });
    events.push({ type: 'model.failed', requestId, reason: 'server: HTTP 503', retryable: true, kind: 'server' });
    events.push({ type: 'model.failed', requestId, reason: 'auth: no key', retryable: false, kind: 'auth' });
    events.push({ type: 'timer.fired', timerId: c.timers[MODEL_TIMEOUT], key: MODEL_TIMEOUT });
  }
  if (c.timers[BREAKER_COOLDOWN] !== undefined) events.push({ type: 'timer.fired', timerId: c.timers[BREAKER_COOLDOWN], key: BREAKER_COOLDOWN });
  return events;
}

/** States that differ only in ids or unbounded counters are one state for coverage. */
function agentKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as AgentContext;
  return JSON.stringify({ value: snapshot.value, breaker: c.breaker.state, failures: Math.min(c.breaker.consecutiveFailures, c.breaker.threshold), attempt: c.attempt, pending: c.pending?.model ?? null, timers: Object.keys(c.timers).sort(), answered: c.history.length > 0 });
}

/** A fresh harness whose session `s` has a budget the agent's calls are reserved from. */
async function harnessWithSession() {
  const harness = createHarness({ seed: 'paths', budgetTokens: 1_000_000 });
  await harness.startSession('s', { model: 'primary', fallbackModel: 'fallback' });
  return harness;
}

describe('model-based paths over the real runtime', () => {
  it('pathsOf(agentMachine) + runPath: every shortest path is followed by the hosted actor, step for step', async () => {
    const paths = pathsOf(agentMachine, { events: agentEvents, serializeState: agentKey });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect([...values].sort()).toEqual(['"awaitingModel"', '"failed"', '"idle"', '"preparing"', '"responded"', '"retired"', '"unassigned"']);
    expect(paths.some((p) => (p.state.context as AgentContext).breaker.state === 'halfOpen')).toBe(true);
    expect(paths.length).toBeGreaterThan(100);
    let delivered = 0;
    let matched = 0;
    const passedOver = new Set<string>();
    for (const path of paths) {
      const harness = await harnessWithSession();
      const run = await runPath(harness, AGENT, path);
      delivered += run.delivered;
      matched += run.matched;
      run.passedOver.forEach((type) => passedOver.add(type));
      await harness.close();
    }
    // Facts went in through the runtime; the runtime's own records were found where the paths expected them, and
    // the only ones passed over change nothing in the agent (what it sent, an abandoned call's late outcome).
    expect(delivered).toBeGreaterThan(paths.length);
    expect(matched).toBeGreaterThan(paths.length);
    expect([...passedOver].every((type) => ['message.sent', 'model.cancelled', 'model.failed'].includes(type))).toBe(true);
  });

  it('runPath also takes a bare runtime, checking the replayed state at each step and the live one at the end', async () => {
    const paths = pathsOf(agentMachine, { events: agentEvents, serializeState: agentKey, filter: (s) => s.matches('failed') });
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths.slice(0, 5)) {
      const harness = await harnessWithSession();
      const run = await runPath(harness.runtime, AGENT, path);
      expect(run.delivered + run.matched).toBe(path.steps.length - 1);
    }
  });

  it('a path the runtime cannot take is reported with the step, the state that differs and what the runtime recorded', async () => {
    // This generator lets a model answer before its timeout is started; the runtime always starts it first.
    const loose = (snapshot: AnyMachineSnapshot) => {
      const c = snapshot.context as AgentContext;
      if (!snapshot.matches('awaitingModel') || c.timers[MODEL_TIMEOUT] !== undefined || !c.pending) return agentEvents(snapshot);
      return [...agentEvents(snapshot), { type: 'model.responded', requestId: c.pending.requestId, text: 'Too soon.', usage, latencyMs: 5, model: c.pending.model, provider: 'scripted', region: 'KE', usageSource: 'provider' }];
    };
    const path = pathsOf(agentMachine, { events: loose, serializeState: agentKey })
      .find((p: MachinePath) => p.describe() === 'agent.assigned → task.assigned → model.requested → model.responded')!;
    expect(path).toBeDefined();
    const error = await runPath(await harnessWithSession(), AGENT, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathDivergenceError);
    expect((error as Error).message).toContain('step 4 of 4 (model.responded)');
    expect((error as Error).message).toContain('timers.length: 1 ≠ 0 (runtime ≠ path)');
    expect((error as Error).message).toContain('the path does not take timer.started (modelTimeout), which came first');

    // A path of one machine is not followed on a stream another machine hosts.
    await expect(runPath(await harnessWithSession(), 'transition-s.0', path)).rejects.toThrow(/found on the "agent" machine, but the runtime hosts transition-s\.0 with its "transition" machine/);

    // And an agent whose session has no budget: the runtime refuses the call itself, which the path did not foresee.
    const unfunded = createHarness({ seed: 'paths' });
    const error2 = await runPath(unfunded, AGENT, pathsOf(agentMachine, { events: agentEvents, serializeState: agentKey }).find((p) => p.state.matches('responded'))!).catch((e: unknown) => e);
    expect((error2 as Error).message).toMatch(/refused: budget.*the ledger refused the call: start the agent's session with a budget first/);
  });
});
