import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboardServer } from '../../src/dashboard/dashboardServer.ts';
import { agentConfigFor } from '../../src/runtime/sessionService.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { randomIds } from '../../src/runtime/ids.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

const main = join(import.meta.dirname, '../../src/cli/main.ts');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'chronicle-worker-cli-'));
const store = `sqlite:${join(dir, 'store.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function chronicle(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [main, ...args], { cwd: dir, env: { ...process.env, CHRONICLE_STORE: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The session of the first lease recorded in the store file, once there is one. */
async function firstLeasedSession(path: string): Promise<string | undefined> {
  if (!existsSync(path)) return undefined;
  const store = new SqliteEventStore(path);
  try {
    const [lease] = await collect(store.readAll({ filter: { streamNamePrefix: 'lease-' }, maxCount: 1 }));
    return (lease?.data as { sessionId: string } | undefined)?.sessionId;
  } finally {
    await store.close();
  }
}

describe('chronicle worker, submit and workers, as processes', () => {
  it('a run on a store workers share holds its session for its length: no worker takes it over or calls its model again', async () => {
    const shared = `sqlite:${join(dir, 'shared-with-run.db')}`;
    const worker = spawn(process.execPath, [main, 'worker', '--store', shared, '--id', 'wr', '--lease-ttl', '1000', '--heartbeat', '200'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    worker.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    try {
      while (!output.join('').includes('worker wr joined')) await new Promise((r) => setTimeout(r, 50));
      // Slower than the worker's lease, so a worker that took unheld sessions with work would take this one mid-call.
      const running = chronicle('run', 'Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=2500', '--json', '--store', shared);
      // A second run on the session meanwhile is told to ask again later (75), not that it misused the command (2).
      let held: string | undefined;
      while ((held = await firstLeasedSession(join(dir, 'shared-with-run.db'))) === undefined) await new Promise((r) => setTimeout(r, 50));
      const second = await chronicle('run', 'And how fast do they grow?', '--session', held, '--region', 'BD', '--purpose', 'climate_adaptation', '--store', shared);
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr.trim()).toMatch(new RegExp(`^chronicle run: session ${held} is being run by another chronicle command \\(process \\d+\\); ask it again once that one has answered$`));
      const run = await running;
      expect(run.code, run.stderr + output.join('')).toBe(0);
      const { sessionId } = JSON.parse(run.stdout) as { sessionId: string };
      await new Promise((r) => setTimeout(r, 1_500));
      expect(output.join('')).not.toMatch(new RegExp(`took session ${sessionId}`));
      const file = new SqliteEventStore(join(dir, 'shared-with-run.db'));
      try {
        const leases = await collect(file.readStream(`lease-${sessionId}`));
        expect(leases.map((e) => [e.type, (e.data as { workerId: string }).workerId])).toEqual([['lease.acquired', expect.stringMatching(/^run\.\d+\.[0-9a-f]{8}$/)], ['lease.released', expect.stringMatching(/^run\.\d+\.[0-9a-f]{8}$/)]]);
        const agent = await collect(file.readStream(`agent-${sessionId}.express.0`));
        expect(agent.filter((e) => e.type === 'model.requested')).toHaveLength(1);
        expect(agent.filter((e) => e.type === 'model.responded')).toHaveLength(1);
      } finally {
        await file.close();
      }
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('a run killed mid-call on a store workers share is resumed at once, held while it finishes, and its model called once', async () => {
    const path = join(dir, 'killed-run.db');
    const shared = `sqlite:${path}`;
    // A worker joins and leaves: the store is one workers share, so runs hold their sessions by lease.
    const worker = spawn(process.execPath, [main, 'worker', '--store', shared, '--id', 'gone'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    const joined: string[] = [];
    worker.stdout.on('data', (chunk: Buffer) => joined.push(chunk.toString()));
    while (!joined.join('').includes('worker gone joined')) await new Promise((r) => setTimeout(r, 50));
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.on('exit', resolve));

    const run = spawn(process.execPath, [main, 'run', 'Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=3000', '--store', shared], { cwd: dir, stdio: 'ignore' });
    const killed = new Promise((resolve) => run.on('exit', resolve));
    let sessionId: string | undefined;
    while ((sessionId = await firstLeasedSession(path)) === undefined) await new Promise((r) => setTimeout(r, 50));
    // Killed once its model call is under way: its lease has ~15 s to run, but its process is gone.
    const file = new SqliteEventStore(path);
    try {
      while (!(await collect(file.readStream(`agent-${sessionId}.express.0`)).catch(() => [])).some((e) => e.type === 'model.requested')) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await file.close();
    }
    run.kill('SIGKILL');
    await killed;

    const before = JSON.parse((await chronicle('workers', '--json', '--store', shared)).stdout) as { workers: { id: string; status: string; sessions: number }[]; unheld: string[] };
    expect(before.workers).toContainEqual(expect.objectContaining({ id: expect.stringMatching(/^run\./), status: 'ended', sessions: 1 }));
    expect(before.unheld).toEqual([sessionId]);

    const resumed = await chronicle('resume', '--store', shared);
    expect(resumed.code, resumed.stderr).toBe(0);
    const printed = resumed.stdout.trim().split('\n');
    expect([printed[0], printed.at(-1)]).toEqual([`chronicle: resumed 1 unfinished session(s): ${sessionId}`, 'chronicle: no unfinished work left']);
    // The killed run's turn, answered here, and printed here: the run that asked it could not.
    expect(printed[1]).toMatch(new RegExp(`^session ${sessionId}, turn 0 \\(express\\), answered by scripted-\\w+:$`));

    const after = new SqliteEventStore(path);
    try {
      // The killed run's lease, taken over from it by resume, given back once the turn was answered.
      const leases = await collect(after.readStream(`lease-${sessionId}`));
      const runId = (leases[0]!.data as { workerId: string }).workerId;
      expect(leases.map((e) => [e.type, (e.data as { workerId: string }).workerId, (e.data as { from?: string | null }).from])).toEqual([
        ['lease.acquired', runId, null],
        ['lease.acquired', expect.not.stringMatching(runId), runId],
        ['lease.released', (leases[1]!.data as { workerId: string }).workerId, undefined],
      ]);
      const agent = await collect(after.readStream(`agent-${sessionId}.express.0`));
      expect(agent.filter((e) => e.type === 'model.requested')).toHaveLength(1);
      expect(agent.filter((e) => e.type === 'model.responded')).toHaveLength(1);
    } finally {
      await after.close();
    }
    // Its entry goes once it holds nothing: a killed command is not listed for ever.
    const board = JSON.parse((await chronicle('workers', '--json', '--store', shared)).stdout) as { workers: { id: string }[] };
    expect(board.workers.map((w) => w.id)).toEqual(['gone']);
  }, 60_000);

  it('refuse bad flags with one line naming the flag, before touching the store', async () => {
    const tooSlow = await chronicle('worker', '--store', store, '--lease-ttl', '1000', '--heartbeat', '600');
    expect(tooSlow.code).toBe(2);
    expect(tooSlow.stderr.trim()).toMatch(/--heartbeat.*half of --lease-ttl/);
    const tooShort = await chronicle('worker', '--store', store, '--lease-ttl', '10');
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toMatch(/--lease-ttl.*at least 200/);
    const noQuery = await chronicle('submit', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', store);
    expect(noQuery.code).toBe(2);
    const timeoutAlone = await chronicle('submit', 'Which crops?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--timeout', '5', '--store', store);
    expect(timeoutAlone.stderr).toMatch(/--timeout only applies with --wait/);
    // None of them made the store: `workers`, which only reads, finds none.
    const board = await chronicle('workers', '--store', store);
    expect(board.code).toBe(1);
    expect(board.stderr).toMatch(/^chronicle workers: StoreNotFoundError: No store at /);
    expect(existsSync(join(dir, 'store.db'))).toBe(false);
  });

  it('workers counts the sessions waiting for a worker even before any worker joined', async () => {
    const waiting = `sqlite:${join(dir, 'no-workers-yet.db')}`;
    const submitted = await chronicle('submit', 'Which crops suit a drier season?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--json', '--store', waiting);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { sessionId } = JSON.parse(submitted.stdout) as { sessionId: string };
    const board = await chronicle('workers', '--store', waiting);
    expect(board.stdout).toContain('no worker has joined this store');
    expect(board.stdout).toContain(`sessions with work: 1, held by no live worker: 1 (${sessionId})`);
    // Waiting for an answer with no worker to give it is said at once, not after the whole wait in silence.
    const waited = await chronicle('submit', 'And in the long rains?', '--session', sessionId, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--wait', '--timeout', '1', '--store', waiting);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/^chronicle: submit: no worker is running on this store yet; waiting up to 1 s for one to answer turn 1 \(start one with `chronicle worker`\)\n/);
  });

  it('a submitted query is answered by a running worker; a held session refuses `run`; the worker leaves cleanly on SIGTERM', async () => {
    const worker = spawn(process.execPath, [main, 'worker', '--store', store, '--id', 'cli1', '--lease-ttl', '1000'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    worker.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    try {
      const first = await chronicle('submit', 'Which crops suit a drier season in Machakos?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--model', 'scripted:latency=20', '--wait', '--timeout', '30', '--json', '--store', store);
      expect(first.code, first.stderr + output.join('')).toBe(0);
      const answer = JSON.parse(first.stdout) as { sessionId: string; turn: number; status: string; answer: string };
      expect(answer).toMatchObject({ turn: 0, status: 'answered' });
      expect(answer.answer.length).toBeGreaterThan(20);

      const board = JSON.parse((await chronicle('workers', '--json', '--store', store)).stdout) as { workers: { id: string; status: string; sessions: number }[] };
      expect(board.workers).toEqual([expect.objectContaining({ id: 'cli1', status: 'alive', sessions: 1 })]);

      const refused = await chronicle('run', 'And in the long rains?', '--session', answer.sessionId, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', store);
      // Busy elsewhere, as with a session another run holds: 75, one line, no usage text.
      expect(refused.code).toBe(75);
      expect(refused.stderr).toMatch(new RegExp(`session ${answer.sessionId} is held by worker cli1; .*submit --session ${answer.sessionId} --wait`));
      expect(refused.stderr).not.toMatch(/usage:/);
      // `resume` leaves it to the worker, and says so rather than that nothing is left.
      const resumed = await chronicle('resume', '--store', store);
      expect(resumed.stdout).toContain(`chronicle: left 1 session(s) to the live workers holding them: ${answer.sessionId} (worker cli1)\nchronicle: no other unfinished work left`);

      // A second query to the session the worker holds: the worker sees it in the log and runs the turn.
      const second = await chronicle('submit', 'And in the long rains?', '--session', answer.sessionId, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--wait', '--timeout', '30', '--json', '--store', store);
      expect(second.code, second.stderr + output.join('')).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ sessionId: answer.sessionId, turn: 1, status: 'answered' });
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output.join('')).toMatch(/worker cli1 left group chronicle/);
    const after = JSON.parse((await chronicle('workers', '--json', '--store', store)).stdout) as { workers: { status: string; sessions: number }[] };
    // Leaving released its lease: the session is nobody's, so any process may run it now.
    expect(after.workers).toEqual([expect.objectContaining({ status: 'left', sessions: 0 })]);
    const verify = await chronicle('verify', '--store', store);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);

  it('parks a poison session with its reason, shows it in `workers` and /api/workers alike, and unparks it on request', async () => {
    const file = new SqliteEventStore(join(dir, 'store.db'));
    // A session recorded by another build's session machine: no worker of this build can run it.
    const alien = (type: string, data: unknown) => ({
      eventId: randomIds.next(), type, data,
      metadata: { actorId: 'session-alien', actorKind: 'session', sessionId: 'alien', correlationId: 'alien', causationId: null, recordedAt: new Date().toISOString(), machineVersion: 'session@other-build' },
    });
    await file.appendToStream('session-alien', [
      alien('session.started', { sessionId: 'alien', agent: agentConfigFor({ model: 'scripted', fallbackModel: null }, modelResolver(systemClock)), budgetTokens: 20_000 }),
      alien('query.received', { text: 'Anyone?', region: 'KE', purpose: 'sustainable_agriculture' }),
    ], { expectedState: 'no_stream' });
    const worker = spawn(process.execPath, [main, 'worker', '--store', store, '--id', 'cli2', '--lease-ttl', '1000'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    const parkedCount = async () => (await collect(file.readAll({ filter: { streamNamePrefix: 'lease-alien', eventTypePrefix: 'session.parked' } }))).length;
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    };
    const dashboard = await startDashboardServer({ store: file, port: 0, host: '127.0.0.1', staticDir: dir });
    try {
      await until(async () => (await parkedCount()) === 1);
      const listed = JSON.parse((await chronicle('workers', '--json', '--store', store)).stdout) as { parked: { sessionId: string; reason: string }[] };
      expect(listed.parked).toEqual([{ sessionId: 'alien', reason: expect.stringMatching(/session@other-build/) }]);
      const api = await (await fetch(new URL('api/workers', dashboard.url))).json() as typeof listed;
      expect(api.parked).toEqual(listed.parked);
      expect((await chronicle('workers', '--unpark', 'nosuch', '--store', store)).stderr).toMatch(/nosuch is not parked/);
      const unparked = await chronicle('workers', '--unpark', 'alien', '--note', 'new build deployed', '--store', store);
      expect(unparked.code, unparked.stderr).toBe(0);
      // The worker takes it back and, as it is still poison, parks it again with the same reason.
      await until(async () => (await parkedCount()) === 2);
      const lease = await collect(file.readStream('lease-alien'));
      expect(lease.map((e) => e.type)).toEqual(['lease.acquired', 'session.parked', 'session.unparked', 'lease.acquired', 'session.parked']);
    } finally {
      worker.kill('SIGTERM');
      await dashboard.close();
    }
    expect(await exited).toBe(0);
    await file.close();
  }, 60_000);
});
