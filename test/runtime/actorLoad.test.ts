import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { auditSessionLog, readSession, withReader } from '../../src/audit/auditSession.ts';
import { determinismAudit } from '../../src/audit/determinismAudit.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { loadActor, type LoadedActor } from '../../src/runtime/actorLoad.ts';
import { emptyTracking, trackEvent } from '../../src/runtime/actorTracking.ts';
import { checkpointEvent, checkpointOfStore, checkpointStream } from '../../src/runtime/checkpoints.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { catalogue, createEventRegistry } from '../../src/events/catalogue.ts';
import { EventRegistry } from '../../src/events/eventRegistry.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { sessionStream } from '../../src/runtime/sessionStreams.ts';
import type { CheckpointData } from '../../src/runtime/stateAt.ts';
import { collect, type EventStore, type ReadStreamOptions } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { COUNCIL_QUERY } from '../audit/recordedSessions.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

/** A memory store that counts the events its stream reads hand out. */
class CountingStore extends MemoryEventStore {
  eventsRead = 0;
  override async *readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    for await (const event of super.readStream(streamId, options)) {
      this.eventsRead++;
      yield event;
    }
  }
}

/** The independent answer: the whole stream folded from its start, every effect tracked. */
async function wholeStreamFold(store: EventStore, streamId: string) {
  const events = await collect(store.readStream(streamId));
  const tracking = emptyTracking();
  for (const event of events) trackEvent(tracking, event);
  return { state: persistedState(actorKindOf(streamId), foldActor(actorKindOf(streamId), events)), revision: events.at(-1)!.revision, tracking, events };
}

/** What rehydration needs to be right: the state, the revision, the open timers and requests (and where each began). */
async function expectSameAsWholeFold(store: EventStore, streamId: string, loaded: LoadedActor): Promise<void> {
  const whole = await wholeStreamFold(store, streamId);
  expect(persistedState(actorKindOf(streamId), loaded.snapshot), streamId).toEqual(whole.state);
  expect(loaded.revision, streamId).toBe(whole.revision);
  expect([...loaded.tracking.activeTimers], streamId).toEqual([...whole.tracking.activeTimers]);
  expect([...loaded.tracking.pendingRequests], streamId).toEqual([...whole.tracking.pendingRequests]);
  // Re-delivered on rehydration: every message sent after the checkpoint (those before it were written with their
  // delivery, in the same atomic append), or every one when the whole stream was folded.
  const revisionOf = new Map(whole.events.map((e) => [e.eventId, e.revision]));
  const sentAfter = [...whole.tracking.sentMessages].filter(([, m]) => loaded.fromCheckpoint === null || revisionOf.get(m.recordEventId)! > loaded.fromCheckpoint);
  expect([...loaded.tracking.sentMessages], streamId).toEqual(sentAfter);
}

describe('rehydrating an actor from its session\'s newest checkpoint', () => {
  it('gives the state, revision and open effects a whole-stream fold gives, at every moment of express and council turns with failures, a breaker and hand-offs', async () => {
    const store = new MemoryEventStore();
    const system = simulatedSystem({ store, seed: 'load', checkpointEveryTokens: 150, checkpointRetention: 'all' });
    // A primary that fails often (the breaker opens; its cool-down stays open across checkpoints) and a fallback.
    const models = modelResolver(system.clock);
    await startSession(system.runtime, 's1', agentConfigFor({ model: 'scripted:latency=400,failRate=0.4,seed=5', fallbackModel: 'scripted:latency=300,seed=2', breakerThreshold: 2, breakerCooldownMs: 5_000, contextWindow: 2_048 }, models), 10_000_000);
    const queries = ['Which mangroves protect coasts best?', COUNCIL_QUERY, 'And how fast do they grow?', 'What does planting them cost per hectare?', COUNCIL_QUERY, 'Who maintains them?', 'Which species suit brackish water?', COUNCIL_QUERY, 'How do storms damage young plantings?'];
    let loadsFromCheckpoints = 0;
    let openAtCut = 0;
    for (const [turn, text] of queries.entries()) {
      await system.ask('s1', query(text, 'BD', 'climate_adaptation'));
      // Every 100 simulated ms through the turn, a process started now would rebuild each actor from the log.
      for (let elapsed = 0; ((await system.runtime.snapshotOf(sessionStream('s1'))).context as SessionContext).turn <= turn; elapsed += 100) {
        if (elapsed > 600_000) throw new Error(`turn ${turn} did not finish`);
        await system.clock.advance(100);
        // Every actor stream written so far: the session, its agents and any hand-off's transition.
        for (const streamId of new Set(system.steps.map((step) => step.streamId))) {
          const loaded = await loadActor(store, actorKindOf(streamId), streamId);
          if (loaded.fromCheckpoint !== null) loadsFromCheckpoints++;
          await expectSameAsWholeFold(store, streamId, loaded);
        }
      }
    }
    const checkpoints = (await collect(store.readStream(checkpointStream('s1')))).map((e) => e.data as CheckpointData);
    for (const checkpoint of checkpoints) {
      for (const [streamId, from] of Object.entries(checkpoint.openFrom ?? {})) if (BigInt(from) <= BigInt(checkpoint.covered[streamId]!.revision)) openAtCut++;
    }
    const session = ((await system.runtime.snapshotOf(sessionStream('s1'))).context as SessionContext);
    const breakerTrips = (await collect(store.readAll())).filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'breakerCooldown').length;
    // The shapes the comparison went through: councils, a hand-off, the breaker opening, effects open at checkpoints.
    expect(session).toMatchObject({ answered: queries.length, failed: 0 });
    expect(session.transitions).toBeGreaterThanOrEqual(1);
    expect(breakerTrips).toBeGreaterThanOrEqual(1);
    expect(checkpoints.length).toBeGreaterThanOrEqual(6);
    expect(loadsFromCheckpoints, 'most loads start from a checkpoint').toBeGreaterThan(200);
    expect(openAtCut, 'some checkpoints were taken with a timer or a model request open').toBeGreaterThan(0);
  });

  it('reads the tail of a long session, not its history', async () => {
    const store = new CountingStore();
    const system = simulatedSystem({ store, seed: 'long', checkpointEveryTokens: 1_500 });
    // A budget that lasts: every turn is answered, so usage (and with it checkpoints) keeps growing.
    await startSession(system.runtime, 'long', agentConfigFor({ model: 'scripted:latency=50,seed=3' }, modelResolver(system.clock)), 10_000_000);
    for (let turn = 0; turn < 40; turn++) {
      await system.ask('long', query(`Turn ${turn}: which district needs early warning sirens first?`));
      await system.runUntilAnswered(['long'], turn + 1);
    }
    expect(((await system.runtime.snapshotOf(sessionStream('long'))).context as SessionContext).answered).toBe(40);
    for (const streamId of [sessionStream('long'), 'agent-long.express.0']) {
      const length = (await collect(store.readStream(streamId))).length;
      store.eventsRead = 0;
      const loaded = await loadActor(store, actorKindOf(streamId), streamId);
      // The checkpoint (read and verified whole) and the stream from the checkpoint on: a few turns' events.
      expect(store.eventsRead, `${streamId}: ${length} events`).toBeLessThan(length / 5);
      expect(length).toBeGreaterThan(200);
      expect(loaded.fromCheckpoint).not.toBeNull();
      await expectSameAsWholeFold(store, streamId, loaded);
    }
  });

  it('folds whole streams where the newest checkpoint does not say where open effects begin (v1, or composed from the store)', async () => {
    const store = new MemoryEventStore();
    const system = simulatedSystem({ store, seed: 'v1', checkpointEveryTokens: 150 });
    await system.start('s3', { model: 'scripted:latency=100,seed=6' });
    await system.ask('s3', query('Which mangroves protect coasts best?'));
    await system.runUntilAnswered(['s3'], 1);
    // The newest checkpoint as an older build wrote it: folded from the store, without `openFrom`.
    const data = await checkpointOfStore(store, 's3', 'manual', {});
    expect(data.openFrom).toBeUndefined();
    await store.appendToStream(checkpointStream('s3'), [checkpointEvent('s3', data, { ids: seededIds('v1-checkpoint'), recordedAt: '2026-11-24T10:00:00.000Z' })]);
    for (const streamId of [sessionStream('s3'), 'agent-s3.express.0']) {
      const loaded = await loadActor(store, actorKindOf(streamId), streamId);
      expect(loaded.fromCheckpoint).toBeNull();
      await expectSameAsWholeFold(store, streamId, loaded);
    }
  });

  it('reads v1 checkpoints (before openFrom) by upcasting them; a build that knows only v1 asks for an upgrade rather than calling v2 invalid', () => {
    const current = createEventRegistry();
    const place = { streamId: checkpointStream('s'), revision: 0n, position: 0n };
    const v1 = { reason: 'tokens', usageTokens: 10, covered: {}, actors: {}, projections: {} };
    expect(current.parseRecorded('checkpoint.recorded', 1, v1, place)).toEqual(v1);
    const older = new EventRegistry();
    for (const [type, schema] of Object.entries(catalogue)) older.define(type, type === 'checkpoint.recorded' ? catalogue['checkpoint.recorded'].omit({ openFrom: true }) : schema);
    expect(() => older.parseRecorded('checkpoint.recorded', 2, { ...v1, openFrom: {} }, place)).toThrow(/newer than this build knows \(v1\)[\s\S]*Upgrade Chronicle/);
  });

  it('is checked by the audit: a checkpoint whose openFrom would skip an open effect is named', async () => {
    const store = new MemoryEventStore();
    const system = simulatedSystem({ store, seed: 'audit-open', checkpointEveryTokens: 150 });
    await system.start('s2', { model: 'scripted:latency=400,seed=4' });
    await system.ask('s2', query(COUNCIL_QUERY, 'BD', 'climate_adaptation'));
    await system.runUntilAnswered(['s2'], 1);
    const log = await withReader(store, (reader) => readSession(reader, 's2'));
    expect((await auditSessionLog(log)).ok).toBe(true);
    // A checkpoint taken while some agent's call was open, claiming nothing was.
    const record = log.streams.get(checkpointStream('s2'))!.records.find((r) => {
      const data = r.event!.data as CheckpointData;
      return Object.entries(data.openFrom ?? {}).some(([streamId, from]) => BigInt(from) <= BigInt(data.covered[streamId]!.revision));
    })!;
    const data = record.event!.data as CheckpointData;
    const [streamId] = Object.entries(data.openFrom!).find(([s, from]) => BigInt(from) <= BigInt(data.covered[s]!.revision))!;
    data.openFrom![streamId] = String(BigInt(data.covered[streamId]!.revision) + 1n);
    const { problems } = determinismAudit(log);
    expect(problems[0]).toMatchObject({ check: 'determinism', kind: 'checkpoint-open-effects', streamId, revision: BigInt(data.covered[streamId]!.revision) });
    expect(problems[0]!.message).toMatch(/a rehydration from that checkpoint would miss a timer or a model request/);
  });
});
