import { measureChronicle } from './chronicleSide.ts';
import { measureLangGraph } from './langGraphSide.ts';
import type { Side, Variant } from './sideMeasurement.ts';

/**
 * Child process entry: `node sideProcess.ts <langgraph|chronicle> <baseline|persisted> <steps> <dbPath>`. One
 * side, one variant, one N per process, so the RSS it reports belongs to that run alone. The measurement is
 * printed as one JSON line on stdout.
 */
const [side, variant, steps, dbPath] = process.argv.slice(2) as [Side, Variant, string, string];
const measure = side === 'langgraph' ? measureLangGraph : measureChronicle;
const measurement = await measure(variant, Number(steps), dbPath);
process.stdout.write(`${JSON.stringify(measurement)}\n`);
