import { scratchDir } from '../fixtures.ts';
import { runSide } from './runSide.ts';
import type { SideMeasurement, Side, Variant } from './sideMeasurement.ts';
import { STEP_COUNTS } from './workload.ts';

/** The four runs at one N, each in its own process. */
export interface RunsAtN {
  steps: number;
  langgraph: { baseline: SideMeasurement; persisted: SideMeasurement };
  chronicle: { baseline: SideMeasurement; persisted: SideMeasurement };
}

/**
 * Both sides at every N: for each N, LangGraph without and with its SQLite checkpointer, then Chronicle on the
 * in-memory and on the SQLite store, one child process each, scratch files in the OS temp dir removed as soon as
 * that N is done (LangGraph's file is ~3 GB at 5 000 steps). `onProgress` hears about each run as it starts.
 */
export async function runComparison(stepCounts: readonly number[] = STEP_COUNTS, onProgress: (what: string) => void = () => {}): Promise<RunsAtN[]> {
  const results: RunsAtN[] = [];
  for (const steps of stepCounts) {
    const scratch = scratchDir();
    try {
      const run = (side: Side, variant: Variant) => {
        onProgress(`${side} ${variant} N=${steps}`);
        return runSide(side, variant, steps, scratch.file(`${side}-${variant}.db`));
      };
      const langgraph = { baseline: await run('langgraph', 'baseline'), persisted: await run('langgraph', 'persisted') };
      const chronicle = { baseline: await run('chronicle', 'baseline'), persisted: await run('chronicle', 'persisted') };
      results.push({ steps, langgraph, chronicle });
    } finally {
      scratch.dispose();
    }
  }
  return results;
}
