import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { ModelCallError } from '../../src/models/modelCallError.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { forkSession } from '../../src/runtime/forkSession.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { replayStream } from '../../src/runtime/replay.ts';
import { resumeUnfinishedSessions, type InFlightSession, type ResumeOptions, type WaitingSession } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { auditSessionLog } from '../../src/audit/auditSession.ts';
import { storeLogReader } from '../../src/audit/storeLogReader.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';

/**
 * One session asked one query on a runtime that then stops (a process ending, or killed), with the store left as it
 * was. `firstModels` serve that runtime alone: a call of theirs still under way when it stops must never answer, as
 * a killed process's would not.
 */
async function stoppedAfter(clock: SimulatedClock, firstModels: (spec: string) => LanguageModel, config: Parameters<typeof agentConfigFor>[0], until: (session: SessionContext) => boolean, budgetTokens?: number) {
  const store = new MemoryEventStore();
  const runtime = new ActorRuntime({ store, clock, ids: seededIds('first'), models: firstModels });
  await startSession(runtime, 's1', agentConfigFor(config, firstModels), budgetTokens);
  await runtime.deliver('session-s1', { type: 'query.received', data: { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
  while (!until((await runtime.snapshotOf('session-s1')).context as SessionContext)) await clock.advance(50);
  runtime.stop();
  return store;
}

/** The model of a process about to be killed: it never answers. */
const neverAnswers = (spec: string) => () => createScriptedModel({ spec, latencyMs: 1_000, wait: () => new Promise<void>(() => {}) });

/**
 * A session stopped with its model call made and no answer: from the log alone, the process could be alive and
 * waiting. `models` serve the processes started afterwards: a slow model that counts its calls.
 */
async function stoppedMidCall() {
  const clock = new SimulatedClock();
  const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
  let calls = 0;
  const slow = createScriptedModel({ spec: 'slow', latencyMs: 2_000, wait, replies: () => `answer ${++calls}` });
  const store = await stoppedAfter(clock, neverAnswers('slow'), { model: 'slow', modelTimeoutMs: 10_000 }, () => clock.now() > Date.parse('2026-01-01T00:00:00.500Z'));
  return { clock, store, models: () => slow, calls: () => calls };
}

/**
 * Another process starting beside the stopped one, leaving sessions that may be in flight there: it resumes nothing,
 * runs for `ms`, and stops. What it left, and why.
 */
async function leftByAnother(store: MemoryEventStore, clock: SimulatedClock, models: (spec: string) => LanguageModel, ms: number): Promise<InFlightSession[]> {
  const other = new ActorRuntime({ store, clock, ids: seededIds('other'), models });
  const left: InFlightSession[] = [];
  expect(await resumeUnfinishedSessions(other, { leaveInFlight: (s) => left.push(s) })).toEqual([]);
  await clock.advance(ms);
  await other.settled();
  other.stop();
  return left;
}

/**
 * A process started after the stop: resumes what it finds (the sessions it took up, returned), runs session s1 until
 * its turn is answered or failed, and stops.
 */
async function resumedToAnswer(store: MemoryEventStore, clock: SimulatedClock, models: (spec: string) => LanguageModel, seed: string, options?: ResumeOptions): Promise<string[]> {
  const runtime = new ActorRuntime({ store, clock, ids: seededIds(seed), models });
  const resumed = await resumeUnfinishedSessions(runtime, options);
  while (((await runtime.snapshotOf('session-s1')).context as SessionContext).turn < 1) await clock.advance(50);
  await runtime.settled();
  runtime.stop();
  return resumed;
}

const timerStarted = async (store: MemoryEventStore, key: string) =>
  (await collect(store.readStream('agent-s1.express.0'))).find((e) => e.type === 'timer.started' && (e.data as { key: string }).key === key)!.data as { timerId: string; dueAt: string };

describe('resuming what a stopped process left', () => {
  it('fires a breaker cool-down that came due while nothing ran, and reports one still to come instead of claiming work', async () => {
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    const down = createScriptedModel({ spec: 'primary', latencyMs: 20, wait, replies: () => new ModelCallError('server', 'HTTP 503 from the provider', { statusCode: 503 }) });
    const models = () => down;
    // The turn fails and the breaker opens: its cool-down is the only work the stopped process leaves.
    const store = await stoppedAfter(clock, models, { model: 'primary', breakerThreshold: 2, maxAttempts: 2, breakerCooldownMs: 60_000 }, (s) => s.turn >= 1);
    const cooldown = await timerStarted(store, 'breakerCooldown');

    // Restarted before the cool-down is due: nothing to run now, and the caller learns when there will be.
    await clock.advance(30_000);
    const early = new ActorRuntime({ store, clock, ids: seededIds('early'), models });
    const waiting: WaitingSession[] = [];
    expect(await resumeUnfinishedSessions(early, { onWaiting: (w) => waiting.push(w) })).toEqual([]);
    expect(waiting).toEqual([{ sessionId: 's1', key: 'breakerCooldown', dueAt: Date.parse(cooldown.dueAt) }]);
    await early.settled();
    early.stop();

    // Restarted after it: the timer fires at once, and `settled`, all a short command waits for, covers it.
    await clock.advance(60_000);
    const late = new ActorRuntime({ store, clock, ids: seededIds('late'), models });
    expect(await resumeUnfinishedSessions(late, { onWaiting: () => expect.unreachable('the cool-down is overdue: work now') })).toEqual(['s1']);
    await late.settled();
    late.stop();
    const agent = await collect(store.readStream('agent-s1.express.0'));
    // The backoff between the two attempts fired while the first process ran; the cool-down, on resuming.
    expect(agent.filter((e) => e.type === 'timer.fired').map((e) => e.data)).toEqual([{ key: 'retryBackoff', timerId: expect.any(String) }, { key: 'breakerCooldown', timerId: cooldown.timerId }]);
    expect((replayStream('agent-s1.express.0', agent).context as AgentContext).breaker.state).toBe('halfOpen');
    const again = new ActorRuntime({ store, clock, ids: seededIds('again'), models });
    expect(await resumeUnfinishedSessions(again, { onWaiting: () => expect.unreachable('nothing is left') })).toEqual([]);
    again.stop();
  });

  it('leaves a model call still within its timeout to the process that may be awaiting it, when asked to; takes it over when not', async () => {
    const { clock, store, models, calls } = await stoppedMidCall();
    const timeout = await timerStarted(store, 'modelTimeout');
    const requests = async () => (await collect(store.readStream('agent-s1.express.0'))).filter((e) => e.type === 'model.requested').length;
    expect(await requests()).toBe(1);

    expect(await leftByAnother(store, clock, models, 5_000)).toEqual([{ sessionId: 's1', timeoutAt: Date.parse(timeout.dueAt), awaiting: 'call' }]);
    expect(calls(), 'a process that leaves the session calls nothing for it').toBe(0);

    // Without `leaveInFlight` (the `resume` command) the call is re-issued at once, under the same request id.
    expect(await resumedToAnswer(store, clock, models, 'take')).toEqual(['s1']);
    expect(calls()).toBe(1);
    expect(await requests()).toBe(1);
    const session = (await collect(store.readStream('session-s1'))).filter((e) => e.type === 'agent.answered').map((e) => (e.data as { text: string }).text);
    expect(session).toEqual(['answer 1']);
  });

  it('leaves a turn waiting out a retry backoff to the process that may be waiting, until the retry is due', async () => {
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    let calls = 0;
    const flaky = createScriptedModel({ spec: 'flaky', latencyMs: 20, wait, replies: () => (++calls === 1 ? new ModelCallError('server', 'HTTP 503 from the provider', { statusCode: 503 }) : `answer ${calls}`) });
    const models = () => flaky;
    // Stopped once the first call failed and its 4-8 s backoff began: the process may still be alive, waiting it out.
    const store = await stoppedAfter(clock, models, { model: 'flaky', retryBackoffMs: 8_000, maxAttempts: 3 }, () => calls === 1 && clock.now() > Date.parse('2026-01-01T00:00:01.000Z'));
    const backoff = await timerStarted(store, 'retryBackoff');
    expect(calls).toBe(1);

    expect(await leftByAnother(store, clock, models, 10_000)).toEqual([{ sessionId: 's1', timeoutAt: Date.parse(backoff.dueAt), awaiting: 'retry' }]);
    expect(calls, 'a process that leaves the session calls nothing for it').toBe(1);

    // Once the retry is overdue no live process is waiting it out: any command takes the turn up, and calls once.
    expect(await resumedToAnswer(store, clock, models, 'later', { leaveInFlight: () => expect.unreachable('the retry is overdue') })).toEqual(['s1']);
    expect(calls).toBe(2);
    // Only a model timeout is ever recorded as missed: a backoff fired late is an ordinary firing, so a fork (which
    // draws the backoff again from its renamed request, and with it the due time) audits clean.
    expect((await collect(store.readStream('agent-s1.express.0'))).filter((e) => e.type === 'timer.fired').map((e) => e.data)).toEqual([{ timerId: backoff.timerId, key: 'retryBackoff' }]);
    for (const as of ['f1', 'f2', 'f3']) {
      const [last] = await collect(store.readAll({ direction: 'backwards', maxCount: 1 }));
      await forkSession(store, { sessionId: 's1', at: { position: last!.position }, as });
      expect((await auditSessionLog(await storeLogReader(store).read(as))).problems, as).toEqual([]);
    }
  });

  it('runs nothing of a session another process claimed first, and reports who holds it; claims before it runs one', async () => {
    const { clock, store, models, calls } = await stoppedMidCall();
    const taken = new ActorRuntime({ store, clock, ids: seededIds('taken'), models });
    const held: [string, string][] = [];
    expect(await resumeUnfinishedSessions(taken, { claim: async () => 'worker-b', onHeld: (sessionId, by) => held.push([sessionId, by]) })).toEqual([]);
    expect(held).toEqual([['s1', 'worker-b']]);
    await clock.advance(5_000);
    await taken.settled();
    expect(calls(), 'a session someone else holds is not run here').toBe(0);
    taken.stop();

    const claimed: string[] = [];
    const claim = async (sessionId: string) => {
      // Claimed before anything of the session runs: its call not re-issued yet.
      expect(calls()).toBe(0);
      claimed.push(sessionId);
      return null;
    };
    expect(await resumedToAnswer(store, clock, models, 'mine', { claim })).toEqual(['s1']);
    expect(claimed).toEqual(['s1']);
    expect(calls()).toBe(1);
  });

  it('takes over a call whose timeout passed while nothing ran, even when leaving calls in flight: no process still awaits it', async () => {
    const { clock, store, models, calls } = await stoppedMidCall();
    await clock.advance(20_000);
    expect(await resumedToAnswer(store, clock, models, 'later', { leaveInFlight: () => expect.unreachable('the call timed out: no one awaits it') })).toEqual(['s1']);
    const outcomes = (await collect(store.readStream('agent-s1.express.0'))).filter((e) => e.type === 'model.responded' || e.type === 'model.failed').map((e) => e.type === 'model.failed' ? `failed: ${(e.data as { kind: string }).kind}` : 'responded');
    expect(outcomes).toEqual(['failed: timeout', 'responded']);
    // The timed-out request is given up without calling the provider for it again: one call, the retry's.
    expect(calls()).toBe(1);
    const [first, retry] = (await collect(store.readStream('agent-s1.express.0'))).filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
    const ledger = await collect(store.readStream('ledger-s1'));
    expect(ledger.filter((e) => e.type === 'tokens.settled').map((e) => (e.data as { requestId: string }).requestId)).toEqual([retry]);
    expect(ledger.filter((e) => e.type === 'tokens.released').map((e) => (e.data as { requestId: string }).requestId)).toEqual([first]);
  });

  it('answers a turn whose process was killed during its last attempt, resumed after the timeout: the crash is not held against the provider', async () => {
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    let calls = 0;
    const slow = createScriptedModel({ spec: 'slow', latencyMs: 2_000, wait, replies: () => `answer ${++calls}` });
    // One attempt, and a breaker that opens on the first failure, with no fallback: before revision 12 a timeout that
    // passed while no process ran was that failure, and the turn failed on resume without another call.
    const config = { model: 'slow', modelTimeoutMs: 10_000, maxAttempts: 1, breakerThreshold: 1 };
    const store = await stoppedAfter(clock, neverAnswers('slow'), config, () => clock.now() > Date.parse('2026-01-01T00:00:00.500Z'));
    await clock.advance(60_000);
    expect(await resumedToAnswer(store, clock, () => slow, 'later')).toEqual(['s1']);

    const session = await collect(store.readStream('session-s1'));
    expect(session.filter((e) => e.type === 'agent.answered' || e.type === 'agent.failed').map((e) => e.type)).toEqual(['agent.answered']);
    const agentEvents = await collect(store.readStream('agent-s1.express.0'));
    const fired = agentEvents.filter((e) => e.type === 'timer.fired').map((e) => e.data);
    expect(fired).toEqual([{ timerId: expect.any(String), key: 'modelTimeout', missed: true }]);
    const requests = agentEvents.filter((e) => e.type === 'model.requested').map((e) => e.data as { requestId: string; attempt: number });
    // The abandoned call is made again as the same attempt, under a new request id; the old one is given up unsent.
    expect(requests.map((r) => r.attempt)).toEqual([1, 1]);
    expect(calls).toBe(1);
    const agent = replayStream('agent-s1.express.0', agentEvents).context as AgentContext;
    expect(agent.breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 0 });
    expect(agent.timers).toEqual({});
    // Every request has one outcome, and the ledger settles the answered one and releases the abandoned one.
    const outcomes = agentEvents.filter((e) => e.type === 'model.responded' || e.type === 'model.failed').map((e) => (e.data as { requestId: string }).requestId);
    expect(outcomes.sort()).toEqual(requests.map((r) => r.requestId).sort());
    const ledger = await collect(store.readStream('ledger-s1'));
    expect(ledger.filter((e) => e.type === 'tokens.settled').map((e) => (e.data as { requestId: string }).requestId)).toEqual([requests[1]!.requestId]);
    expect(ledger.filter((e) => e.type === 'tokens.released').map((e) => (e.data as { requestId: string }).requestId)).toEqual([requests[0]!.requestId]);
    expect((await auditSessionLog(await storeLogReader(store).read('s1'))).problems).toEqual([]);
    // A fork of it (renamed ids, the missed firing copied with its time) audits clean too.
    const [last] = await collect(store.readAll({ direction: 'backwards', maxCount: 1 }));
    await forkSession(store, { sessionId: 's1', at: { position: last!.position }, as: 'f1' });
    expect((await auditSessionLog(await storeLogReader(store).read('f1'))).problems).toEqual([]);
  });

  it('makes the abandoned call again within a budget that holds one call only: the dead call\'s reservation is released in the same write', async () => {
    const clock = new SimulatedClock();
    const wait = (ms: number, signal?: AbortSignal) => clock.wait(ms, signal);
    const store = await stoppedAfter(clock, neverAnswers('slow'), { model: 'slow', modelTimeoutMs: 10_000, maxAttempts: 1 }, () => clock.now() > Date.parse('2026-01-01T00:00:00.500Z'), 800);
    const [reserved] = (await collect(store.readStream('ledger-s1'))).filter((e) => e.type === 'tokens.reserved').map((e) => e.data as { amount: number });
    expect(reserved!.amount * 2, 'the pool cannot hold the dead call\'s reservation and a new one').toBeGreaterThan(800);

    await clock.advance(20_000);
    const slow = createScriptedModel({ spec: 'slow', latencyMs: 2_000, wait, replies: () => 'answered' });
    expect(await resumedToAnswer(store, clock, () => slow, 'later')).toEqual(['s1']);
    const session = await collect(store.readStream('session-s1'));
    expect(session.filter((e) => e.type === 'agent.answered' || e.type === 'agent.failed').map((e) => e.type)).toEqual(['agent.answered']);
    const ledger = await collect(store.readStream('ledger-s1'));
    expect(ledger.map((e) => e.type)).not.toContain('tokens.refused');
    // The abandoned call's outcome, its release and the new call's reservation are one write.
    const agentLog = await collect(store.readStream('agent-s1.express.0'));
    const [dead, again] = agentLog.filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
    const outcome = agentLog.find((e) => e.type === 'model.failed' && (e.data as { requestId: string }).requestId === dead)!;
    const released = ledger.find((e) => e.type === 'tokens.released' && (e.data as { requestId: string }).requestId === dead)!;
    const reservedAgain = ledger.find((e) => e.type === 'tokens.reserved' && (e.data as { requestId: string }).requestId === again)!;
    expect(new Set([outcome, released, reservedAgain].map((e) => e.metadata.recordedAt)).size).toBe(1);
    expect(released.position).toBeLessThan(reservedAgain.position);
    expect((await auditSessionLog(await storeLogReader(store).read('s1'))).problems).toEqual([]);
  });

  it('the audit refuses a model timeout recorded as missed before it was due: that would excuse the provider falsely', async () => {
    const { clock, store } = await stoppedMidCall();
    const timeout = await timerStarted(store, 'modelTimeout');
    const streamId = 'agent-s1.express.0';
    const [last] = await collect(store.readStream(streamId, { direction: 'backwards', maxCount: 1 }));
    const { hash: _hash, prevHash: _prevHash, ...metadata } = last!.metadata;
    await store.appendToStream(streamId, [{
      eventId: crypto.randomUUID(), type: 'timer.fired', data: { timerId: timeout.timerId, key: 'modelTimeout', missed: true },
      metadata: { ...metadata, causationId: timeout.timerId, recordedAt: new Date(clock.now()).toISOString() },
    }]);
    const { problems } = await auditSessionLog(await storeLogReader(store).read('s1'));
    expect(problems.map((p) => p.kind)).toContain('missed-timer-not-late');
    expect(problems.find((p) => p.kind === 'missed-timer-not-late')!.message).toContain('fired before it was due');
  });
});
