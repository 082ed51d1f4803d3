import type { AnyMachineSnapshot } from 'xstate';
import { BREAKER_COOLDOWN, MODEL_TIMEOUT, RETRY_BACKOFF, type AgentContext } from '../../machines/agentMachine.ts';

// The facts an agent can receive, state by state, for model-based path tests (xstate/graph) and behaviour pins.

/** An agent's config as the paths assign it; with `retryBackoffMs` (revision 11's own backoff) or without (as configs before it). */
export const pathConfig = { model: 'primary', fallbackModel: 'fallback', contextWindow: 8192, modelTimeoutMs: 1000, maxAttempts: 3, breakerThreshold: 2, breakerCooldownMs: 5000, outputReserveTokens: 256 };
export const usage = { inputTokens: 40, outputTokens: 60 };

/**
 * The facts an agent can receive in a given state: what the runtime and the session could send it there. `missed`:
 * a model timeout can also fire late, on rebuilding the agent after its process stopped (`timer.fired.missed`,
 * recorded since revision 12; streams of earlier revisions hold none).
 */
export function agentEvents(snapshot: AnyMachineSnapshot, config: Record<string, unknown> = pathConfig, { missed = true }: { missed?: boolean } = {}) {
  const c = snapshot.context as AgentContext;
  const events: { type: string; [k: string]: unknown }[] = [];
  const at = (state: string) => snapshot.matches(state);
  if (at('unassigned')) {
    events.push({ type: 'agent.assigned', sessionId: 's', sessionStream: 'session-s', agentStream: 'agent-s.express.0', role: 'express', instance: 0, config, quotaTokens: 10_000 });
    // A fresh instance taking over: it checks what it was handed and tells the transition.
    const summary = 'Hand-off summary of session s as of position 9.\nEssential context:\n- Focus (turn 0): q\n- Mode: express';
    events.push({ type: 'agent.assigned', sessionId: 's', sessionStream: 'session-s', agentStream: 'agent-s.express.1', role: 'express', instance: 1, config, quotaTokens: 0, transfer: { transitionId: 'x', transitionStream: 'transition-s.0', fromAgent: 'agent-s.express.0', summary, summaryTokens: 30, hotItems: 2 } });
  }
  if (!at('unassigned') && !at('retired')) events.push({ type: 'transition.readinessRequested', transitionId: 'x', transitionStream: 'transition-s.0' });
  if (at('idle') || at('responded') || at('failed')) events.push({ type: 'agent.retired', transitionId: 'x', successor: 'agent-s.express.1', reason: 'test' });
  if (at('idle') || at('responded') || at('failed')) events.push({ type: 'task.assigned', turn: c.history.length, query: 'q', region: 'KE', purpose: 'climate_adaptation' });
  if (at('preparing')) events.push({ type: 'model.requested', requestId: `r${c.totals.calls}`, model: c.breaker.state === 'open' ? 'fallback' : 'primary', prompt: 'p', estimatedInputTokens: 40, attempt: c.attempt });
  if (at('awaitingModel') && c.pending) {
    const requestId = c.pending.requestId;
    events.push({ type: 'model.responded', requestId, text: 'a', usage, latencyMs: 5, model: c.pending.model, provider: 'p', region: 'KE', usageSource: 'tiktoken' });
    events.push({ type: 'model.failed', requestId, reason: 'server: 503', retryable: true, kind: 'server' });
    events.push({ type: 'model.failed', requestId, reason: 'auth: no key', retryable: false, kind: 'auth' });
    // No text, though the provider billed the call (a reasoning model that spent its output limit).
    events.push({ type: 'model.failed', requestId, reason: 'malformed: no text', retryable: false, kind: 'malformed', model: c.pending.model, billed: { usage: { inputTokens: 40, outputTokens: 512 }, latencyMs: 9, model: c.pending.model, provider: 'p', region: 'KE' } });
    // Refused: by the ledger before the call was sent (no model named), and by the provider itself (an HTTP 4xx).
    events.push({ type: 'model.failed', requestId, reason: 'refused: budget: the call needs 900 tokens', retryable: false, kind: 'refused' });
    events.push({ type: 'model.failed', requestId, reason: 'refused: HTTP 400', retryable: false, kind: 'refused', model: c.pending.model });
    // Rate limited: once with a pause the agent waits out, once with one longer than a call may take.
    events.push({ type: 'model.failed', requestId, reason: 'rate-limit: 429', retryable: true, kind: 'rate-limit', retryAfterMs: 500 });
    events.push({ type: 'model.failed', requestId, reason: 'rate-limit: 429', retryable: true, kind: 'rate-limit', retryAfterMs: 60_000 });
    if (c.timers[MODEL_TIMEOUT] === undefined) events.push({ type: 'timer.started', timerId: `t${c.totals.calls}`, key: MODEL_TIMEOUT, delayMs: 1000, dueAt: '2026-01-01T00:00:01Z' });
    else {
      events.push({ type: 'timer.fired', timerId: c.timers[MODEL_TIMEOUT], key: MODEL_TIMEOUT });
      if (missed) events.push({ type: 'timer.fired', timerId: c.timers[MODEL_TIMEOUT], key: MODEL_TIMEOUT, missed: true });
    }
  }
  if (at('backingOff')) {
    if (c.timers[RETRY_BACKOFF] === undefined) events.push({ type: 'timer.started', timerId: `b${c.totals.calls}`, key: RETRY_BACKOFF, delayMs: 500, dueAt: '2026-01-01T00:00:00.5Z' });
    else events.push({ type: 'timer.fired', timerId: c.timers[RETRY_BACKOFF], key: RETRY_BACKOFF });
  }
  if (c.breaker.state === 'open' && c.timers[BREAKER_COOLDOWN] === undefined) events.push({ type: 'timer.started', timerId: `c${c.breaker.trips}`, key: BREAKER_COOLDOWN, delayMs: 5000, dueAt: '2026-01-01T00:00:05Z' });
  if (c.timers[BREAKER_COOLDOWN] !== undefined) events.push({ type: 'timer.fired', timerId: c.timers[BREAKER_COOLDOWN], key: BREAKER_COOLDOWN });
  return events;
}

/** States that differ only in unbounded counters are the same state for path coverage. */
export function agentKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as AgentContext;
  return JSON.stringify([snapshot.value, c.breaker.state, Math.min(c.breaker.consecutiveFailures, c.breaker.threshold), c.attempt, c.pending?.model ?? null, Object.keys(c.timers).sort(), c.history.length > 0, c.transfer !== null]);
}
