import type { SessionContext } from '../../machines/sessionMachine.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

/**
 * A session whose budget (1 500 tokens) covers short queries but not a long one: its primary provider is healthy
 * and counts every call it is sent. No fallback, breaker threshold 2.
 */
export function refusalScenario(ids = 'refusals') {
  const store = new MemoryEventStore();
  const clock = new SimulatedClock();
  let calls = 0;
  const primary = createScriptedModel({ spec: 'primary', latencyMs: 20, wait: (ms, signal) => clock.wait(ms, signal), replies: () => { calls++; return { text: 'primary answer', usage: { inputTokens: 50, outputTokens: 20 } }; } });
  const runtime = new ActorRuntime({ store, clock, ids: seededIds(ids), models: () => primary });
  const ask = async (text: string) => {
    const turn = ((await runtime.snapshotOf('session-r1')).context as SessionContext).turn;
    await runtime.deliver('session-r1', { type: 'query.received', data: { text, region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
    while (((await runtime.snapshotOf('session-r1')).context as SessionContext).turn <= turn) await clock.advance(50);
  };
  // `asRecordedBefore`: the config as builds before agent revision 11 recorded it, with no retryBackoffMs.
  const start = ({ asRecordedBefore = false } = {}) => {
    const { retryBackoffMs, ...before } = agentConfigFor({ model: 'primary', breakerThreshold: 2, breakerCooldownMs: 60_000, outputReserveTokens: 100 }, () => primary);
    return startSession(runtime, 'r1', asRecordedBefore ? before : { ...before, retryBackoffMs }, 1_500);
  };
  return { store, clock, runtime, ask, start, models: () => primary, providerCalls: () => calls };
}

/** A short query (answered), the same long query twice (refused: the budget cannot cover it), a short one again. */
export async function askThroughRefusals(ask: (text: string) => Promise<void>, { thenShort = true } = {}): Promise<void> {
  const long = 'Which embankments along the Jamuna should be raised first, and how high? '.repeat(150);
  await ask('Which dykes first?');
  await ask(long);
  await ask(long);
  if (thenShort) await ask('And which embankments after them?');
}
