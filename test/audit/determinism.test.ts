import { assign, emit } from 'xstate';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_MACHINE_VERSION, agentMachine, MODEL_TIMEOUT } from '../../machines/agentMachine.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKinds, type ActorKind } from '../../src/runtime/actorKinds.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { recordedStore, removeRecordings } from './auditFixture.ts';

afterAll(removeRecordings);

/** The agent machine with one action changed; the version string is kept, so only behaviour can give it away. */
function alteredAgents(actions: Parameters<typeof agentMachine.provide>[0]['actions']): Record<string, ActorKind> {
  return { ...actorKinds, agent: { category: 'agent', machine: agentMachine.provide({ actions }), version: AGENT_MACHINE_VERSION, earlier: new Map() } };
}

/** Counts one output token too many per answer: a change to the state, not to any effect. */
const overcounting = alteredAgents({
  recordSuccess: assign(({ context, event }) => {
    if (event.type !== 'model.responded') return {};
    return {
      pending: null,
      contextTokens: event.usage.inputTokens + event.usage.outputTokens,
      history: [...context.history, { turn: context.task!.turn, query: context.task!.query, answer: event.text }].slice(-3),
      totals: { calls: context.totals.calls + 1, inputTokens: context.totals.inputTokens + event.usage.inputTokens, outputTokens: context.totals.outputTokens + event.usage.outputTokens + 1 },
    };
  }),
});

/** Waits twice as long for a model: a change to an effect, not to the state. */
const patient = alteredAgents({
  startModelTimeout: emit(({ context }) => ({ type: 'timer.start' as const, key: MODEL_TIMEOUT, delayMs: context.config!.modelTimeoutMs * 2 })),
});

/** The first event after which the two machines' states differ, found by folding both: the answer the audit must give. */
function firstDivergence(events: RecordedEvent[], sessionId: string, kinds: Record<string, ActorKind>): RecordedEvent | undefined {
  const byStream = Map.groupBy(events.filter((e) => e.streamId.startsWith(`agent-${sessionId}.`)), (e) => e.streamId);
  const found: RecordedEvent[] = [];
  for (const stream of byStream.values()) {
    const states = (kind: ActorKind) => {
      const out: string[] = [];
      foldActor(kind, stream, (_e, snapshot) => out.push(JSON.stringify(persistedState(kind, snapshot))));
      return out;
    };
    const [real, altered] = [states(actorKinds.agent!), states(kinds.agent!)];
    const at = real.findIndex((state, i) => state !== altered[i]);
    if (at >= 0) found.push(stream[at]!);
  }
  return found.sort((a, b) => (a.position < b.position ? -1 : 1))[0];
}

describe('chronicle audit: replay determinism', () => {
  it('names the first event at which an altered machine diverges from the checkpoints, with the states diffed', async () => {
    const store = new SqliteEventStore(await recordedStore());
    try {
      const expected = firstDivergence(await collect(store.readAll()), 'co', overcounting)!;
      expect(expected.type).toBe('model.responded');
      const result = await auditSession(store, 'co', { kinds: overcounting });
      expect(result.ok).toBe(false);
      expect(result.checks.chain.ok).toBe(true);
      const problem = result.problems[0]!;
      expect(problem).toMatchObject({ check: 'determinism', kind: 'state-diverged', streamId: expected.streamId, revision: expected.revision, position: expected.position, eventType: 'model.responded' });
      expect(problem.diff).toEqual([expect.objectContaining({ path: 'context.totals.outputTokens' })]);
      const [difference] = problem.diff!;
      expect(difference!.found).toBe((difference!.expected as number) + 1);
      expect(problem.message).toContain(`stream "${expected.streamId}" revision ${expected.revision} (position ${expected.position}, model.responded)`);
      expect(problem.message).toMatch(/context\.totals\.outputTokens: expected \d+, found \d+/);
      // The unaltered machines reproduce every checkpoint.
      expect((await auditSession(store, 'co')).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('names the event whose recorded effects an altered machine contradicts, between checkpoints', async () => {
    const store = new SqliteEventStore(await recordedStore());
    try {
      const result = await auditSession(store, 'ex', { kinds: patient });
      const problem = result.problems[0]!;
      // The timer is started on `model.requested`: the first agent request is where the log and the machine part.
      const firstRequest = (await collect(store.readStream('agent-ex.express.0'))).find((e) => e.type === 'model.requested')!;
      expect(problem).toMatchObject({ check: 'determinism', kind: 'effects-diverged', streamId: 'agent-ex.express.0', revision: firstRequest.revision, eventType: 'model.requested' });
      expect(problem.expected).toEqual(['timer.started modelTimeout 60000 ms']);
      expect(problem.found).toEqual(['timer.started modelTimeout 30000 ms']);
    } finally {
      await store.close();
    }
  });
});
