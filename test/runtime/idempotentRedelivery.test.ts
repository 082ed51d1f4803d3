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
});
