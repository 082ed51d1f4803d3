import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { derivedId } from '../../src/runtime/ids.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { describeKillPoint, killPointOf, logProblems, type KillPoint } from '../support/logInvariants.ts';

// The acceptance test of crash recovery: run a session in a child process, SIGKILL it at many points, resume it in a
// new process (killed too, sometimes), and check the finished log. See test/support/crashWorker.ts for the child.
const WORKER = fileURLToPath(new URL('../support/crashWorker.ts', import.meta.url));
const DIR = mkdtempSync(join(tmpdir(), 'chronicle-crash-'));
// Children share V8's compile cache: it roughly halves the CPU each one spends loading its modules.
const CHILD_ENV = { ...process.env, NODE_COMPILE_CACHE: join(DIR, 'compile-cache') };
const SESSION = 'crash1';
const TURNS = 6; // the worker's query count
const RUN_LIMIT_MS = 30_000; // a worker that runs longer has hung
const MAX_RUNS = 60; // a crash loop that needs more has stopped making progress
// Three lanes on two cores: a child spends part of its start-up and its run waiting on files and model latency.
const PARALLEL = 3;

/** How a run is killed: frozen right after its k-th write holding an event of a type (`*` = any), or after a delay. */
type Kill = { freeze: string } | { afterMs: number };
/** `kills[i]` kills run i, `every` each later run (a crash loop, until a run finishes before its kill point). */
interface Trial { seed: number; timeoutMs: number; kills?: Kill[]; every?: Kill }

const SHORT = 46; // near the model latency: timeouts and cancels happen, and fire at once in a resumed process
const LONG = 60_000; // longer than any restart, even on a loaded machine: a re-issued request gets its own answer
const times = (n: number, kill: Kill) => Array.from({ length: n }, () => kill);

// Frozen kills hit exact points of the write-ahead protocol (a write is durable, none of its effects performed);
// timed kills land wherever the process happens to be (mid-transaction, mid model call, mid start-up). Crash loops
// and second kills interrupt recovery itself. About 60 processes in all, 1–2.5 s of CPU each.
const TRIALS: Trial[] = [
  { seed: 7, timeoutMs: LONG, every: { freeze: '*:2' } },
  { seed: 8, timeoutMs: SHORT, kills: times(8, { freeze: '*:3' }) },
  { seed: 9, timeoutMs: SHORT, kills: [{ freeze: '*:6' }, ...times(6, { freeze: '*:1' })] },
  { seed: 15, timeoutMs: LONG, every: { freeze: 'model.requested:1' } }, // every request of the session interrupted
  { seed: 17, timeoutMs: LONG, kills: [{ freeze: '*:8' }], every: { freeze: '*:4' } }, // the second half, sparsely
  { seed: 10, timeoutMs: LONG, kills: [{ freeze: 'model.requested:3' }, { freeze: 'model.requested:1' }] },
  { seed: 11, timeoutMs: SHORT, kills: [{ freeze: 'model.requested:5' }, { freeze: 'model.requested:1' }] },
  { seed: 13, timeoutMs: SHORT, kills: [{ freeze: 'model.cancelled:1' }] },
  { seed: 14, timeoutMs: SHORT, kills: [{ freeze: 'timer.fired:1' }] },
  { seed: 40, timeoutMs: LONG, kills: [{ afterMs: 0 }] },
  { seed: 41, timeoutMs: SHORT, kills: [{ afterMs: 150 }, { afterMs: 150 }] },
  { seed: 42, timeoutMs: LONG, kills: [{ afterMs: 400 }] },
  { seed: 43, timeoutMs: SHORT, kills: [{ afterMs: 700 }] },
];

interface RunResult { killed: boolean; code: number | null; lines: string[]; stderr: string }

/** Runs the worker once on `db`, killing it as `kill` says; resolves when the process has exited. */
function runWorker(db: string, trial: Trial, kill: Kill | undefined): Promise<RunResult> {
  const args = [WORKER, db, SESSION, String(trial.seed), String(trial.timeoutMs), ...(kill && 'freeze' in kill ? [kill.freeze] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: CHILD_ENV });
  const lines: string[] = [];
  let stderr = '';
  let killed = false;
  const killNow = () => { killed = true; child.kill('SIGKILL'); };
  const hang = setTimeout(() => { lines.push(`(hung: killed after ${RUN_LIMIT_MS} ms)`); child.kill('SIGKILL'); }, RUN_LIMIT_MS);
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const message = JSON.parse(line) as { ready?: boolean; frozen?: number };
    if (message.frozen !== undefined) killNow();
    if (message.ready && kill && 'afterMs' in kill) setTimeout(killNow, kill.afterMs);
  });
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(hang);
    // A timed kill that comes after a clean exit kills nothing.
    resolve({ killed: killed && code !== 0, code, lines, stderr });
  }));
}

async function readAll(db: string): Promise<RecordedEvent[]> {
  const store = new SqliteEventStore(db);
  try {
    return await collect(store.readAll());
  } finally {
    await store.close();
  }
}

/** Checkpoints written by processes that were then killed must still stand in for the fold they summarise. */
async function checkpointProblems(db: string): Promise<string[]> {
  const store = new SqliteEventStore(db);
  try {
    const [fromCheckpoint, full] = await Promise.all([sessionStateAt(store, SESSION), sessionStateAt(store, SESSION, undefined, {}, { checkpoints: false })]);
    const same = isDeepStrictEqual(fromCheckpoint.actors, full.actors) && isDeepStrictEqual(fromCheckpoint.ledger, full.ledger);
    return same ? [] : ['the state folded from the newest checkpoint differs from the full fold'];
  } finally {
    await store.close();
  }
}

interface TrialResult {
  killPoints: KillPoint[];
  problems: string[];
  /** Requests a kill left without an outcome that a later process re-issued and recorded an answer for. */
  reissuedAnswered: number;
  /** Council turns and completed hand-offs in the finished log: recovery must hold for those too. */
  councils: number;
  handOffs: number;
}

/** Kills runs as the trial says, then expects the next run to finish the session, and checks the log. */
async function runTrial(trial: Trial, db: string): Promise<TrialResult> {
  const killPoints: KillPoint[] = [];
  const where = () => `trial ${JSON.stringify(trial)}, killed at ${killPoints.map(describeKillPoint).join('; ') || 'no point'}`;
  for (let run = 0; run < MAX_RUNS; run++) {
    const result = await runWorker(db, trial, trial.kills?.[run] ?? trial.every);
    if (result.killed) {
      killPoints.push(killPointOf(await readAll(db)));
      continue;
    }
    if (result.code !== 0 || !result.lines.some((line) => line.startsWith('{"done":true'))) {
      const tail = [...result.lines.slice(-15), result.stderr.trim()].join('\n  ');
      return { killPoints, reissuedAnswered: 0, councils: 0, handOffs: 0, problems: [`${where()}: run ${run} exited ${result.code} without finishing:\n  ${tail}`] };
    }
    const log = await readAll(db);
    const types = new Map(log.map((e) => [e.eventId, e.type]));
    const pending = new Set(killPoints.flatMap((k) => k.pendingRequests));
    const reissuedAnswered = [...pending].filter((id) => types.get(derivedId(`${id}/outcome`)) === 'model.responded').length;
    const problems = [...logProblems(log, SESSION, TURNS), ...await checkpointProblems(db)];
    const councils = log.filter((e) => e.type === 'triage.decided' && (e.data as { decision: { mode: string } }).decision.mode === 'council').length;
    const handOffs = log.filter((e) => e.type === 'transition.completed' && e.streamId.startsWith('session-')).length;
    return { killPoints, reissuedAnswered, councils, handOffs, problems: problems.map((p) => `${where()}: ${p}`) };
  }
  return { killPoints, reissuedAnswered: 0, councils: 0, handOffs: 0, problems: [`${where()}: killed ${MAX_RUNS} times without finishing: recovery makes no progress`] };
}

describe('crash recovery (SIGKILL at many points, then resume)', () => {
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  it(`completes the session with every effect recorded exactly once, over ${TRIALS.length} trials of kills`, async () => {
    const results: TrialResult[] = [];
    let next = 0;
    const lane = async () => {
      while (next < TRIALS.length) {
        const index = next++;
        results[index] = await runTrial(TRIALS[index]!, join(DIR, `trial-${index}.db`));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));

    expect(results.flatMap((r) => r.problems)).toEqual([]);
    const kills = results.flatMap((r) => r.killPoints);
    const counts = [...new Set(kills.map((k) => k.events))].sort((a, b) => a - b);
    const shapes = new Set(kills.map((k) => k.shape));
    const withPending = kills.filter((k) => k.pendingRequests.length > 0).length;
    const withTimers = kills.filter((k) => k.activeTimers > 0).length;
    const reissuedAnswered = results.reduce((n, r) => n + r.reissuedAnswered, 0);
    const councils = results.filter((r) => r.councils > 0).length;
    const handOffs = results.filter((r) => r.handOffs > 0).length;
    console.info(`${kills.length} kills: ${counts.length} distinct event counts (${counts.join(' ')}), ${shapes.size} distinct log shapes; ` +
      `${withPending} between a model request and its outcome (${reissuedAnswered} of those requests answered after the restart), ${withTimers} with a timer armed; ` +
      `${councils} of ${TRIALS.length} sessions held a council turn, ${handOffs} handed an agent over`);
    expect(councils, 'trials whose session held a council turn').toBe(TRIALS.length);
    expect(handOffs, 'trials whose session completed a hand-off').toBeGreaterThanOrEqual(TRIALS.length / 2);
    expect(counts.length, 'distinct kill points (events in the store)').toBeGreaterThanOrEqual(30);
    expect(shapes.size, 'distinct kill points (event types in the store, in order)').toBeGreaterThanOrEqual(30);
    expect(withPending, 'kills between a model request and its outcome').toBeGreaterThanOrEqual(10);
    expect(reissuedAnswered, 're-issued requests answered by the resumed process').toBeGreaterThanOrEqual(3);
    expect(withTimers, 'kills with a timer armed').toBeGreaterThanOrEqual(10);
  }, 300_000); // a minute or two; the margin is for machines busy with other work

  it('the log checks catch a duplicated outcome, a double settlement, a message delivered twice and an edited event', async () => {
    const db = join(DIR, 'clean.db');
    const run = await runWorker(db, { seed: 5, timeoutMs: LONG }, undefined);
    expect(run.code, run.stderr).toBe(0);
    const log = await readAll(db);
    expect(logProblems(log, SESSION, TURNS)).toEqual([]);

    const outcome = log.find((e) => e.type === 'model.responded')!;
    const delivered = log.find((e) => e.type === 'task.assigned')!;
    const lastOf = (streamId: string) => log.filter((e) => e.streamId === streamId).at(-1)!;
    // Appended at the stream's end with the next revision, as a buggy runtime would have written them.
    const again = (e: RecordedEvent, eventId: string) => ({ ...e, eventId, revision: lastOf(e.streamId).revision + 1n, position: log.at(-1)!.position + 1n });
    const duplicated = logProblems([...log, again(outcome, 'd0c0ffee-0000-4000-8000-000000000001')], SESSION, TURNS);
    expect(duplicated).toContainEqual(expect.stringMatching(/model request .* has 2 outcomes/));
    const settled = log.find((e) => e.type === 'tokens.settled')!;
    const settledTwice = logProblems([...log, again(settled, 'd0c0ffee-0000-4000-8000-000000000002')], SESSION, TURNS);
    expect(settledTwice).toContainEqual(expect.stringMatching(/^ledger: model request .* tokens.settled, tokens.settled/));
    const redelivered = logProblems([...log, again(delivered, delivered.eventId)], SESSION, TURNS);
    expect(redelivered).toContainEqual(expect.stringMatching(/is in agent-.* 2 times/));
    const edited = logProblems(log.map((e) => (e === outcome ? { ...e, data: { ...(e.data as object), text: 'edited' } } : e)), SESSION, TURNS);
    expect(edited).toContainEqual(expect.stringMatching(/^hash chain/));
  });
});
