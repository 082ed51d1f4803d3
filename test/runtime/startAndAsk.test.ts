import { describe, expect, it } from 'vitest';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { agentConfigFor, DEFAULT_BUDGET_TOKENS, startSessionAndAsk } from '../../src/runtime/sessionService.ts';
import type { AppendResult, StreamAppend } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';

/** A store that can refuse the next write, as a full disk would, and remembers what each write held. */
class RecordingStore extends MemoryEventStore {
  writes: string[][] = [];
  refuseNext = false;
  override appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.refuseNext) {
      this.refuseNext = false;
      return Promise.reject(new StoreUnavailableError('the disk is full', { reason: 'full' }));
    }
    this.writes.push(appends.flatMap((part) => part.events.map((e) => e.type)));
    return super.appendToStreams(appends);
  }
}

describe('starting a session with its first query', () => {
  const query = { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' };

  it('writes the start and the query in one append, then answers the turn', async () => {
    const clock = new SimulatedClock();
    const store = new RecordingStore();
    const model = createScriptedModel({ spec: 'm', latencyMs: 10, wait: (ms, signal) => clock.wait(ms, signal) });
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('start'), models: () => model });
    const asked = startSessionAndAsk(runtime, 's1', agentConfigFor({ model: 'm' }, () => model), DEFAULT_BUDGET_TOKENS, query);
    while (store.writes.length < 2) await clock.advance(5);
    await clock.advance(100);
    expect(await asked).toMatchObject({ turn: 0, status: 'answered' });
    const first = store.writes[0]!;
    expect(first.slice(0, 2)).toEqual(['session.started', 'query.received']);
    runtime.stop();
  });

  it('leaves nothing when that write is refused: no session without a turn', async () => {
    const store = new RecordingStore();
    const model = createScriptedModel({ spec: 'm' });
    const runtime = new ActorRuntime({ store, clock: new SimulatedClock(), ids: seededIds('refused'), models: () => model });
    store.refuseNext = true;
    await expect(startSessionAndAsk(runtime, 's1', agentConfigFor({ model: 'm' }, () => model), DEFAULT_BUDGET_TOKENS, query)).rejects.toThrow(/disk is full/);
    const written: string[] = [];
    for await (const event of store.readAll()) written.push(`${event.streamId} ${event.type}`);
    expect(written).toEqual([]);
    runtime.stop();
  });
});
