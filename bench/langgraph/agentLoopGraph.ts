import { Annotation, END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { stepMessage, tokensOf } from './workload.ts';

/** One message of the loop, with its token counts: plain data, the smallest state LangGraph can checkpoint for it. */
export interface LoopMessage {
  role: 'assistant';
  content: string;
  tokens: number;
}

const LoopState = Annotation.Root({
  messages: Annotation<LoopMessage[]>({ reducer: (all, added) => all.concat(added), default: () => [] }),
  steps: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  totalTokens: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
});

export type LoopValues = typeof LoopState.State;

/**
 * The LangGraph side of the workload: one `agent` node that appends a message with its tiktoken count and loops
 * back to itself until `steps` steps are done, all in one `invoke`, so each step is one super-step and, with a
 * checkpointer, exactly one checkpoint (LangGraph's default `durability: "async"` writes it while the next step
 * runs). `onStep` is called as each step starts: the gaps between calls are the steps' wall times.
 */
export function agentLoopGraph(steps: number, threadId: string, onStep: () => void, checkpointer?: BaseCheckpointSaver) {
  return new StateGraph(LoopState)
    .addNode('agent', (state: LoopValues) => {
      onStep();
      const content = stepMessage(state.steps + 1, threadId);
      const tokens = tokensOf(content);
      return { messages: [{ role: 'assistant' as const, content, tokens }], steps: state.steps + 1, totalTokens: state.totalTokens + tokens };
    })
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (state: LoopValues) => (state.steps < steps ? 'agent' : END))
    .compile(checkpointer ? { checkpointer } : {});
}

/** Runs the loop for `steps` steps on one thread; returns each step's wall time in ms, in step order. */
export async function runAgentLoop(steps: number, threadId: string, checkpointer?: BaseCheckpointSaver): Promise<{ stepMs: number[]; values: LoopValues }> {
  const starts: number[] = [];
  const graph = agentLoopGraph(steps, threadId, () => starts.push(performance.now()), checkpointer);
  const values = await graph.invoke({}, { configurable: { thread_id: threadId }, recursionLimit: steps + 10 });
  const end = performance.now();
  if (values.steps !== steps || values.messages.length !== steps) throw new Error(`LangGraph loop ran ${values.steps} steps with ${values.messages.length} messages, expected ${steps}`);
  return { stepMs: starts.map((start, i) => (starts[i + 1] ?? end) - start), values };
}
