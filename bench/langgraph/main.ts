import { runComparison } from './comparison.ts';
import { comparisonReport } from './comparisonReport.ts';
import { benchEnvironment } from './versions.ts';
import { STEP_COUNTS } from './workload.ts';

/**
 * `npm run bench:langgraph`: Chronicle against LangGraph.js on the same agent loop at N = 100, 1 000 and 5 000
 * steps (BENCH_LANGGRAPH_STEPS=100,1000 to choose others). Takes minutes and ~3 GB of scratch disk at 5 000.
 */
const steps = process.env.BENCH_LANGGRAPH_STEPS?.split(',').map(Number) ?? [...STEP_COUNTS];
const started = performance.now();
const runs = await runComparison(steps, (what) => process.stderr.write(`running: ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`));
console.log(comparisonReport(runs, benchEnvironment()).join('\n'));
console.log(`\nTotal time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
