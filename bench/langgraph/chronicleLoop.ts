import { sessionProjections } from '../../src/cli/sessionProjections.ts';
import { ScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { stepMessage, stepQuery } from './workload.ts';

/** The spec the session records for its agent; the model behind it is the zero-latency scripted one below. */
export const LOOP_MODEL_SPEC = 'scripted:latency=0';
/** Enough that 5 000 turns of ~700 tokens never run out (the default 20 000 would after ~25 turns). */
const BUDGET_TOKENS = 1_000_000_000;

/**
 * A zero-latency scripted model whose n-th reply is step n's ~200-character message. The spec string cannot set a
 * reply's length (generated replies run 55–390 tokens), so the replies are scripted; usage is still counted with
 * tiktoken, as for every scripted reply.
 */
export function loopModel(thread: string): ScriptedModel {
  let step = 0;
  return new ScriptedModel({ replies: () => stepMessage(++step, thread), spec: LOOP_MODEL_SPEC });
}

/** One session on its own runtime, stepped from outside: each `step()` asks the next query and waits for its answer. */
export interface ChronicleLoop {
  /** Runs the next step; its wall time in ms, from the ask to its recorded outcome. */
  step(): Promise<number>;
  /** Waits for trailing work (quota returns, checkpoints), then stops the runtime. */
  finish(): Promise<void>;
}

/**
 * The Chronicle side of the workload on the real runtime: one session whose turns are queries answered by the
 * model above, asked one after the other as a user would. The runtime is configured as the CLI configures it
 * (the CLI's projections: tiered session state and climate; a checkpoint every 1 500 tokens) except that every
 * checkpoint is kept (`checkpointRetention: "all"`), the setting for fast answers about any past point; with the
 * default retention of 5 a point in the middle of a long session folds from the start.
 */
export async function openChronicleLoop(store: EventStore, sessionId: string): Promise<ChronicleLoop> {
  const model = loopModel(sessionId);
  const models = () => model;
  const runtime = new ActorRuntime({ store, models, projections: sessionProjections(), checkpointRetention: 'all' });
  await startSession(runtime, sessionId, agentConfigFor({ model: LOOP_MODEL_SPEC }, models), BUDGET_TOKENS);
  let step = 0;
  return {
    async step() {
      step++;
      const start = performance.now();
      const outcome = await askInSession(runtime, sessionId, { text: stepQuery(step, sessionId), region: 'BD', purpose: 'climate_adaptation' });
      const ms = performance.now() - start;
      if (outcome.status !== 'answered') throw new Error(`turn ${step - 1} of ${sessionId} was not answered: ${outcome.text}`);
      if (outcome.text !== stepMessage(step, sessionId)) throw new Error(`turn ${step - 1} of ${sessionId} answered with another step's message`);
      return ms;
    },
    async finish() {
      try {
        await runtime.settled();
      } finally {
        runtime.stop();
      }
    },
  };
}

/** Runs `steps` steps of one loop; each step's wall time in ms. */
export async function runChronicleLoop(store: EventStore, sessionId: string, steps: number): Promise<number[]> {
  const loop = await openChronicleLoop(store, sessionId);
  const stepMs: number[] = [];
  try {
    for (let i = 0; i < steps; i++) stepMs.push(await loop.step());
  } finally {
    await loop.finish();
  }
  return stepMs;
}

/**
 * Two loops stepped in turn, which one goes first alternating: a shared machine's load then weighs on both alike,
 * so the difference of their step times is not the noise between two runs minutes apart. Their texts differ
 * (each session's id is in them), so neither finds token counts the other made.
 */
export async function runInterleaved(first: EventStore, second: EventStore, steps: number): Promise<[number[], number[]]> {
  const loops = [await openChronicleLoop(first, 'first'), await openChronicleLoop(second, 'second')] as const;
  const times: [number[], number[]] = [[], []];
  try {
    for (let i = 0; i < steps; i++) {
      for (const which of i % 2 === 0 ? [0, 1] as const : [1, 0] as const) times[which].push(await loops[which].step());
    }
  } finally {
    await Promise.all(loops.map((loop) => loop.finish()));
  }
  return times;
}

/** The bare model on the same queries, no runtime at all: the floor under any framework (ms per step). */
export async function runBareModel(steps: number): Promise<number[]> {
  const model = loopModel('bare');
  const stepMs: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const start = performance.now();
    await model.call({ requestId: `bare-${step}`, prompt: stepQuery(step, 'bare'), attempt: 1 });
    stepMs.push(performance.now() - start);
  }
  return stepMs;
}
