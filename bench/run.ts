import { cpus } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import type { BenchResult } from './fixtures.ts';
import { benchModelCallOverhead, type OverheadResult } from './modelCallOverhead.ts';
import { benchPointInTime } from './pointInTime.ts';
import { benchRehydration, type RehydrationResult } from './rehydration.ts';
import { benchReadAll } from './readAll.ts';
import { benchReplay } from './replay.ts';
import { benchSqliteAppend } from './sqliteAppend.ts';
import { runComparison } from './langgraph/comparison.ts';
import { comparisonReport } from './langgraph/comparisonReport.ts';
import { benchEnvironment } from './langgraph/versions.ts';

/**
 * `npm run bench`: Chronicle against a baseline doing the same work without it, measured in the same run so the
 * ratio holds on any machine even though absolute numbers do not: the SQLite store against raw `node:sqlite` on
 * the same rows, replay against bare XState actors fed the same events, and a model call through the runtime
 * against the bare model. Not part of `npm test`: timings are noisy. Point-in-time queries and projection folds
 * have no baseline: they are measured against their goal on one ~100 000-event session built once per run. Last,
 * LangGraph.js on the same agent loop (bench/langgraph, also `npm run bench:langgraph`), with its own goals.
 */
const THROUGHPUT_BENCHES: { title: string; run: () => Promise<BenchResult[]> }[] = [
  { title: 'SqliteEventStore.appendToStream vs raw INSERT', run: benchSqliteAppend },
  { title: 'SqliteEventStore.readAll vs raw SELECT + JSON.parse', run: benchReadAll },
  { title: 'replay (replayStreams, and readStream + foldActor one stream at a time) vs bare XState actors', run: benchReplay },
];
const LATENCY_BENCHES: { title: string; run: () => Promise<OverheadResult[]> }[] = [
  { title: 'model call through ActorRuntime vs the bare scripted model', run: benchModelCallOverhead },
];

const started = performance.now();
const sqliteVersion = (new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
console.log(`Chronicle bench: node ${process.version}, SQLite ${sqliteVersion}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}`);
console.log('Goals: batched append (batch 100 and 1 000) ≥ 0.5× raw node:sqlite inserts of the same rows;');
console.log('       replay from the store ≥ 0.4× bare XState actors fed the same events from memory;');
console.log('       ≤ 1 ms of Chronicle overhead per model call (zero-latency scripted model, SQLite, synchronous=NORMAL);');
console.log('       point-in-time state of a random position in a 100 000-event session, with checkpoints: p50 ≤ 3 ms.\n');

const throughput: BenchResult[] = [];
for (const bench of THROUGHPUT_BENCHES) throughput.push(...await timed(bench.title, bench.run));
const latency: OverheadResult[] = [];
for (const bench of LATENCY_BENCHES) latency.push(...await timed(bench.title, bench.run));
const rehydration: RehydrationResult[] = await timed('rehydration of a long session: newest checkpoint vs whole stream', benchRehydration);
// Its own cross-checks (checkpoint state against an independent fold) can fail; the other results still print.
let pointInTimeFailure: Error | undefined;
const [pointInTime] = await timed('point-in-time (sessionStateAt) and projection folds, one 100 000-event session', async () => [await benchPointInTime()])
  .catch((error: Error) => { pointInTimeFailure = error; return [undefined]; });

const header = ['case', 'events', 'Chronicle ev/s', 'baseline ev/s', 'Chronicle/baseline', 'goal'];
const rows = throughput.map((r) => {
  const ratio = r.chroniclePerSec / r.rawPerSec;
  const goal = r.goal === undefined ? '—' : `≥ ${r.goal.toFixed(2)}× ${ratio >= r.goal ? 'met' : 'MISSED'}`;
  return [r.name, int(r.events), int(r.chroniclePerSec), int(r.rawPerSec), `${ratio.toFixed(2)}×`, goal];
});
console.log(`\n${table(header, rows)}`);
console.log('Baseline: raw node:sqlite on the same rows (append, readAll); bare XState actors fed the same events from memory (replay).');

const latencyHeader = ['case (ms per model call)', 'calls', 'events', 'appends', 'end-to-end', 'bare model', 'overhead', 'in appendToStream', 'raw SQLite, same txns', 'no checkpoints', 'memory store', 'goal'];
const latencyRows = latency.map((r) => {
  const goal = r.goalMs === undefined ? '—' : `≤ ${r.goalMs.toFixed(1)} ms ${r.overheadMs <= r.goalMs ? 'met' : 'MISSED'}`;
  return [r.name, int(r.calls), r.eventsPerCall.toFixed(1), r.appendsPerCall.toFixed(1), ms(r.endToEndMs), ms(r.bareModelMs), ms(r.overheadMs), ms(r.appendMs), ms(r.rawSqliteMs), ms(r.withoutCheckpointsMs), ms(r.memoryStoreMs), goal];
});
console.log(`\n${table(latencyHeader, latencyRows)}`);
console.log('overhead = end-to-end − bare model. "in appendToStream" is part of it; "raw SQLite" writes the same rows with');
console.log('raw INSERTs in the same transactions (events and appends are per model call), the floor for that many commits.');
console.log('"no checkpoints" and "memory store" are the overhead of the same case run again with checkpointEveryTokens 0,');
console.log('and on MemoryEventStore (every event validated, sealed and hash-chained, no SQLite): what is left without each.');

const rehydrationHeader = ['case (ms to rebuild on a freshly opened store)', 'events', 'from newest checkpoint', 'whole stream', 'faster'];
console.log(`\n${table(rehydrationHeader, rehydration.map((r) => [r.name, int(r.events), ms(r.fromCheckpointMs), ms(r.wholeStreamMs), `${(r.wholeStreamMs / r.fromCheckpointMs).toFixed(0)}×`]))}`);
console.log('What `resume` or `run --session` in a new process pays per actor: the checkpoint\'s snapshot folded on from where');
console.log('its open effects begin, against the stream read and folded from its start (how actors were rebuilt before).');

if (pointInTime) printPointInTime(pointInTime);
else {
  console.log(`\npoint-in-time bench FAILED its own check: ${pointInTimeFailure?.message}`);
  process.exitCode = 1;
}

function printPointInTime(pointInTime: Awaited<ReturnType<typeof benchPointInTime>>): void {
const pitHeader = ['case (ms per sessionStateAt)', 'queries', 'p50', 'p95', 'goal'];
const pitRows = pointInTime.latency.map((r) => {
  const goal = r.goalMs === undefined ? '—' : `p50 ≤ ${r.goalMs.toFixed(0)} ms ${r.p50Ms <= r.goalMs ? 'met' : 'MISSED'}`;
  return [r.name, int(r.queries), ms(r.p50Ms), ms(r.p95Ms), goal];
});
console.log(`\n${table(pitHeader, pitRows)}`);
const foldHeader = ['projection fold, in memory, same session', 'events', 'events/s', 'µs per event'];
console.log(`\n${table(foldHeader, pointInTime.folds.map((r) => [r.name, int(r.events), int(r.perSec), (1e6 / r.perSec).toFixed(2)]))}`);
for (const note of pointInTime.notes) console.log(note);
console.log();
}

// LangGraph.js on the same agent loop: each side in its own child processes, so this process's RSS below is not theirs.
try {
  const langGraphStarted = performance.now();
  const runs = await runComparison(undefined, (what) => process.stdout.write(`running: LangGraph comparison, ${what} (${((performance.now() - langGraphStarted) / 1000).toFixed(0)} s)\n`));
  console.log(`\n${comparisonReport(runs, benchEnvironment()).join('\n')}\n`);
} catch (error) {
  console.log(`\nLangGraph comparison FAILED: ${(error as Error).message}\n`);
  process.exitCode = 1;
}

const memory = process.memoryUsage();
// Mostly the pre-built fixtures (100 000 events held twice: objects and serialised rows), not the store itself.
console.log(`RSS at end: ${mib(memory.rss)} (peak ${mib(process.resourceUsage().maxRSS * 1024)}, includes pre-built fixtures), heap used ${mib(memory.heapUsed)}`);
console.log(`Total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);

async function timed<T>(title: string, run: () => Promise<T[]>): Promise<T[]> {
  const t0 = performance.now();
  process.stdout.write(`running: ${title} … `);
  const results = await run();
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return results;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  // Text columns left-aligned, numbers right-aligned, as a markdown renderer would be told to.
  const numeric = head.map((_, i) => i > 0 && i < head.length - 1);
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en');
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function ms(value: number): string {
  return value.toFixed(2);
}
