import { describe, expect, it } from 'vitest';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { CheckpointedFold } from '../../src/runtime/checkpointedFold.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { triageLogDefinition } from '../../src/runtime/triageLog.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { projectionStream } from '../../src/worker/workerEvents.ts';

describe('store-wide folds as checkpointed catch-up subscribers', () => {
  it("triage's learning and memory, read from a checkpoint plus the tail, equal a fold of the whole log, and triage decides alike", async () => {
    const store = new SqliteEventStore(':memory:');
    const clock = new SimulatedClock();
    const models = modelResolver(clock);
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('folds'), models });
    const config = agentConfigFor({ model: 'scripted', fallbackModel: null }, models);
    const ask = async (sessionId: string, text: string) => {
      await startSession(runtime, sessionId, config);
      const answered = askInSession(runtime, sessionId, { text, region: 'KE', purpose: 'sustainable_agriculture' });
      while (!(await Promise.race([answered.then(() => true), clock.advance(50).then(() => false)])));
    };
    for (let i = 0; i < 6; i++) await ask(`a${i}`, `Which drought-tolerant crops suit plot ${i} this season?`);
    expect(await runtime.checkpointStoreFolds()).toBe(true);
    const [checkpoint] = await collect(store.readStream(projectionStream('triageLog'), { direction: 'backwards', maxCount: 1 }));
    for (let i = 0; i < 3; i++) await ask(`b${i}`, `How should cooperative ${i} store its harvest?`);
    await runtime.settled();

    const fromCheckpoint = await CheckpointedFold.load(store, triageLogDefinition);
    const whole = (await collect(store.readAll({ filter: triageLogDefinition.filter }))).reduce(triageLogDefinition.evolve, triageLogDefinition.initial());
    expect(JSON.parse(JSON.stringify(fromCheckpoint.state))).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(fromCheckpoint.state.learning.through).toBe(whole.learning.through);
    expect(fromCheckpoint.state.memory.episodes.length).toBeGreaterThan(0);
    // It read the checkpoint and then only what followed it.
    expect(BigInt((checkpoint!.data as { position: string }).position)).toBeGreaterThan(0n);

    // A second process (a fresh runtime) triages the next query from the checkpoint and the tail: its estimate says
    // it learnt from every reconciliation in the log, through the newest one.
    const fresh = new ActorRuntime({ store, clock, ids: seededIds('fresh'), models });
    await startSession(fresh, 'c1', config);
    const answered = askInSession(fresh, 'c1', { text: 'Which drought-tolerant crops suit plot 9 this season?', region: 'KE', purpose: 'sustainable_agriculture' });
    while (!(await Promise.race([answered.then(() => true), clock.advance(50).then(() => false)])));
    const estimate = (await collect(store.readStream('session-c1'))).find((e) => e.type === 'budget.estimated')!.data as { learnedThrough: string | null; learnedFrom: number };
    expect(estimate.learnedThrough).toBe(whole.learning.through);
    expect(estimate.learnedThrough).not.toBeNull();
  });

  it('a fold handed its own appends folds them without reading them back, and still reads what another writer put between or after them', async () => {
    const store = new SqliteEventStore(':memory:');
    const clock = new SimulatedClock();
    const models = modelResolver(clock);
    const config = agentConfigFor({ model: 'scripted', fallbackModel: null }, models);
    const ask = async (runtime: ActorRuntime, sessionId: string, text: string) => {
      await startSession(runtime, sessionId, config);
      const answered = askInSession(runtime, sessionId, { text, region: 'KE', purpose: 'sustainable_agriculture' });
      while (!(await Promise.race([answered.then(() => true), clock.advance(50).then(() => false)])));
    };
    const other = new ActorRuntime({ store, clock, ids: seededIds('other'), models });
    // The fold reads through a store that counts its reads.
    let eventsRead = 0;
    const counted = Object.create(store) as SqliteEventStore;
    counted.readAll = async function* (options) {
      for await (const event of store.readAll(options)) {
        eventsRead++;
        yield event;
      }
    };
    const fold = new CheckpointedFold(counted, triageLogDefinition);
    await fold.refresh();
    // Every append `observed` makes is handed to the fold, as the runtime hands its appends to its own triage log.
    const observing = Object.create(store) as SqliteEventStore;
    observing.appendToStreams = async (appends) => {
      const results = await store.appendToStreams(appends);
      fold.observe(results.flatMap((result) => result.recorded ?? []));
      return results;
    };
    const observed = new ActorRuntime({ store: observing, clock, ids: seededIds('observed'), models });
    const whole = async () => (await collect(store.readAll({ filter: triageLogDefinition.filter }))).reduce(triageLogDefinition.evolve, triageLogDefinition.initial());

    await ask(observed, 'o1', 'Which drought-tolerant crops suit plot 1 this season?');
    await ask(other, 'x1', 'How should cooperative 1 store its harvest?');
    await ask(observed, 'o2', 'Which drought-tolerant crops suit plot 2 this season?');
    await fold.catchUp();
    expect(fold.state).toEqual(await whole());
    await ask(observed, 'o3', 'Which drought-tolerant crops suit plot 3 this season?');
    await ask(other, 'x2', 'How should cooperative 2 store its harvest?');
    await fold.catchUp();
    expect(fold.state).toEqual(await whole());
    expect(fold.state.memory.episodes.map((e) => e.sessionId)).toEqual(['o1', 'x1', 'o2', 'o3', 'x2']);

    // With nobody else writing, what it was handed is folded as it is, none of it read back.
    const readBefore = eventsRead;
    await ask(observed, 'o4', 'Which drought-tolerant crops suit plot 4 this season?');
    const foldedBefore = fold.events;
    await fold.catchUp();
    expect(eventsRead).toBe(readBefore);
    expect(fold.events).toBeGreaterThan(foldedBefore);
    expect(fold.state).toEqual(await whole());
  });
});
