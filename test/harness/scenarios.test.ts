import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { createHarness, type ModelCall } from '../../src/harness/index.ts';
import { KHULNA_FOLLOW_UPS } from '../../src/cli/khulnaConversation.ts';

// Chronicle's own scenarios (test/runtime/circuitBreaker.test.ts, handOffs.test.ts, sessionFlow.test.ts), told on
// the harness: the same runtime and machines, with the test deciding only time, ids and what the models answer.

const QUESTIONS = KHULNA_FOLLOW_UPS.slice(0, 8);

describe('Chronicle scenarios on the harness', () => {
  it('a circuit breaker opens onto the fallback, half-opens after its cool-down and closes on a good probe', async () => {
    // The primary provider is down for its first three calls, then healthy; the fallback always answers.
    let primaryCalls = 0;
    const express = (call: ModelCall) => (call.model === 'fallback'
      ? 'fallback answer'
      : ++primaryCalls <= 3 ? { fail: 'server' as const, reason: 'HTTP 503 from the provider' } : 'primary answer');
    const harness = createHarness({ seed: 'breaker', latencyMs: 20, script: { express } });
    await harness.startSession('b1', { model: 'primary', fallbackModel: 'fallback', breakerThreshold: 2, breakerCooldownMs: 10_000, maxAttempts: 3 });

    await harness.ask('b1', { text: 'Cyclone shelters?', region: 'BD', purpose: 'disaster_response' }); // primary fails twice → open → fallback
    await harness.advance(10_000); // cool-down → half-open
    await harness.ask('b1', { text: 'Evacuation routes?', region: 'BD', purpose: 'disaster_response' }); // the probe fails → open again → fallback
    await harness.advance(10_000);
    await harness.ask('b1', { text: 'Early warning?', region: 'BD', purpose: 'disaster_response' }); // the probe succeeds → closed

    const agent = 'agent-b1.express.0';
    expect((await harness.events({ stream: agent, type: 'model.requested' })).map((e) => (e.data as { model: string }).model))
      .toEqual(['primary', 'primary', 'fallback', 'primary', 'fallback', 'primary']);
    const [opened, reopened] = await harness.expectEvents([
      { type: 'timer.started', data: { key: 'breakerCooldown', delayMs: 10_000 } },
      { type: 'timer.started', data: { key: 'breakerCooldown' } },
    ], { stream: agent });
    const [halfOpened] = await harness.expectEvents([{ type: 'timer.fired', data: { key: 'breakerCooldown' } }], { stream: agent });

    // The breaker's state at each point, read back from the log as of that event.
    const breakerAt = async (event: { position: bigint }) => {
      const at = await harness.projectionAt('b1', event);
      return (at.actors.find((a) => a.streamId === agent)!.context as AgentContext).breaker.state;
    };
    expect(await breakerAt(opened!)).toBe('open');
    expect(await breakerAt(halfOpened!)).toBe('halfOpen');
    expect(await breakerAt(reopened!)).toBe('open');
    expect(((await harness.snapshot(agent)).context as AgentContext).breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 2 });

    const answers = (await harness.events({ stream: 'session-b1', type: 'agent.answered' })).map((e) => (e.data as { text: string }).text);
    expect(answers).toEqual(['fallback answer', 'fallback answer', 'primary answer']);
    expect(((await harness.snapshot('session-b1')).context as SessionContext)).toMatchObject({ turn: 3, answered: 3, failed: 0 });
    expect(ledgerViolations(await harness.ledger('b1'))).toEqual([]);
    await harness.replayMatchesLive();
  });

  it('in a small context window the agent is handed over to a fresh instance, which answers from the transferred state', async () => {
    const harness = createHarness({ seed: 'handoff', latencyMs: 20, contextWindow: 1_800 });
    await harness.startSession('long');
    for (const text of QUESTIONS) await harness.ask('long', { text, region: 'BD' });

    const [crossed, completed] = await harness.expectEvents([
      { type: 'context.thresholdCrossed', data: { agentStream: 'agent-long.express.0', level: 'checkpoint' } },
      { type: 'transition.completed', data: { protocol: 'graceful', participants: [{ role: 'express', fromAgent: 'agent-long.express.0', toAgent: 'agent-long.express.1', instance: 1 }] } },
      { type: 'task.assigned', stream: 'agent-long.express.1' },
    ], { session: 'long' });
    expect((crossed!.data as EventData<'context.thresholdCrossed'>).percent).toBeGreaterThanOrEqual(85);
    // The old instance is retired, and every later task went to its successor.
    await harness.expectEvents([{ type: 'agent.retired', data: { successor: 'agent-long.express.1' } }], { stream: 'agent-long.express.0' });
    expect(await harness.events({ stream: 'agent-long.express.0', type: 'task.assigned', after: completed!.position })).toEqual([]);

    // What the fresh instance was handed is in the first prompt it sent, and it checked so itself.
    const [assigned] = await harness.events({ stream: 'agent-long.express.1', type: 'agent.assigned' });
    const transfer = (assigned!.data as EventData<'agent.assigned'>).transfer!;
    expect(transfer.summary).toContain('Essential context:');
    const [requested] = await harness.events({ stream: 'agent-long.express.1', type: 'model.requested' });
    expect((requested!.data as EventData<'model.requested'>).prompt).toContain(transfer.summary);
    await harness.expectEvents([{ type: 'transition.validated', data: { ok: true, role: 'express', sessionId: 'long' } }], { stream: transfer.transitionStream });

    // A checkpoint marks the hand-off; the session answered every question; replay agrees with the live run.
    expect((await harness.events({ stream: 'checkpoint-long' })).map((e) => (e.data as { reason: string }).reason)).toContain('handoff');
    expect(((await harness.snapshot('session-long')).context as SessionContext).answered).toBe(QUESTIONS.length);
    expect(ledgerViolations(await harness.ledger('long'))).toEqual([]);
    const replayed = await harness.replayMatchesLive();
    expect(replayed.streams).toBeGreaterThanOrEqual(4);
  });

  it('a declared flood makes an adaptation request an emergency council of the roles a flood calls for; lifted, it is not', async () => {
    const harness = createHarness({
      seed: 'flood', latencyMs: 50,
      script: {
        hydrologist: ['Rivers crest in 36 hours.'], logistics: ['Boats to Barisal first.'], public_health: ['Chlorine tablets for 40 000 households.'],
        synthesiser: ['Evacuate the char islands tonight; boats and chlorine follow.'],
      },
    });
    const flood = await harness.declareEmergency('BD', 'flood');
    await harness.startSession('f1');
    const request = { text: 'Design a flood early-warning system for coastal Bangladesh and list the first three steps for Barisal.', region: 'BD', purpose: 'climate_adaptation' };
    expect(await harness.ask('f1', request)).toMatchObject({ mode: 'emergency', status: 'answered', text: 'Evacuate the char islands tonight; boats and chlorine follow.' });
    const [decided] = await harness.expectEvents([{ type: 'triage.decided', data: { decision: { mode: 'emergency', roles: ['hydrologist', 'logistics', 'public_health'], emergency: { emergencyId: flood, kind: 'flood' } } } }], { stream: 'session-f1' });
    expect(decided).toBeDefined();

    await harness.liftEmergency(flood);
    expect((await harness.ask('f1', { ...request, text: 'And how is it maintained?' })).mode).not.toBe('emergency');
    await harness.replayMatchesLive();
  });
});
