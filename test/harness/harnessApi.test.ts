import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { SessionClosedError } from '../../src/runtime/sessionService.ts';
import { createHarness, EventExpectationError, expectEvents, HarnessStalledError, UnscriptedCallError } from '../../src/harness/index.ts';

const COASTS = 'Which mangroves protect coasts best?';
const GROWTH = 'How fast do they grow?';

describe('the harness drives the real runtime with scripted models', () => {
  it('scripts replies and failures per role and turn: a failure on turn 1 shows the retries and the breaker opening in the log', async () => {
    const harness = createHarness({
      seed: 'api-express',
      script: { express: { 0: 'Use mangroves.', 1: [{ fail: 'server' }, { fail: 'rate-limit' }, 'Plant them densely.'] } },
      session: { fallbackModel: 'fallback', breakerThreshold: 2, maxAttempts: 3 },
    });
    await harness.startSession('s1');
    expect(await harness.ask('s1', COASTS)).toMatchObject({ turn: 0, mode: 'express', status: 'answered', text: 'Use mangroves.' });
    expect(await harness.ask('s1', GROWTH)).toMatchObject({ turn: 1, status: 'answered', text: 'Plant them densely.' });

    await harness.expectEvents([
      { type: 'task.assigned', data: { turn: 1 } },
      { type: 'model.requested', data: { model: 'scripted', attempt: 1 } },
      { type: 'model.failed', data: { kind: 'server', retryable: true } },
      { type: 'model.requested', data: { model: 'scripted', attempt: 2 } },
      { type: 'model.failed', data: { kind: 'rate-limit' } },
      { type: 'timer.started', data: { key: 'breakerCooldown' } },
      { type: 'model.requested', data: { model: 'fallback', attempt: 3 } },
      { type: 'model.responded', data: { text: 'Plant them densely.' } },
      { type: 'message.sent', data: { messageType: 'agent.answered', data: { turn: 1, attempts: 3 } } },
    ], { stream: 'agent-s1.express.0' });
    expect(harness.calls.map((c) => `${c.role} t${c.turn} a${c.attempt} ${c.model}: ${c.step}`)).toEqual([
      'express t0 a1 scripted: reply "Use mangroves."',
      'express t1 a1 scripted: fail (server)',
      'express t1 a2 scripted: fail (rate-limit)',
      'express t1 a3 fallback: reply "Plant them densely."',
    ]);
    expect(((await harness.snapshot('agent-s1.express.0')).context as AgentContext).breaker).toMatchObject({ state: 'open', trips: 1 });
    // The failed attempts reserved tokens and released them; the ledger keeps its laws throughout.
    const ledger = await harness.ledger('s1');
    expect(ledger.usage.total.calls).toBe(2);
    expect(await harness.replayMatchesLive()).toMatchObject({ streams: 2 });
  });

  it('a council turn takes each role\'s script, and the synthesiser is given every answer and every failure', async () => {
    const harness = createHarness({
      seed: 'api-council', councilThreshold: 0.01, unscripted: 'fail',
      script: {
        analyst: { 0: 'Raise embankments by 1.2 m.' },
        critic: { 0: { fail: 'auth', reason: 'no key for the critic\'s provider' } },
        domain_expert: { 0: 'Mangrove belts cut wave energy by two thirds.' },
        synthesiser: { 0: { text: 'Embankments behind a mangrove belt.', usage: { inputTokens: 400, outputTokens: 30 } } },
      },
    });
    await harness.startSession('c1');
    const outcome = await harness.ask('c1', 'How should coastal towns prepare for rising seas?');
    expect(outcome).toMatchObject({ mode: 'council', status: 'answered', text: 'Embankments behind a mangrove belt.', agentStream: 'agent-c1.synthesiser.0' });
    const [requested] = await harness.events({ stream: 'agent-c1.synthesiser.0', type: 'model.requested' });
    const prompt = (requested!.data as EventData<'model.requested'>).prompt;
    expect(prompt).toContain('From the analyst:\nRaise embankments by 1.2 m.');
    expect(prompt).toContain('The critic could not answer:\nauth: no key for the critic\'s provider');
    expect(prompt).toContain('From the domain_expert:\nMangrove belts cut wave energy by two thirds.');
    // The synthesiser's usage is the provider's, as scripted; the others' is counted with tiktoken.
    await harness.expectEvents([{ type: 'model.responded', data: { usage: { inputTokens: 400, outputTokens: 30 }, usageSource: 'provider' } }], { stream: 'agent-c1.synthesiser.0' });
    expect(new Set(harness.calls.map((c) => c.role))).toEqual(new Set(['analyst', 'critic', 'domain_expert', 'synthesiser']));
    await harness.replayMatchesLive();
  });

  it('a `triage` script delegates triage to a model whose JSON answer routes the turn', async () => {
    const harness = createHarness({
      seed: 'api-triage', unscripted: 'fail',
      script: {
        triage: ['{"mode": "council", "roles": ["analyst", "economist"], "confidence": 0.9, "rationale": "Costs decide it."}'],
        analyst: ['Three options.'], economist: ['The second pays back in four years.'], synthesiser: ['Take the second option.'],
      },
    });
    await harness.startSession('t1');
    expect(await harness.ask('t1', 'Which sea wall should we build?')).toMatchObject({ mode: 'council', text: 'Take the second option.' });
    const [decided] = await harness.events({ stream: 'session-t1', type: 'triage.decided' });
    expect((decided!.data as EventData<'triage.decided'>).decidedBy).toMatchObject({ by: 'model', model: 'triage' });
    expect(harness.calls[0]).toMatchObject({ role: 'triage', turn: 0, streamId: 'session-t1' });
  });

  it('advancing the clock fires a model timeout: the call is cancelled, retried, and the turn answered', async () => {
    const harness = createHarness({ seed: 'api-timeout', script: { express: [{ hang: true }, 'In time.'] }, session: { modelTimeoutMs: 2_000 } });
    await harness.startSession('t1');
    const answer = harness.submit('t1', COASTS);
    const waiting = await harness.waitFor('agent-t1.express.0', 'awaitingModel');
    expect((waiting.context as AgentContext).attempt).toBe(1);
    await harness.advance(1_999);
    expect(await harness.events({ stream: 'agent-t1.express.0', type: 'timer.fired' })).toEqual([]);
    await harness.advance(1);
    await harness.expectEvents([
      { type: 'timer.started', data: { key: 'modelTimeout', delayMs: 2_000 } },
      { type: 'timer.fired', data: { key: 'modelTimeout' } },
      'model.cancelled',
      // The retry waits its backoff (half to all of the default 500 ms), on a recorded timer the harness's clock fires.
      { type: 'timer.started', data: { key: 'retryBackoff' } },
    ], { stream: 'agent-t1.express.0' });
    expect(await harness.drive(answer)).toMatchObject({ status: 'answered', text: 'In time.' });
    await harness.expectEvents([{ type: 'timer.fired', data: { key: 'retryBackoff' } }, { type: 'model.requested', data: { attempt: 2 } }], { stream: 'agent-t1.express.0' });
    await harness.idle();
    // The abandoned call was aborted at the provider; its outcome, a timeout, is recorded once, and changes nothing.
    await harness.expectEvents([{ type: 'model.failed', data: { kind: 'timeout' } }], { stream: 'agent-t1.express.0' });
    await harness.replayMatchesLive();
  });

  it('waitFor takes a state value, a nested value or a predicate, and reports a wait that can never end', async () => {
    const harness = createHarness({ seed: 'api-wait', latencyMs: 500, script: { express: ['Use mangroves.'] } });
    await harness.startSession('w1');
    const answer = harness.submit('w1', COASTS);
    await harness.waitFor('session-w1', { turn: 'express' });
    const responded = await harness.waitFor('agent-w1.express.0', (s) => (s.context as AgentContext).history.length === 1);
    expect(responded.value).toBe('responded');
    expect(harness.clock.now() - Date.parse('2026-01-01T00:00:00.000Z')).toBe(500);
    await harness.drive(answer);
    const stalled = harness.waitFor('session-w1', 'closed');
    await expect(stalled).rejects.toThrow(HarnessStalledError);
    await expect(stalled).rejects.toThrow(/waitFor\(session-w1, "closed"\) stalled: no timer or model reply is pending[\s\S]*session-w1: "ready"/);
  });

  it('send delivers any fact to any actor: a closed session refuses further questions', async () => {
    const harness = createHarness({ seed: 'api-send' });
    await harness.startSession('s1');
    await harness.send('session-s1', { type: 'session.closed', data: { reason: 'the user is done' } });
    expect((await harness.snapshot('session-s1')).value).toBe('closed');
    await expect(harness.ask('s1', COASTS)).rejects.toThrow(SessionClosedError);
  });

  it('projectionAt a midpoint equals the ledger and actors as they were live at that point, later checkpoints notwithstanding', async () => {
    const harness = createHarness({ seed: 'api-midpoint', checkpointEveryTokens: 150 });
    await harness.startSession('m1');
    await harness.ask('m1', COASTS);
    await harness.ask('m1', GROWTH);
    const midpoint = (await harness.position())!;
    const ledgerThen = await harness.ledger('m1');
    const sessionThen = harness.live.of('session-m1').at(-1)!.state;
    await harness.ask('m1', 'Which species tolerate the most salt?');
    await harness.ask('m1', 'Who should plant them?');

    const then = await harness.projectionAt('m1', midpoint);
    // The newest event then may be a checkpoint's, which is not the session's own: the fold stops at or before it.
    expect(then.position! <= midpoint).toBe(true);
    expect(then.ledger).toEqual(ledgerThen);
    expect(then.actors.find((a) => a.streamId === 'session-m1')).toMatchObject({ value: sessionThen.value, context: sessionThen.context });
    expect((then.actors.find((a) => a.streamId === 'session-m1')!.context as SessionContext).turn).toBe(2);
    expect(then.climate.totals.all.calls).toBe(2);
    // The answer starts from a checkpoint at or before the midpoint; those taken after it do not leak into it.
    const checkpoints = await harness.events({ category: 'checkpoint' });
    expect(checkpoints.some((e) => e.position <= midpoint)).toBe(true);
    expect(checkpoints.some((e) => e.position > midpoint)).toBe(true);
    const now = await harness.projectionAt('m1');
    expect(now.ledger).toEqual(await harness.ledger('m1'));
    expect(now.sessionState).toBeDefined();
  });

  it('expectEvents says which expectation failed, what matched before it, and why the nearest candidates differ', async () => {
    const harness = createHarness({ seed: 'api-expect', script: { express: ['Use mangroves.'] } });
    await harness.startSession('e1');
    await harness.ask('e1', COASTS);
    const events = await harness.events({ session: 'e1' });
    const failure = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(EventExpectationError);
        return (error as Error).message;
      }
      throw new Error('expected expectEvents to fail');
    };
    const wrongData = failure(() => expectEvents(events, ['session.started', 'query.received', { type: 'model.responded', data: { text: 'Use seawalls.' } }]));
    expect(wrongData).toContain('expectation 3 of 3 was not met');
    expect(wrongData).toContain('expected: model.responded {"text":"Use seawalls."}');
    expect(wrongData).toMatch(/matched so far:\n {4}1\. session\.started \(session-e1@0, position \d+\)\n {4}2\. query\.received/);
    expect(wrongData).toContain('data.text: expected "Use seawalls.", got "Use mangroves."');

    const wrongOrder = failure(() => expectEvents(events, ['turn.completed', 'query.received']));
    expect(wrongOrder).toMatch(/a matching query\.received occurs earlier, at query\.received \(session-e1@1, position \d+\), before the previous expectation matched: check the order/);

    const absent = failure(() => expectEvents(events, [{ type: 'transition.completed', stream: /^session-/ }]));
    expect(absent).toContain('no transition.completed event after that point (none at all)');

    const notExact = failure(() => expectEvents(events.filter((e) => e.streamId === 'session-e1'), ['session.started', 'query.received'], { exact: true }));
    expect(notExact).toMatch(/all 2 expectations were met, but \d+ more event\(s\) follow:\n {4}session-e1@2 triage\.decided/);
  });

  it('unscripted calls are answered by the deterministic model, or fail the ask loudly when asked to', async () => {
    const lenient = createHarness({ seed: 'api-unscripted' });
    await lenient.startSession('u1');
    const generated = await lenient.ask('u1', COASTS);
    expect(generated.text.length).toBeGreaterThan(20);
    expect(lenient.unscriptedCalls).toHaveLength(1);

    const strict = createHarness({ seed: 'api-unscripted', unscripted: 'fail', script: { express: { 0: 'Use mangroves.' } } });
    await strict.startSession('u1');
    await strict.ask('u1', COASTS);
    await expect(strict.ask('u1', GROWTH)).rejects.toThrow(UnscriptedCallError);
    await expect(strict.ask('u1', GROWTH)).rejects.toThrow(/made 1 call\(s\) the script does not cover:\n {2}express, turn 2, attempt 1 \(model scripted, agent-u1\.express\.0\)/);
  });

  it('two harnesses with the same seed and script record the same log, event for event', async () => {
    const run = async () => {
      const harness = createHarness({ seed: 'api-same', script: { express: { 1: [{ fail: 'timeout' }, 'Second try.'] } } });
      await harness.startSession('d1');
      await harness.ask('d1', COASTS);
      await harness.ask('d1', GROWTH);
      return (await harness.events()).map(({ eventId, type, data, streamId, metadata }) => ({ eventId, type, data, streamId, recordedAt: metadata.recordedAt, hash: metadata.hash }));
    };
    const [first, second] = [await run(), await run()];
    expect(first.length).toBeGreaterThan(30);
    expect(second).toEqual(first);
  });

  it('refuses options it cannot honour before anything runs', () => {
    expect(() => createHarness({ councilThreshold: 0 })).toThrow(/councilThreshold/);
    expect(() => createHarness({ script: { express: [{ fail: 'teapot' }] } as never })).toThrow(/script/);
    expect(() => createHarness({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => createHarness({ startAt: 'not a date' })).toThrow(/startAt.*a date the clock can start at/s);
    expect(() => createHarness({ startAt: -1e20 })).toThrow(/startAt/);
    // Not rolled over into December, as Date.parse would.
    expect(() => createHarness({ startAt: '2026-11-31T09:00:00Z' })).toThrow(/startAt.*2026-11-31 is not a date \(2026-11 has 30 days\): give a day the month has/s);
  });

  it('names a session that was never started, rather than answering with an empty ledger or state', async () => {
    const harness = createHarness({ seed: 'api-unknown', script: { express: ['Use mangroves.'] } });
    await harness.startSession('known');
    await expect(harness.ledger('typo')).rejects.toThrow(/No session "typo"/);
    await expect(harness.projectionAt('typo')).rejects.toThrow(/No session "typo"/);
    // A session started, with no turn yet, has a ledger: its budget.
    expect((await harness.ledger('known')).balances.session).toBeGreaterThan(0);
    await harness.close();
  });
});
