import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { resumeUnfinishedSessions } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

describe('an answer the log cannot hold', () => {
  it('is recorded as a malformed failure, so the fallback answers and no later process calls the provider again', async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    let primaryCalls = 0;
    // A provider whose usage is not token counts: the schema of `model.responded` refuses it.
    const primary = createScriptedModel({ spec: 'odd', latencyMs: 10, wait: (ms, signal) => clock.wait(ms, signal), replies: () => { primaryCalls++; return { text: 'Raise the generators.', usage: { inputTokens: 12.5, outputTokens: -3 } }; } });
    const fallback = createScriptedModel({ spec: 'steady', latencyMs: 10, wait: (ms, signal) => clock.wait(ms, signal) });
    const models = (spec: string) => (spec === 'odd' ? primary : fallback);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('unrecordable'), models });
    await startSession(runtime, 's1', agentConfigFor({ model: 'odd', fallbackModel: 'steady' }, models));
    await runtime.deliver('session-s1', { type: 'query.received', data: { text: 'Which clinics lose power first?', region: 'BD', purpose: 'disaster_response' }, causationId: null });
    await clock.advance(1_000);
    await runtime.settled();

    const agent = await collect(store.readStream('agent-s1.express.0'));
    const failed = agent.find((e) => e.type === 'model.failed')!.data as { kind: string; retryable: boolean; reason: string };
    expect(failed).toMatchObject({ kind: 'malformed', retryable: false });
    expect(failed.reason).toMatch(/^malformed: odd answered with data that cannot be recorded \(data\.usage\.inputTokens, data\.usage\.outputTokens\)/);
    const outcome = ((await runtime.snapshotOf('session-s1')).context as SessionContext).recentOutcomes[0]!;
    expect(outcome).toMatchObject({ status: 'answered', model: 'scripted-small' });
    const requests = agent.filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
    const outcomes = agent.filter((e) => e.type === 'model.responded' || e.type === 'model.failed').map((e) => (e.data as { requestId: string }).requestId);
    expect(outcomes.sort()).toEqual([...requests].sort());
    runtime.stop();

    // Nothing is left open, so the next process neither resumes the session nor calls the provider.
    const next = new ActorRuntime({ store, clock, ids: seededIds('unrecordable-next'), models });
    expect(await resumeUnfinishedSessions(next)).toEqual([]);
    await next.settled();
    expect(primaryCalls).toBe(1);
    next.stop();
  });
});
