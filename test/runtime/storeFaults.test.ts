import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { resumeUnfinishedSessions, untilSessionsIdle } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { verifyChain } from '../../src/events/hashChain.ts';
import { collect } from '../../src/store/eventStore.ts';
import { openEventStore } from '../../src/store/openEventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { taskAssigned } from '../support/events.ts';
import { killPointOf, logProblems } from '../support/logInvariants.ts';
import { chronicleProcess, cappedStoreFull, immutableFiles, readOnlyPermissions, tmpfsDiskFull, untilRecorded, type CliResult } from '../support/storeFaultInjection.ts';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-store-faults-'));
// The most real mechanism this machine allows (see test/support/storeFaultInjection.ts); the test titles say which ran.
// CHRONICLE_UNPRIVILEGED_FAULTS=1 uses only what an unprivileged container allows, to try that path on any machine.
const unprivileged = process.env.CHRONICLE_UNPRIVILEGED_FAULTS === '1';
const diskFull = (unprivileged ? undefined : tmpfsDiskFull(dir)) ?? cappedStoreFull(dir);
const readOnly = unprivileged ? undefined : immutableFiles(dir);
// Where neither works (not root), permission bits: they make a store read-only for the next process, not mid-run.
const permissions = readOnly === undefined ? readOnlyPermissions() : undefined;
const readOnlyPath = join(dir, 'read-only', 'store.db');
afterAll(() => {
  diskFull.dispose();
  // In case a failed test left the store read-only.
  readOnly?.undo([readOnlyPath, `${readOnlyPath}-wal`]);
  permissions?.undo(readOnlyPath);
  rmSync(dir, { recursive: true, force: true });
});

const QUERY = { text: 'Which mangroves protect coasts best?', region: 'BD', purpose: 'climate_adaptation' };

/** A session whose model call was in flight when another process locked the store: its answer is not recorded. */
async function lockedMidCall(path: string, sessionId: string): Promise<void> {
  const resolve = modelResolver(systemClock);
  const first = new SqliteEventStore(path, { busyTimeoutMs: 50 });
  const runtime = new ActorRuntime({ store: first, models: resolve });
  await startSession(runtime, sessionId, agentConfigFor({ model: 'scripted:latency=300' }, resolve));
  const asked = askInSession(runtime, sessionId, QUERY).catch((error: unknown) => error);
  // The request is durable and the call is running when the store goes away.
  for (let i = 0; i < 100 && !(await collect(first.readAll())).some((e) => e.type === 'model.requested'); i++) await new Promise((r) => setTimeout(r, 10));
  const unlock = lockFile(path);
  await expect(runtime.settled()).rejects.toThrow(/cannot record this write: it is locked/);
  runtime.stop();
  unlock();
  await first.close();
  void asked;
}

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
      const refused = await askInSession(runtime, 's1', QUERY).then(() => undefined, (error: unknown) => error);
      expect(refused).toMatchObject({ name: 'StoreUnavailableError', reason: 'locked', storePath: path });
      expect((refused as Error).message).toMatch(new RegExp(`^The SQLite store at ${path} cannot record this write: it is locked: another process .* \\(SQLITE_BUSY: database is locked\\)\\. Nothing of this write was recorded\\. To fix: let that process finish or stop it, then run \`chronicle resume\``));
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
    await lockedMidCall(path, 's2');

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

/** The whole log of the store at `path`, read by a connection of its own. */
async function logOf(path: string): Promise<RecordedEvent[]> {
  const store = new SqliteEventStore(path);
  try {
    return await collect(store.readAll());
  } finally {
    await store.close();
  }
}

const sessionIdIn = (log: readonly RecordedEvent[]) => (log.find((e) => e.type === 'session.started')!.data as { sessionId: string }).sessionId;

/** A failed command's whole stderr: one line naming the store, the cause and the fix; no stack trace. */
function expectOneClearLine(result: CliResult, command: string, path: string, cause: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^chronicle ${command}: StoreUnavailableError: The SQLite store at ${path} `));
  expect(lines[0]).toMatch(cause);
  expect(lines[0]).toMatch(/To fix: .*, then run `chronicle resume` to finish what was left unfinished\.$/);
}

/** `chronicle run` with a model slow enough that the store can be taken away while the call is in flight. */
function runWithSlowModel(storeUri: string): Promise<CliResult> {
  return chronicleProcess(['run', QUERY.text, '--region', QUERY.region, '--purpose', QUERY.purpose, '--model', 'scripted:latency=1500', '--store', storeUri]);
}

/** What a fault may leave: whole writes only. Every event recorded before it is still there, and every chain verifies. */
function expectIntactPrefix(log: readonly RecordedEvent[], before: readonly RecordedEvent[]): void {
  expect(verifyChain(log)).toMatchObject({ ok: true });
  expect(log.slice(0, before.length).map((e) => e.metadata.hash)).toEqual(before.map((e) => e.metadata.hash));
}

describe('a store with a size cap (sqlite:<path>?maxBytes=<n>)', () => {
  it('refuses the append that would pass the cap, naming the cap and the fix, and writes nothing of it; a larger cap takes it', async () => {
    const path = join(dir, 'cap.db');
    const capped = await openEventStore(`sqlite:${path}?maxBytes=${256 * 1024}`);
    const big = (i: number) => {
      const event = taskAssigned('ballast-1', i);
      event.data = { ...(event.data as object), query: 'x'.repeat(20_000) };
      return event;
    };
    let refused: unknown;
    let written = 0;
    try {
      while (refused === undefined) await capped.appendToStream('ballast-1', [big(written), big(written + 1)]).then(() => (written += 2), (error: unknown) => (refused = error));
      expect(refused).toMatchObject({ name: 'StoreUnavailableError', reason: 'full', storePath: path });
      expect((refused as Error).message).toBe(`The SQLite store at ${path} cannot record this write: it is full: it reached its size cap of ${256 * 1024} bytes (maxBytes in the store URI) ` +
        '(SQLITE_FULL: database or disk is full). Nothing of this write was recorded. To fix: raise maxBytes in the store URI (sqlite:<path>?maxBytes=<n>), then run `chronicle resume` to finish what was left unfinished.');
      expect(await collect(capped.readStream('ballast-1'))).toHaveLength(written);
    } finally {
      await capped.close();
    }
    const raised = await openEventStore(`sqlite:${path}?maxBytes=${1024 * 1024}`);
    try {
      await raised.appendToStream('ballast-1', [big(written), big(written + 1)], { expectedState: BigInt(written - 1) });
      expect(verifyChain(await collect(raised.readAll()))).toMatchObject({ ok: true });
    } finally {
      await raised.close();
    }
  });
});

describe('the chronicle command when its store fails mid-run: one clear line, nothing half-written, finished by a later resume', () => {
  it(`disk full while a model call is in flight (${diskFull.mechanism})`, async () => {
    const path = diskFull.storeUri.slice('sqlite:'.length).split('?')[0]!;
    const run = runWithSlowModel(diskFull.storeUri);
    await untilRecorded(path, 'model.requested');
    await diskFull.fill();
    const atFault = await logOf(path);
    const failed = await run;
    expectOneClearLine(failed, 'run', path, /cannot record this write: (the disk is full: no space is left|it is full: it reached its size cap of \d+ bytes) .*\(SQLITE_FULL: database or disk is full\)\. Nothing of this write was recorded\./);
    const afterFault = await logOf(path);
    expectIntactPrefix(afterFault, atFault);
    const sessionId = sessionIdIn(afterFault);
    expect(killPointOf(afterFault).pendingRequests.length + killPointOf(afterFault).undelivered, 'the run stopped with its turn unfinished').toBeGreaterThan(0);

    const freedUri = diskFull.free();
    const resumed = await chronicleProcess(['resume', '--store', freedUri]);
    expect(resumed, resumed.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(resumed.stdout).toContain(`resumed 1 unfinished session(s): ${sessionId}`);
    // The other writer's ballast (with the size cap) is not the session's: its chain is checked, the session's laws are not its.
    const log = await logOf(path);
    expect(verifyChain(log)).toMatchObject({ ok: true });
    expect(logProblems(log.filter((e) => !e.streamId.startsWith('ballast-')), sessionId, 1)).toEqual([]);
  });

  it.skipIf(readOnly === undefined)(`the store made read-only while a model call is in flight (${readOnly?.mechanism ?? 'skipped: chattr +i is refused here, and root ignores permission bits'})`, async () => {
    const path = readOnlyPath;
    mkdirSync(dirname(path), { recursive: true });
    const files = [path, `${path}-wal`];
    const run = runWithSlowModel(`sqlite:${path}`);
    await untilRecorded(path, 'model.requested');
    const atFault = await logOf(path);
    readOnly!.make(files);
    try {
      const failed = await run;
      expectOneClearLine(failed, 'run', path, new RegExp(`cannot record this write: it became read-only while open: ${path} refuses writes \\(EPERM: an immutable or append-only flag, see lsattr\\) \\(SQLITE_IOERR_WRITE: disk I/O error\\)\\. Nothing of this write was recorded\\. To fix: make the store writable again`));
      // A later process is refused too, up front, and writes nothing.
      const refused = await chronicleProcess(['resume', '--store', `sqlite:${path}`]);
      expectOneClearLine(refused, 'resume', path, /cannot be opened: it is read-only: .* \(SQLITE_READONLY: attempt to write a readonly database\)\. Nothing was written\./);
    } finally {
      readOnly!.undo(files);
    }
    const afterFault = await logOf(path);
    expect(afterFault.map((e) => e.metadata.hash), 'the refused writes left nothing behind').toEqual(atFault.map((e) => e.metadata.hash));
    expect(killPointOf(afterFault).pendingRequests).toHaveLength(1);

    const sessionId = sessionIdIn(afterFault);
    const resumed = await chronicleProcess(['resume', '--store', `sqlite:${path}`]);
    expect(resumed, resumed.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(resumed.stdout).toContain(`resumed 1 unfinished session(s): ${sessionId}`);
    expect(logProblems(await logOf(path), sessionId, 1)).toEqual([]);
  });

  it.skipIf(permissions === undefined)(`the store made read-only while a session was unfinished (${permissions?.mechanism ?? 'skipped: root ignores permission bits'}): the next process is refused up front, writes nothing, and resumes once writable`, async () => {
    const path = readOnlyPath;
    mkdirSync(dirname(path), { recursive: true });
    await lockedMidCall(path, 's3');
    const before = await logOf(path);
    permissions!.make(path);
    try {
      const refused = await chronicleProcess(['resume', '--store', `sqlite:${path}`]);
      expectOneClearLine(refused, 'resume', path, new RegExp(`cannot be opened: it is read-only: .* refuses writes \\(EACCES: file permissions\\) \\(SQLITE_READONLY(_DIRECTORY)?: attempt to write a readonly database\\)\\. Nothing was written\\.`));
    } finally {
      permissions!.undo(path);
    }
    expect((await logOf(path)).map((e) => e.metadata.hash)).toEqual(before.map((e) => e.metadata.hash));
    const resumed = await chronicleProcess(['resume', '--store', `sqlite:${path}`]);
    expect(resumed, resumed.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(resumed.stdout).toContain('resumed 1 unfinished session(s): s3');
    expect(logProblems(await logOf(path), 's3', 1)).toEqual([]);
  });
});
