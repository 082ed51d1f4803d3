import { statSync, existsSync } from 'node:fs';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { agentLoopGraph, runAgentLoop } from './agentLoopGraph.ts';
import { median, memoryAtEnd, stepsAroundHalf, stepTimes, type SideMeasurement, type Storage, type Variant } from './sideMeasurement.ts';
import { stepMessage, tokensOf, WARMUP_STEPS } from './workload.ts';

const THREAD = 'bench-thread';

/**
 * The LangGraph side in this process: the loop with no checkpointer (baseline), or checkpointed by `SqliteSaver`
 * to `dbPath` (persisted), then storage, `getState` by checkpoint id at the steps around N/2, and the whole
 * history listed with `getStateHistory`. The saver's connection gets `synchronous = NORMAL`, Chronicle's setting,
 * so both sides make the same durability promise (a process crash loses nothing; a power cut may lose the tail).
 */
export async function measureLangGraph(variant: Variant, steps: number, dbPath: string): Promise<SideMeasurement> {
  if (variant === 'baseline') {
    await runAgentLoop(WARMUP_STEPS, 'warmup');
    const { stepMs } = await runAgentLoop(steps, THREAD);
    runBareLoop(WARMUP_STEPS);
    return { side: 'langgraph', variant, steps, times: stepTimes(stepMs), bareLoop: stepTimes(runBareLoop(steps)), ...memoryAtEnd() };
  }
  const warmup = openSaver(`${dbPath}.warmup`);
  await runAgentLoop(WARMUP_STEPS, 'warmup', warmup);
  warmup.db.close();

  const saver = openSaver(dbPath);
  const { stepMs } = await runAgentLoop(steps, THREAD, saver);
  const storage = storageOf(saver, dbPath);
  const graph = agentLoopGraph(steps, THREAD, () => {}, saver);
  const config = { configurable: { thread_id: THREAD } };

  // The whole history, as a user lists it; the checkpoint ids of the steps asked about below are noted on the way.
  const wanted = new Set(stepsAroundHalf(steps));
  const idOfStep = new Map<number, string>();
  let items = 0;
  const listStart = performance.now();
  for await (const snapshot of graph.getStateHistory(config)) {
    items++;
    const step = snapshot.values.steps as number;
    if (wanted.has(step) && snapshot.metadata?.source === 'loop') idOfStep.set(step, snapshot.config.configurable!.checkpoint_id as string);
  }
  const historyMs = performance.now() - listStart;

  const queryMs: number[] = [];
  for (const step of wanted) {
    const checkpointId = idOfStep.get(step);
    if (checkpointId === undefined) throw new Error(`no checkpoint of step ${step} in the history`);
    const start = performance.now();
    const state = await graph.getState({ configurable: { thread_id: THREAD, checkpoint_id: checkpointId } });
    queryMs.push(performance.now() - start);
    if (state.values.steps !== step || state.values.messages.length !== step) throw new Error(`getState of step ${step} answered step ${state.values.steps}`);
  }
  saver.db.close();
  return {
    side: 'langgraph', variant, steps, times: stepTimes(stepMs), storage,
    stateAtHalf: [{ name: 'getState by checkpoint id', queries: queryMs.length, p50Ms: median(queryMs) }],
    history: { items, ms: historyMs },
    ...memoryAtEnd(),
  };
}

function openSaver(path: string): SqliteSaver {
  const saver = SqliteSaver.fromConnString(path);
  // Per connection; the saver switches the file to WAL itself on first use.
  saver.db.pragma('synchronous = NORMAL');
  return saver;
}

function storageOf(saver: SqliteSaver, path: string): Storage {
  saver.db.pragma('wal_checkpoint(TRUNCATE)');
  const rowBytesByKind: Storage['rowBytesByKind'] = {};
  for (const table of ['checkpoints', 'writes']) {
    const valueColumns = table === 'checkpoints' ? 'length(checkpoint) + length(metadata)' : 'length(value)';
    const row = saver.db.prepare(`SELECT count(*) AS rows, COALESCE(sum(${valueColumns}), 0) AS bytes FROM ${table}`).get() as { rows: number; bytes: number };
    rowBytesByKind[table] = row;
  }
  const wal = `${path}-wal`;
  return { fileBytes: statSync(path).size, walBytes: existsSync(wal) ? statSync(wal).size : 0, rowBytesByKind };
}

/** The node's own work with no graph around it: each step's message and its token count (ms per step). */
function runBareLoop(steps: number): number[] {
  const stepMs: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const start = performance.now();
    tokensOf(stepMessage(step, 'bare'));
    stepMs.push(performance.now() - start);
  }
  return stepMs;
}
