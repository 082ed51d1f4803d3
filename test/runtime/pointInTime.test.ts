import fc from 'fast-check';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import { streamCategory } from '../../src/events/envelope.ts';
import { machineEventOf } from '../../src/runtime/actorFold.ts';
import { actorKinds } from '../../src/runtime/actorKinds.ts';
import { newestCheckpointAt } from '../../src/runtime/checkpoints.ts';
import { isAtOrBefore } from '../../src/runtime/pointInTime.ts';
import { foldSession, sessionStateAt, storeStateAt, type CheckpointData } from '../../src/runtime/stateAt.ts';
import { sessionStateProjection } from '../../projections/sessionState/sessionStateStore.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

describe('point-in-time queries', () => {
  it('for random positions, sessionStateAt equals an independent fold of the whole log up to that position', async () => {
    const system = simulatedSystem({ seed: 'pit' });
    const settings = [
      { model: 'scripted:latency=80,seed=1' },
      { model: 'scripted:latency=30,seed=2,failRate=0.5,failKinds=server', fallbackModel: 'scripted:latency=20,seed=3', maxAttempts: 4 },
      { model: 'scripted:latency=50,seed=4' },
    ];
    const ids = ['p0', 'p1', 'p2'];
    for (const [i, id] of ids.entries()) await system.start(id, settings[i]!);
    for (let turn = 0; turn < 3; turn++) {
      for (const id of ids) await system.ask(id, query(`Turn ${turn} for ${id}: adaptation finance?`));
      await system.runUntilAnswered(ids, turn + 1);
    }
    const log = await collect(system.store.readAll());
    const last = log.at(-1)!.position;

    // The independent answer: bare XState actors and the ledger fold over the raw log, nothing shared with stateAt.
    const independent = (sessionId: string, position: bigint) => {
      const events = log.filter((e) => e.position <= position && e.metadata.sessionId === sessionId);
      const actors = new Map<string, ReturnType<typeof createActor>>();
      let ledger = initialLedgerState;
      for (const event of events) {
        const kind = actorKinds[streamCategory(event.streamId)];
        if (kind) {
          if (!actors.has(event.streamId)) actors.set(event.streamId, createActor(kind.machine).start());
          actors.get(event.streamId)!.send(machineEventOf(event));
        } else {
          ledger = applyLedgerEvent(ledger, event.type, event.data);
        }
      }
      return {
        actors: Object.fromEntries([...actors].map(([id, actor]) => [id, { value: actor.getSnapshot().value, context: actor.getSnapshot().context }])),
        ledger: { ...ledger, position: events.some((e) => e.streamId.startsWith('ledger-')) ? String(events.filter((e) => e.streamId.startsWith('ledger-')).at(-1)!.position) : null },
      };
    };

    await fc.assert(fc.asyncProperty(fc.bigInt({ min: 1n, max: last }), fc.constantFrom(...ids), async (position, sessionId) => {
      const answer = await sessionStateAt(system.store, sessionId, { position });
      const expected = independent(sessionId, position);
      expect(Object.fromEntries(answer.actors.map((a) => [a.streamId, { value: a.value, context: a.context }]))).toEqual(expected.actors);
      expect(answer.ledger).toEqual(expected.ledger);
    }), { numRuns: 60 });
  });

  it('gives the same answer from a checkpoint and its tail as from a full fold, at random points', async () => {
    const system = simulatedSystem({ seed: 'checkpoints', checkpointEveryTokens: 300 });
    await system.start('c0', { model: 'scripted:latency=40,seed=5,failRate=0.3,failKinds=server', fallbackModel: 'scripted:latency=30,seed=6', maxAttempts: 4 });
    await system.start('c1', { model: 'scripted:latency=70,seed=7' });
    for (let turn = 0; turn < 6; turn++) {
      await system.ask('c0', query(`Turn ${turn}: how should Dhaka fund drainage?`));
      await system.ask('c1', query(`Turn ${turn}: which crops for Turkana?`));
      await system.runUntilAnswered(['c0', 'c1'], turn + 1);
    }
    const checkpoints = await collect(system.store.readStream('checkpoint-c0'));
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.length).toBeLessThanOrEqual(5);
    expect(await system.store.getStreamMetadata('checkpoint-c0')).toEqual({ maxCount: 5 });
    const last = (await collect(system.store.readAll({ direction: 'backwards', maxCount: 1 })))[0]!.position;
    await fc.assert(fc.asyncProperty(fc.bigInt({ min: 1n, max: last }), fc.constantFrom('c0', 'c1'), async (position, sessionId) => {
      const fromCheckpoint = await sessionStateAt(system.store, sessionId, { position });
      const fullFold = await sessionStateAt(system.store, sessionId, { position }, {}, { checkpoints: false });
      expect(fromCheckpoint).toEqual(fullFold);
    }), { numRuns: 80 });
    const whole = await storeStateAt(system.store, { position: last / 2n });
    expect(whole.map((s) => s.sessionId)).toEqual(['c0', 'c1']);
    expect(whole[0]).toEqual(await sessionStateAt(system.store, 'c0', { position: last / 2n }, {}, { checkpoints: false }));
    expect(await storeStateAt(system.store, { position: 1n })).toHaveLength(1);
    const now = await sessionStateAt(system.store, 'c0');
    expect(now).toEqual(await sessionStateAt(system.store, 'c0', undefined, {}, { checkpoints: false }));
  });

  it('finds the newest checkpoint at or before any point by searching, among many kept checkpoints', async () => {
    const system = simulatedSystem({ seed: 'many-checkpoints', checkpointEveryTokens: 150, checkpointRetention: 'all' });
    await system.start('m0', { model: 'scripted:latency=40,seed=11' });
    await system.start('m1', { model: 'scripted:latency=90,seed=12' });
    for (let turn = 0; turn < 14; turn++) {
      await system.ask('m0', query(`Turn ${turn}: where should Khulna put its next cyclone shelter?`));
      await system.ask('m1', query(`Turn ${turn}: how much water does drip irrigation save in Kitui?`));
      await system.runUntilAnswered(['m0', 'm1'], turn + 1);
      await system.clock.advance(10_000);
    }
    await system.runtime.checkpoint('m0', 'manual');
    const checkpoints = await collect(system.store.readStream('checkpoint-m0'));
    expect(checkpoints.length).toBeGreaterThanOrEqual(12); // about one per turn: each settles once
    // Queued or written at once, the stream holds them in the order their states were taken.
    const usage = checkpoints.map((c) => (c.data as CheckpointData).usageTokens);
    expect(usage).toEqual(usage.toSorted((a, b) => a - b));
    expect((checkpoints.at(-1)!.data as CheckpointData).reason).toBe('manual');
    expect(await system.store.getStreamMetadata('checkpoint-m0')).toEqual({});
    const log = await collect(system.store.readAll());
    const last = log.at(-1)!.position;
    // The independent answer: a scan of every checkpoint, newest first.
    const scanned = (at: { position: bigint } | { time: string }) => checkpoints.toReversed().find((c) => isAtOrBefore(c, at))?.data as CheckpointData | undefined;
    const times = log.map((e) => e.metadata.recordedAt);
    await fc.assert(fc.asyncProperty(fc.bigInt({ min: 1n, max: last }), fc.constantFrom(...times), async (position, time) => {
      expect(await newestCheckpointAt(system.store, 'm0', { position }, ['ledger'])).toEqual(scanned({ position }));
      expect(await newestCheckpointAt(system.store, 'm0', { time }, ['ledger'])).toEqual(scanned({ time }));
      expect(await sessionStateAt(system.store, 'm0', { position })).toEqual(await sessionStateAt(system.store, 'm0', { position }, {}, { checkpoints: false }));
    }), { numRuns: 60 });
    // Each checkpoint the runtime composed from what it hosts equals an independent fold of the log up to it.
    for (const checkpoint of checkpoints) {
      const data = checkpoint.data as CheckpointData;
      const upTo = Object.values(data.covered).reduce((max, c) => (BigInt(c.position) > max ? BigInt(c.position) : max), 0n);
      const folded = foldSession('m0', log.filter((e) => e.position <= upTo && e.metadata.sessionId === 'm0' && !e.streamId.startsWith('checkpoint-')), { sessionState: sessionStateProjection as never });
      expect(data.covered).toEqual(folded.covered);
      expect(data.actors).toEqual(Object.fromEntries(folded.actors.map((a) => [a.streamId, { value: a.value, context: a.context, status: a.status }])));
      expect(data.projections).toEqual({ ledger: folded.ledger, ...folded.projections });
    }
    // A checkpoint without the projection asked for is passed over, never used; back to the stream's first one.
    expect(await newestCheckpointAt(system.store, 'm0', { position: last }, ['ledger', 'climate:another-set'])).toBeUndefined();
    expect(await newestCheckpointAt(system.store, 'm0', { position: checkpoints[0]!.position }, ['ledger', 'climate:another-set'])).toBeUndefined();
  });

  it('answers by clock time the same as by the position of the last event at that time', async () => {
    const system = simulatedSystem({ seed: 'time' });
    await system.start('t0', { model: 'scripted:latency=400,seed=9' });
    await system.ask('t0', query('First question?'));
    await system.runUntilAnswered(['t0'], 1);
    await system.clock.advance(60_000);
    await system.ask('t0', query('Second question?'));
    await system.runUntilAnswered(['t0'], 2);
    const log = await collect(system.store.readAll());
    const firstAnswer = log.find((e) => e.type === 'agent.answered')!;
    const byTime = await sessionStateAt(system.store, 't0', { time: new Date(Date.parse(firstAnswer.metadata.recordedAt) + 30_000).toISOString() });
    const lastBefore = log.filter((e) => Date.parse(e.metadata.recordedAt) <= Date.parse(firstAnswer.metadata.recordedAt) + 30_000).at(-1)!;
    const byPosition = await sessionStateAt(system.store, 't0', { position: lastBefore.position });
    expect(byTime).toEqual(byPosition);
    expect(byTime.ledger.reconciliations).toHaveLength(1);
  });
});
