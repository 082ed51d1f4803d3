import { describe, expect, it } from 'vitest';
import {
  ActorRuntime, agentConfigFor, auditSession, collect, MemoryEventStore, modelResolver, PointInTimeError, replaySession, seededIds,
  sessionStateAt, SimulatedClock, startSessionAndAsk,
} from '../../src/index.ts';

describe('the package entry point as a library', () => {
  it('hosts a session, answers it, and reads it back as of any point, all from `chronicle`', async () => {
    const store = new MemoryEventStore();
    const clock = new SimulatedClock();
    const models = modelResolver(clock);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('library'), models });
    const asked = startSessionAndAsk(runtime, 'lib1', agentConfigFor({ model: 'scripted:latency=20' }, models), 20_000, { text: 'Which dykes first?', region: 'BD', purpose: 'climate_adaptation' });
    while ((await collect(store.readAll())).every((e) => e.type !== 'turn.completed')) await clock.advance(10);
    expect(await asked).toMatchObject({ turn: 0, status: 'answered' });
    await runtime.settled();
    runtime.stop();

    const settled = (await collect(store.readAll())).find((e) => e.type === 'tokens.settled')!;
    const before = await sessionStateAt(store, 'lib1', { position: settled.position - 1n });
    const after = await sessionStateAt(store, 'lib1', { position: settled.position });
    expect(before.ledger.usage.total.calls).toBe(0);
    expect(after.ledger.usage.total.calls).toBe(1);
    expect((await replaySession(store, 'lib1')).map((a) => a.streamId).sort()).toEqual(['agent-lib1.express.0', 'session-lib1']);
    expect((await auditSession(store, 'lib1')).ok).toBe(true);
    // A malformed point is refused, not answered with an empty state.
    for (const bad of [{ position: -5n }, { position: 3 }, { time: 'garbage' }, {}]) {
      await expect(sessionStateAt(store, 'lib1', bad as never)).rejects.toThrow(PointInTimeError);
    }
    await expect(replaySession(store, 'lib1', { time: 'yesterday' })).rejects.toThrow(/ISO 8601 time/);
  });
});
