import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { sessionProjections } from '../../src/cli/sessionProjections.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { PointInTime } from '../../src/runtime/pointInTime.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { runBareModel, runChronicleLoop, runInterleaved } from './chronicleLoop.ts';
import { median, memoryAtEnd, stepsAroundHalf, stepTimes, type PointQuery, type SideMeasurement, type Storage, type Variant } from './sideMeasurement.ts';
import { WARMUP_STEPS } from './workload.ts';

const SESSION = 'bench';

/**
 * The Chronicle side in this process. Baseline: the same loop on the SQLite store opened on `:memory:`, where the
 * runtime does all its work (machines, triage, ledger, hash chain, checkpoints, the same SQL) and nothing reaches
 * a disk, stepped in turn with the same loop on a SQLite file in the same process, so the difference of the two
 * is what persisting costs (as LangGraph's is the difference its checkpointer makes) and not the noise between
 * two runs. The runtime cannot run with no store at all (write-ahead is how it works), and `MemoryEventStore` is
 * no baseline at these lengths: it filters a whole stream on every read (in one run here, 21 ms per step at
 * 5 000 steps against 16 ms on a SQLite file). The bare model is timed too, for the whole runtime's cost.
 * Persisted: the loop on a SQLite file, then storage, the state at the steps around N/2 by position and by time
 * (`sessionStateAt`, as `chronicle state --at` asks), and the session's whole history in global order
 * (`readSessionEvents`, as `chronicle events <sessionId>` reads it).
 */
export async function measureChronicle(variant: Variant, steps: number, dbPath: string): Promise<SideMeasurement> {
  if (variant === 'baseline') {
    const warmup = new SqliteEventStore(`${dbPath}.warmup`);
    await runInterleaved(new SqliteEventStore(':memory:'), warmup, WARMUP_STEPS);
    await warmup.close();
    const paired = new SqliteEventStore(`${dbPath}.paired`);
    const [stepMs, pairedMs] = await runInterleaved(new SqliteEventStore(':memory:'), paired, steps);
    await paired.close();
    await runBareModel(WARMUP_STEPS);
    const bareLoop = stepTimes(await runBareModel(steps));
    return { side: 'chronicle', variant, steps, times: stepTimes(stepMs), pairedPersisted: stepTimes(pairedMs), bareLoop, ...memoryAtEnd() };
  }
  const warmup = new SqliteEventStore(`${dbPath}.warmup`);
  await runChronicleLoop(warmup, 'warmup', WARMUP_STEPS);
  await warmup.close();

  let store = new SqliteEventStore(dbPath);
  const stepMs = await runChronicleLoop(store, SESSION, steps);
  await store.close();
  const storage = storageOf(dbPath);

  store = new SqliteEventStore(dbPath);
  try {
    const listStart = performance.now();
    const events = await readSessionEvents(store, SESSION);
    const historyMs = performance.now() - listStart;
    const stateAtHalf = await statesAroundHalf(store, steps, events);
    return { side: 'chronicle', variant, steps, times: stepTimes(stepMs), storage, stateAtHalf, history: { items: events.length, ms: historyMs }, ...memoryAtEnd() };
  } finally {
    await store.close();
  }
}

/** The state after step s (turn s − 1 completed), by that event's position and by its recorded time. */
async function statesAroundHalf(store: SqliteEventStore, steps: number, events: readonly RecordedEvent[]): Promise<PointQuery[]> {
  const completed = new Map(events.filter((e) => e.type === 'turn.completed').map((e) => [(e.data as { turn: number }).turn, e]));
  const projections = sessionProjections();
  const ask = async (step: number, at: PointInTime): Promise<number> => {
    const start = performance.now();
    const state = await sessionStateAt(store, SESSION, at, projections);
    const ms = performance.now() - start;
    const session = state.actors.find((actor) => actor.actorKind === 'session');
    const turn = (session?.context as SessionContext | undefined)?.turn;
    if (turn !== step) throw new Error(`the state after step ${step} (${JSON.stringify(at)}) has the session at turn ${turn}`);
    return ms;
  };
  const byPosition: number[] = [];
  const byTime: number[] = [];
  for (const step of stepsAroundHalf(steps)) {
    const event = completed.get(step - 1);
    if (!event) throw new Error(`no turn.completed for turn ${step - 1}`);
    byPosition.push(await ask(step, { position: event.position }));
    byTime.push(await ask(step, { time: event.metadata.recordedAt }));
  }
  return [
    { name: 'sessionStateAt by position', queries: byPosition.length, p50Ms: median(byPosition) },
    { name: 'sessionStateAt by time', queries: byTime.length, p50Ms: median(byTime) },
  ];
}

/** File and WAL after a WAL checkpoint, and the stored bytes of each event type (every text column of its rows). */
function storageOf(path: string): Storage {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const rows = db.prepare(`SELECT type, count(*) AS rows,
      sum(length(stream_id) + length(event_id) + length(type) + length(data) + length(metadata) + length(recorded_at)) AS bytes
      FROM events GROUP BY type ORDER BY bytes DESC`).all() as { type: string; rows: number; bytes: number }[];
    const rowBytesByKind = Object.fromEntries(rows.map((r) => [r.type, { rows: Number(r.rows), bytes: Number(r.bytes) }]));
    const wal = `${path}-wal`;
    return { fileBytes: statSync(path).size, walBytes: existsSync(wal) ? statSync(wal).size : 0, rowBytesByKind };
  } finally {
    db.close();
  }
}
