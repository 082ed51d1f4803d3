import { DatabaseSync } from 'node:sqlite';
import { createModel } from '../src/models/createModel.ts';
import { forgetTokenCounts } from '../src/models/tokenCount.ts';
import { ActorRuntime } from '../src/runtime/actorRuntime.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { modelResolver } from '../src/runtime/modelResolver.ts';
import type { AppendResult, EventStore, StreamAppend } from '../src/store/eventStore.ts';
import { MemoryEventStore } from '../src/store/memoryEventStore.ts';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { openRawDatabase, scratchDir, type RawRow } from './fixtures.ts';
import { actorStreamsOf, BENCH_MODEL, runSessions } from './sessionFixtures.ts';

/** One row of the model-call table; every time is in ms per model call. */
export interface OverheadResult {
  name: string;
  calls: number;
  eventsPerCall: number;
  appendsPerCall: number;
  /** Wall time of the whole run (start session, ask, answer recorded) divided by the number of model calls. */
  endToEndMs: number;
  /** The scripted model alone answering the same prompts. */
  bareModelMs: number;
  /** `endToEndMs - bareModelMs`: the runtime, the machines and the store. */
  overheadMs: number;
  /** The part of the end-to-end time spent inside `SqliteEventStore.appendToStream` (validate, seal, write, commit). */
  appendMs: number;
  /** Raw `node:sqlite` INSERTs of the same rows in the same transactions: the floor for this many commits. */
  rawSqliteMs: number;
  /** The same case's overhead with no checkpoints written (`checkpointEveryTokens: 0`): what checkpoints cost. */
  withoutCheckpointsMs: number;
  /**
   * The same case's overhead on `MemoryEventStore`: every event still validated, sealed and hash-chained, but no
   * SQLite at all. What is left when persistence costs nothing: the runtime, machines, projections and sealing.
   */
  memoryStoreMs: number;
  /** The most overhead per call we aim for (ms). */
  goalMs?: number;
}

/**
 * Model calls made before each timed run, on the same runtime and file: enough for V8 to have compiled the hot
 * paths with its optimising tier (a runtime that hosts sessions runs for hours). Counted in calls, not sessions, so
 * one-turn cases are warmed as much as ten-turn ones: 30 one-turn sessions left them ~15 % slower than steady state.
 */
const WARMUP_CALLS = 300;
const GOAL_MS = 1;
/**
 * Each case makes 200 timed model calls. Ten-turn sessions show the steady cost of a call in a running session;
 * one-turn sessions charge each call with a whole session (start, first turn, agent created, ledger opened).
 */
const CASES = [
  { name: 'sequential', concurrency: 1, sessions: 20, turns: 10 },
  { name: '8 sessions at a time', concurrency: 8, sessions: 20, turns: 10 },
  { name: 'sequential', concurrency: 1, sessions: 200, turns: 1 },
  { name: '8 sessions at a time', concurrency: 8, sessions: 200, turns: 1 },
] as const;
/**
 * Best of three rounds, each on a fresh file, as the bare model is timed: a shared VM's noise otherwise dominates a
 * ~1 s measurement (single rounds of the same case moved by ±20 % in one session).
 */
const ROUNDS = 3;

/** Counts what the runtime asks of the store: appends, events per append, and the time spent inside them. */
class CountingSqliteStore extends SqliteEventStore {
  batchSizes: number[] = [];
  appendMs = 0;

  // The runtime writes each group of facts with one multi-stream append (one transaction); the SQLite adapter does
  // all its work before its first await, so this times exactly one transaction.
  override appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const start = performance.now();
    const result = super.appendToStreams(appends);
    this.appendMs += performance.now() - start;
    this.batchSizes.push(appends.reduce((n, part) => n + part.events.length, 0));
    return result;
  }
}

interface RuntimeRun {
  ms: number;
  appendMs: number;
  /** The prompts the timed model calls sent, in call order. */
  prompts: string[];
  /** The timed appends' sizes in append order, and the rows they wrote in position order (the same order). */
  batchSizes: number[];
  rows: RawRow[];
}

/**
 * Chronicle's own cost per model call, end to end through `ActorRuntime` on the default SQLite store
 * (WAL, synchronous=NORMAL) with a zero-latency scripted model: start a session, ask one query, wait for its
 * recorded answer; wall time divided by the number of model calls. The bare model answering the same prompts,
 * called directly in the same run, is subtracted: what remains is the runtime, the machines and the store (every
 * fact and effect request appended before it is acted on). For scale, the same rows are also written with raw
 * INSERTs in the same transactions: the floor any design with that many commits per call would pay.
 */
export async function benchModelCallOverhead(): Promise<OverheadResult[]> {
  const scratch = scratchDir();
  try {
    const results: OverheadResult[] = [];
    for (const [index, { name, concurrency, sessions, turns }] of CASES.entries()) {
      let best: RuntimeRun | undefined;
      for (let round = 0; round < ROUNDS; round++) {
        const run = await runThroughRuntime(scratch.file(`model-calls-${index}-${round}.db`), { concurrency, sessions, turns });
        if (!best || run.ms < best.ms) best = run;
      }
      const { ms, appendMs, prompts, batchSizes, rows } = best!;
      const calls = prompts.length;
      const bareModelMs = await bareModelMsPerCall(prompts);
      const rawSqliteMs = await rawInsertMs(scratch.file(`model-calls-raw-${index}.db`), batchSizes, rows) / calls;
      const endToEndMs = ms / calls;
      const shape = { concurrency, sessions, turns };
      const withoutCheckpointsMs = await bestMsPerCall((round) => new SqliteEventStore(scratch.file(`model-calls-${index}-${round}-no-checkpoints.db`)), shape, 0) - bareModelMs;
      const memoryStoreMs = await bestMsPerCall(() => new MemoryEventStore(), shape) - bareModelMs;
      results.push({
        name: `${name}, ${sessions} sessions × ${turns} turn${turns === 1 ? '' : 's'}`, calls, eventsPerCall: rows.length / calls, appendsPerCall: batchSizes.length / calls,
        endToEndMs, bareModelMs, overheadMs: endToEndMs - bareModelMs, appendMs: appendMs / calls, rawSqliteMs, withoutCheckpointsMs, memoryStoreMs, goalMs: GOAL_MS,
      });
    }
    return results;
  } finally {
    scratch.dispose();
  }
}

/** One timed run on a fresh file, after warm-up sessions on the same file. */
async function runThroughRuntime(path: string, { concurrency, sessions, turns }: { concurrency: number; sessions: number; turns: number }): Promise<RuntimeRun> {
  const store = new CountingSqliteStore(path);
  try {
    const resolve = modelResolver(systemClock);
    // Every checkpoint kept, so the file holds every row the timed appends wrote (the raw baseline rewrites them).
    const runtime = new ActorRuntime({ store, models: resolve, checkpointRetention: 'all' });
    let sessionIds: string[];
    let ms: number;
    let firstTimedPosition: bigint;
    try {
      await runSessions(runtime, resolve, { prefix: 'warmup', sessions: Math.ceil(WARMUP_CALLS / turns), turns, concurrency });
      store.batchSizes = [];
      store.appendMs = 0;
      firstTimedPosition = store.lastPosition() + 1n;
      const start = performance.now();
      sessionIds = await runSessions(runtime, resolve, { prefix: 'timed', sessions, turns, concurrency });
      ms = performance.now() - start;
    } finally {
      runtime.stop();
    }
    // Outside the timing: the prompts the agents actually sent, for the bare model to answer.
    const prompts: string[] = [];
    for (const streamId of sessionIds.flatMap(actorStreamsOf)) {
      for await (const event of store.readStream(streamId)) {
        if (event.type === 'model.requested') prompts.push((event.data as { prompt: string }).prompt);
      }
    }
    if (prompts.length !== sessions * turns) throw new Error(`expected ${sessions * turns} model calls, the log shows ${prompts.length}`);
    const { batchSizes, appendMs } = store;
    await store.close();
    const rows = storedRows(path, firstTimedPosition);
    const appended = batchSizes.reduce((sum, size) => sum + size, 0);
    if (rows.length !== appended) throw new Error(`the timed appends wrote ${appended} events, the file holds ${rows.length} after them`);
    return { ms, appendMs, prompts, batchSizes, rows };
  } finally {
    await store.close();
  }
}

/**
 * The same case timed as `runThroughRuntime` times it (warm-up on the same runtime, best of ROUNDS, each on a fresh
 * store) on another store or checkpoint setting: ms per model call, end to end.
 */
async function bestMsPerCall(
  openStore: (round: number) => EventStore,
  { concurrency, sessions, turns }: { concurrency: number; sessions: number; turns: number },
  checkpointEveryTokens?: number,
): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const store = openStore(round);
    const resolve = modelResolver(systemClock);
    const runtime = new ActorRuntime({ store, models: resolve, checkpointRetention: 'all', ...(checkpointEveryTokens === undefined ? {} : { checkpointEveryTokens }) });
    try {
      await runSessions(runtime, resolve, { prefix: 'warmup', sessions: Math.ceil(WARMUP_CALLS / turns), turns, concurrency });
      const start = performance.now();
      await runSessions(runtime, resolve, { prefix: 'timed', sessions, turns, concurrency });
      best = Math.min(best, (performance.now() - start) / (sessions * turns));
    } finally {
      runtime.stop();
      await store.close();
    }
  }
  return best;
}

/** The rows as stored, exact bytes, from a position on, in position order (which is append order here). */
function storedRows(path: string, fromPosition: bigint): RawRow[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const select = db.prepare('SELECT stream_id, revision, event_id, type, data, metadata, recorded_at FROM events WHERE position >= ? ORDER BY position');
    select.setReturnArrays(true);
    return select.all(fromPosition) as unknown as RawRow[];
  } finally {
    db.close();
  }
}

/** Raw INSERTs of `rows` into a fresh file, one `BEGIN IMMEDIATE … COMMIT` per recorded append; total ms. */
async function rawInsertMs(path: string, batchSizes: number[], rows: RawRow[]): Promise<number> {
  const raw = openRawDatabase(path);
  try {
    const start = performance.now();
    let next = 0;
    for (const size of batchSizes) {
      raw.writeTransaction(rows, next, next + size);
      next += size;
    }
    return performance.now() - start;
  } finally {
    await raw.close();
  }
}

/** The scripted model alone on the same prompts, one call after another: text generation and token counting. */
async function bareModelMsPerCall(prompts: string[]): Promise<number> {
  const model = createModel(BENCH_MODEL);
  const callAll = async (round: string) => {
    // Each round counts as the live run did, seeing every prompt and reply for the first time.
    forgetTokenCounts();
    for (const [i, prompt] of prompts.entries()) await model.call({ requestId: `${round}-${i}`, prompt, attempt: 1 });
  };
  await callAll('warmup');
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    await callAll(`round${round}`);
    best = Math.min(best, performance.now() - start);
  }
  return best / prompts.length;
}
