import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { resumeUnfinishedSessions } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

const DIR = mkdtempSync(join(tmpdir(), 'chronicle-redelivery-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/**
 * Two processes on one SQLite file, as two `chronicle` commands are: `first` answers a turn, `second` opens the
 * store, then `first` answers more turns, enough for checkpoints, so whatever `second` loads afterwards is rebuilt
 * from a checkpoint and knows only the event ids from there on.
 */
async function twoProcesses(name: string, onSecondBeforeMoreTurns: (second: ActorRuntime) => Promise<unknown>) {
  const path = join(DIR, `${name}.db`);
  const clock = new SimulatedClock();
  const model = createScriptedModel({ spec: 'scripted' });
  const firstStore = new SqliteEventStore(path);
  const first = new ActorRuntime({ store: firstStore, clock, ids: seededIds(`${name}-first`), models: () => model });
  const ask = (runtime: ActorRuntime, i: number) => askInSession(runtime, 's1', { text: `Question ${i}: which dykes in the delta first?`, region: 'BD', purpose: 'climate_adaptation' });
  await startSession(first, 's1', agentConfigFor({ model: 'scripted' }, () => model));
  await ask(first, 0);
  const secondStore = new SqliteEventStore(path);
  const second = new ActorRuntime({ store: secondStore, clock, ids: seededIds(`${name}-second`), models: () => model });
  await onSecondBeforeMoreTurns(second);
  for (let i = 1; i < 6; i++) await ask(first, i);
  await first.settled();
  first.stop();
  expect((await collect(firstStore.readStream('checkpoint-s1'))).length).toBeGreaterThan(0);
  return { first, second, store: secondStore, close: async () => (second.stop(), await firstStore.close(), await secondStore.close()) };
}

describe('re-delivering what is already recorded', () => {
  it('rehydrating an actor loaded before a checkpoint re-delivers nothing its session already holds: no write, no failure', async () => {
    // The second process hosts the agent as it stood after turn 0; its session is rebuilt later, from a checkpoint.
    const { second, store, close } = await twoProcesses('rehydrate', (runtime) => runtime.snapshotOf('agent-s1.express.0'));
    const before = await store.lastPosition();
    // Was: the agent's turn-0 answer re-delivered to the session, refused as a duplicate five times, then thrown
    // (DuplicateEventIdError, "already recorded in stream session-s1 at revision 7"), failing the command.
    await second.rehydrate('agent-s1.express.0');
    await second.rehydrate('session-s1');
    await second.settled();
    expect(await store.lastPosition()).toBe(before);
    expect(((await second.snapshotOf('session-s1')).context as SessionContext)).toMatchObject({ turn: 6, answered: 6 });
    expect((await auditSession(store, 's1')).ok).toBe(true);
    await close();
  });

  it('a fact delivered again under its recorded id is done, even where the actor was rebuilt after that id', async () => {
    const { second, store, close } = await twoProcesses('deliver-again', async () => {});
    const original = (await collect(store.readStream('session-s1'))).find((e) => e.type === 'query.received')!;
    const before = await store.lastPosition();
    // The session in `second` is rebuilt from the newest checkpoint, long after turn 0's query.
    await second.deliver('session-s1', { type: 'query.received', data: original.data, eventId: original.eventId, causationId: null });
    await second.settled();
    expect(await store.lastPosition()).toBe(before);
    expect(((await second.snapshotOf('session-s1')).context as SessionContext)).toMatchObject({ turn: 6, queued: [] });
    await close();
  });

  it('keeps the hosted actor as it was, its armed timers too: a model timeout armed on resume still fires after the re-delivery', async () => {
    const path = join(DIR, 'armed.db');
    const clock = new SimulatedClock(Date.parse('2026-01-01T00:00:00Z'));
    let hang = false;
    const model = createScriptedModel({ spec: 'scripted', latencyMs: 20, wait: (ms, signal) => clock.wait(ms, signal), replies: () => (hang ? { text: 'too late', latencyMs: 120_000 } : { text: 'answer', usage: { inputTokens: 400, outputTokens: 200 } }) });
    const firstStore = new SqliteEventStore(path);
    const first = new ActorRuntime({ store: firstStore, clock, ids: seededIds('armed-first'), models: () => model, checkpointEveryTokens: 500 });
    await startSession(first, 's1', agentConfigFor({ model: 'scripted' }, () => model));
    const ask = async (runtime: ActorRuntime, i: number) => runtime.deliver('session-s1', { type: 'query.received', data: { text: `Question ${i}: which dykes?`, region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
    for (let i = 0; i < 3; i++) {
      await ask(first, i);
      await clock.advance(100);
      await first.settled();
    }
    hang = true;
    await ask(first, 3);
    await clock.advance(100);
    first.stop(); // stopped with the call in flight
    await firstStore.close();
    const store = new SqliteEventStore(path);
    const second = new ActorRuntime({ store, clock, ids: seededIds('armed-second'), models: () => model, checkpointEveryTokens: 500 });
    await resumeUnfinishedSessions(second);
    expect((await second.outstandingEffects('agent-s1.express.0')).timers.map((t) => t.key)).toEqual(['modelTimeout']);
    // The agent's first task, delivered again under its recorded id (from before the checkpoint the agent was rebuilt from).
    const task = (await collect(store.readStream('agent-s1.express.0'))).find((e) => e.type === 'task.assigned')!;
    await second.deliver('agent-s1.express.0', { type: task.type, data: task.data, eventId: task.eventId, causationId: task.metadata.causationId });
    hang = false;
    await clock.advance(31_000); // the 30 s model timeout armed on resume
    await clock.advance(2_000); // the retry's backoff, and its answer
    await second.settled();
    const fired = (await collect(store.readStream('agent-s1.express.0'))).filter((e) => e.type === 'timer.fired').map((e) => (e.data as { key: string }).key);
    expect(fired).toContain('modelTimeout');
    expect((await second.snapshotOf('agent-s1.express.0')).value).not.toBe('awaitingModel');
    second.stop();
    await store.close();
  });

  it('an id another stream holds is still refused, naming where: a fact is never dropped for a clash', async () => {
    const { second, store, close } = await twoProcesses('clash', async () => {});
    const query = (await collect(store.readStream('session-s1'))).find((e) => e.type === 'query.received')!;
    await startSession(second, 's2', agentConfigFor({ model: 'scripted' }, () => createScriptedModel({ spec: 'scripted' })));
    await expect(second.deliver('session-s2', { type: 'query.received', data: { ...(query.data as object), text: 'A different question for s2' }, eventId: query.eventId, causationId: null }))
      .rejects.toThrow(/already recorded in stream "session-s1" at revision 1/);
    await close();
  });
});
