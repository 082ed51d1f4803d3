import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { resumeUnfinishedSessions, untilSessionsIdle } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { logProblems } from '../support/logInvariants.ts';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-store-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QUERY = { text: 'Which mangroves protect coasts best?', region: 'BD', purpose: 'climate_adaptation' };

/** Another process holding the file's write lock, as a long transaction or a backup would. */
function lockFile(path: string): () => void {
  const other = new DatabaseSync(path);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('ROLLBACK');
    other.close();
  };
}

describe('store faults: the store goes away mid-run, and comes back', () => {
  it('a query to a locked store is refused with a clear error and writes nothing; once the lock is gone it is answered', async () => {
    const path = join(dir, 'locked.db');
    const store = new SqliteEventStore(path, { busyTimeoutMs: 50 });
    const resolve = modelResolver(systemClock);
    const runtime = new ActorRuntime({ store, models: resolve });
    try {
      await startSession(runtime, 's1', agentConfigFor({ model: 'scripted:latency=5' }, resolve));
      const before = (await collect(store.readAll())).length;
      const unlock = lockFile(path);
      await expect(askInSession(runtime, 's1', QUERY)).rejects.toThrow(/The SQLite store at .* cannot start a write: .*locked/);
      unlock();
      expect((await collect(store.readAll())).length).toBe(before);
      const outcome = await askInSession(runtime, 's1', QUERY);
      expect(outcome).toMatchObject({ turn: 0, status: 'answered' });
    } finally {
      runtime.stop();
      await store.close();
    }
  });

  it('locked while a model call is in flight: its answer cannot be recorded; a process started once the lock is gone finishes the turn, every request answered once', async () => {
    const path = join(dir, 'midrun.db');
    const resolve = modelResolver(systemClock);
    const first = new SqliteEventStore(path, { busyTimeoutMs: 50 });
    const runtime = new ActorRuntime({ store: first, models: resolve });
    await startSession(runtime, 's2', agentConfigFor({ model: 'scripted:latency=300' }, resolve));
    const asked = askInSession(runtime, 's2', QUERY).catch((error: unknown) => error);
    // The request is durable and the call is running when the store goes away.
    for (let i = 0; i < 100 && !(await collect(first.readAll())).some((e) => e.type === 'model.requested'); i++) await new Promise((r) => setTimeout(r, 10));
    const unlock = lockFile(path);
    await expect(runtime.settled()).rejects.toThrow(/cannot start a write/);
    runtime.stop();
    unlock();
    await first.close();
    void asked;

    const second = new SqliteEventStore(path);
    const resumed = new ActorRuntime({ store: second, models: resolve });
    try {
      expect(await resumeUnfinishedSessions(resumed)).toEqual(['s2']);
      await untilSessionsIdle(resumed, ['s2']);
      await resumed.settled();
      expect(((await resumed.snapshotOf('session-s2')).context as SessionContext).recentOutcomes).toMatchObject([{ turn: 0, status: 'answered' }]);
      expect(logProblems(await collect(second.readAll()), 's2', 1)).toEqual([]);
    } finally {
      resumed.stop();
      await second.close();
    }
  });
});
