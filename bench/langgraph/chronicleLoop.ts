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
export function loopModel(): ScriptedModel {
  let step = 0;
  return new ScriptedModel({ replies: () => stepMessage(++step), spec: LOOP_MODEL_SPEC });
}

/**
 * The Chronicle side of the workload on the real runtime: one session, `steps` turns, each a query answered by
 * the model above, asked one after the other as a user would. The runtime is configured as the CLI configures it
 * (the CLI's projections: tiered session state and climate; a checkpoint every 1 500 tokens) except that every
 * checkpoint is kept (`checkpointRetention: "all"`), the setting for fast answers about any past point; with the
 * default retention of 5 a point in the middle of a long session folds from the start. Returns each turn's wall
 * time in ms, from the ask to its recorded outcome.
 */
export async function runChronicleLoop(store: EventStore, sessionId: string, steps: number): Promise<number[]> {
  const model = loopModel();
  const models = () => model;
  const runtime = new ActorRuntime({ store, models, projections: sessionProjections(), checkpointRetention: 'all' });
  try {
    await startSession(runtime, sessionId, agentConfigFor({ model: LOOP_MODEL_SPEC }, models), BUDGET_TOKENS);
    const stepMs: number[] = [];
    for (let step = 1; step <= steps; step++) {
      const start = performance.now();
      const outcome = await askInSession(runtime, sessionId, { text: stepQuery(step), region: 'BD', purpose: 'climate_adaptation' });
      stepMs.push(performance.now() - start);
      if (outcome.status !== 'answered') throw new Error(`turn ${step - 1} of ${sessionId} was not answered: ${outcome.text}`);
      if (outcome.text !== stepMessage(step)) throw new Error(`turn ${step - 1} of ${sessionId} answered with another step's message`);
    }
    await runtime.settled();
    return stepMs;
  } finally {
    runtime.stop();
  }
}

/** The bare model on the same queries, no runtime at all: the floor under any framework (ms per step). */
export async function runBareModel(steps: number): Promise<number[]> {
  const model = loopModel();
  const stepMs: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const start = performance.now();
    await model.call({ requestId: `bare-${step}`, prompt: stepQuery(step), attempt: 1 });
    stepMs.push(performance.now() - start);
  }
  return stepMs;
}
