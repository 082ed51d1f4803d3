import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, startSession, submitQuery } from '../../src/runtime/sessionService.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { logProblems } from '../support/logInvariants.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const SESSIONS = 100;
const WORKERS = 3;
const KILLS = 6;
const dir = mkdtempSync(join(tmpdir(), 'chronicle-workers-'));
const dbPath = join(dir, 'store.db');
afterAll(() => { if (!process.env.WORKER_LOG) rmSync(dir, { recursive: true, force: true }); });

interface WorkerProcess {
  id: string;
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

function startWorker(id: string): WorkerProcess {
  const child = spawn(process.execPath, [MAIN, 'worker', '--store', `sqlite:${dbPath}`, '--id', id, '--lease-ttl', '1000', '--heartbeat', '200', '--drain', '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { id, child, log, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('workers on one SQLite file, killed at random', () => {
  it(`answers each of ${SESSIONS} sessions exactly once while ${WORKERS} worker processes are SIGKILLed and replaced ${KILLS} times`, async () => {
    const store = new SqliteEventStore(dbPath);
    // The client: records each session's start and query, and performs nothing; the workers do.
    const client = new ActorRuntime({ store, models: modelResolver(systemClock), effects: 'record' });
    const config = agentConfigFor({ model: 'scripted:latency=250', fallbackModel: null, modelTimeoutMs: 5_000 }, modelResolver(systemClock));
    const workers: WorkerProcess[] = [];
    let next = 0;
    for (; next < WORKERS; next++) workers.push(startWorker(`w${next}`));
    const sessionIds = Array.from({ length: SESSIONS }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const random = seeded(7);
    let kills = 0;
    const killer = (async () => {
      await sleep(1_500);
      while (kills < KILLS) {
        // Only workers that have joined, so each kill can strand sessions a worker holds.
        const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null && w.log.join('').includes('joined'));
        if (alive.length === 0) {
          await sleep(100);
          continue;
        }
        const victim = alive[Math.floor(random() * alive.length)]!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        kills++;
        workers.push(startWorker(`w${next++}`));
        await sleep(400 + random() * 600);
      }
    })();
    // Sessions arrive over about five seconds, so kills land among turns in every phase.
    for (const [i, sessionId] of sessionIds.entries()) {
      await startSession(client, sessionId, config);
      await submitQuery(client, sessionId, { text: i % 4 === 0 ? 'Design a flood early-warning system for coastal Khulna: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first steps.' : `Which crops suit a drier season in plot ${i}?`, region: i % 2 ? 'KE' : 'BD', purpose: i % 2 ? 'sustainable_agriculture' : 'climate_adaptation' });
      await sleep(50);
    }
    await client.settled();
    await killer;

    const deadline = Date.now() + 60_000;
    let answered = 0;
    while (Date.now() < deadline) {
      answered = (await collect(store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'turn.completed' } }))).length;
      if (answered >= SESSIONS) break;
      await sleep(250);
    }
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.filter((w) => w.child.signalCode !== 'SIGKILL').map((w) => w.exited));
    const logs = workers.map((w) => w.log.join('')).join('');
    // WORKER_LOG=<file> keeps the workers' logs (and the store) for a look after a failure.
    if (process.env.WORKER_LOG) writeFileSync(process.env.WORKER_LOG, logs);
    expect(answered, logs).toBe(SESSIONS);
    expect(codes.every((code) => code === 0), logs).toBe(true);

    const problems: string[] = [];
    for (const sessionId of sessionIds) problems.push(...logProblems(await readSessionEvents(store, sessionId), sessionId, 1).map((p) => `${sessionId}: ${p}`));
    expect(problems).toEqual([]);
    expect(kills).toBe(KILLS);
    // Sessions held by killed workers were taken over by the others once their leases lapsed.
    expect(logs).toMatch(/took session \w+ from w\d/);
    const leases = await collect(store.readAll({ filter: { streamNamePrefix: 'lease-', eventTypePrefix: 'lease.acquired' } }));
    expect(new Set(leases.map((e) => e.metadata.sessionId)).size).toBe(SESSIONS);
    await store.close();
  }, 120_000);
});

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
