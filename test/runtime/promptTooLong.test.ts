import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import { createModel } from '../../src/models/createModel.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { replayStream } from '../../src/runtime/replay.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

/** Scripted models whose calls are counted: `scripted-small` takes 8 192 tokens, `scripted-large` 32 768. */
function countedModels() {
  const calls: string[] = [];
  const cache = new Map<string, LanguageModel>();
  const resolve = (spec: string): LanguageModel => {
    let model = cache.get(spec);
    if (!model) {
      const inner = createModel(spec);
      model = Object.assign(Object.create(inner) as LanguageModel, { call: (request: Parameters<LanguageModel['call']>[0]) => (calls.push(spec), inner.call(request)) });
      cache.set(spec, model);
    }
    return model;
  };
  return { resolve, calls };
}

// About 12 000 tokens: more than scripted-small's window, well within scripted-large's.
const LONG_QUERY = 'Which embankments along the Jamuna should be raised first, and by how much, given the 2024 flood marks? '.repeat(600);

describe('a prompt longer than its model takes', () => {
  for (const fallback of [null, 'scripted:model=scripted-large'] as const) {
    it(`is not sent: refused and recorded, without counting against the provider; ${fallback ? 'a fallback with a larger window answers' : 'without a fallback the turn fails saying why'}`, async () => {
      const store = new MemoryEventStore();
      const { resolve, calls } = countedModels();
      const runtime = new ActorRuntime({ store, clock: new SimulatedClock(), ids: seededIds(`too-long-${fallback}`), models: resolve });
      await startSession(runtime, 'w1', agentConfigFor({ model: 'scripted', fallbackModel: fallback, breakerThreshold: 1 }, resolve), 200_000);
      await runtime.deliver('session-w1', { type: 'query.received', data: { text: LONG_QUERY, region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      await runtime.settled();
      const agent = await collect(store.readStream('agent-w1.express.0'));
      const requested = agent.filter((e) => e.type === 'model.requested').map((e) => e.data as { model: string; estimatedInputTokens: number });
      expect(requested[0]).toMatchObject({ model: 'scripted' });
      expect(requested[0]!.estimatedInputTokens).toBeGreaterThan(8_192);
      const refusal = agent.find((e) => e.type === 'model.failed')!.data;
      expect(refusal).toMatchObject({ kind: 'refused', retryable: false });
      expect(refusal).not.toHaveProperty('model');
      expect((refusal as { reason: string }).reason).toMatch(/^refused: context window: the prompt is \d+ tokens, more than the 8192 scripted takes$/);
      const ledger = (await collect(store.readStream('ledger-w1'))).filter((e) => e.type === 'tokens.refused' || e.type === 'tokens.reserved').map((e) => e.type);
      // Refused, not reserved for, where the primary cannot take it; the breaker (threshold 1) stays closed.
      expect((replayStream('agent-w1.express.0', agent).context as AgentContext).breaker).toMatchObject({ state: 'closed', trips: 0 });
      const outcome = ((await runtime.snapshotOf('session-w1')).context as SessionContext).recentOutcomes[0]!;
      if (fallback) {
        expect(calls).toEqual([fallback]);
        expect(requested.map((r) => r.model)).toEqual(['scripted', fallback]);
        expect(ledger).toEqual(['tokens.refused', 'tokens.reserved']);
        expect(outcome).toMatchObject({ status: 'answered', model: 'scripted-large' });
      } else {
        expect(calls).toEqual([]);
        expect(ledger).toEqual(['tokens.refused']);
        expect(outcome).toMatchObject({ status: 'failed' });
        expect(outcome.text).toMatch(/context window/);
      }
      expect((await auditSession(store, 'w1')).ok).toBe(true);
      runtime.stop();
    });
  }

  it("takes the primary's window from the session's agent config: a larger one set there lets the prompt go; a smaller one (a small local model) refuses a prompt its profile would take", async () => {
    const outcomeWith = async (contextWindow: number, text: string) => {
      const store = new MemoryEventStore();
      const { resolve, calls } = countedModels();
      const runtime = new ActorRuntime({ store, clock: new SimulatedClock(), ids: seededIds(`window-${contextWindow}`), models: resolve });
      await startSession(runtime, 'w2', agentConfigFor({ model: 'scripted', contextWindow }, resolve), 200_000);
      await runtime.deliver('session-w2', { type: 'query.received', data: { text, region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      await runtime.settled();
      runtime.stop();
      return { outcome: ((await runtime.snapshotOf('session-w2')).context as SessionContext).recentOutcomes[0]!, calls };
    };
    const wide = await outcomeWith(100_000, LONG_QUERY);
    expect(wide.outcome).toMatchObject({ status: 'answered' });
    expect(wide.calls).toEqual(['scripted']);
    const narrow = await outcomeWith(2_000, 'Which embankments along the Jamuna should be raised first? '.repeat(300));
    expect(narrow.outcome).toMatchObject({ status: 'failed' });
    expect(narrow.outcome.text).toMatch(/context window: the prompt is \d+ tokens, more than the 2000 scripted takes/);
    expect(narrow.calls).toEqual([]);
  });

  it('leaves a model the profile table does not know to its provider, unless the user gave its window', async () => {
    const outcomeWith = async (contextWindow: number | undefined) => {
      const store = new MemoryEventStore();
      const calls: string[] = [];
      // A model with no profile, whose prompts count 100 000 tokens a line: hundreds of thousands for this task's.
      const inner = createModel('scripted');
      const unknown = Object.assign(Object.create(inner) as LanguageModel, {
        profile: undefined,
        estimateTokens: (text: string) => 100_000 * text.split('\n').length,
        call: (request: Parameters<LanguageModel['call']>[0]) => (calls.push('unknown'), inner.call(request)),
      });
      const runtime = new ActorRuntime({ store, clock: new SimulatedClock(), ids: seededIds(`unknown-${contextWindow}`), models: () => unknown });
      await startSession(runtime, 'w3', agentConfigFor({ model: 'openai-compatible:http://127.0.0.1:1/v1#my-1m-model', ...(contextWindow === undefined ? {} : { contextWindow }) }, () => unknown), 100_000_000);
      await runtime.deliver('session-w3', { type: 'query.received', data: { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      await runtime.settled();
      runtime.stop();
      return { outcome: ((await runtime.snapshotOf('session-w3')).context as SessionContext).recentOutcomes[0]!, calls };
    };
    // The config records the default window (128 000) for it: an assumption, not a limit.
    expect(await outcomeWith(undefined)).toMatchObject({ outcome: { status: 'answered' }, calls: ['unknown'] });
    const given = await outcomeWith(150_000);
    expect(given.calls).toEqual([]);
    expect(given.outcome.text).toMatch(/context window: the prompt is \d+ tokens, more than the 150000 /);
  });
});
