import type { RunsAtN } from './comparison.ts';
import type { SideMeasurement, StepTimes } from './sideMeasurement.ts';

/** One line of the comparison: a figure at one N for both sides, their ratio, and the goal with its verdict. */
export interface ComparisonRow {
  what: string;
  steps: number;
  langgraph: string;
  chronicle: string;
  ratio: string;
  goal: string;
}

/** The goals of issue 9. */
export const GOALS = {
  /** Chronicle's bytes at the largest N at most this share of LangGraph's. */
  storageShare: 1 / 100,
  /** Bytes per step at the largest N within this share of those at the next N down: growth linear in N. */
  linearTolerance: 0.2,
  overheadMs: 0.5,
  /** Last 10 % of the steps at most this much (ms, or share of the first 10 %, whichever is larger) above the first. */
  flatToleranceMs: 0.25,
  flatToleranceShare: 0.25,
  historySpeedup: 100,
} as const;

export function comparisonRows(runs: readonly RunsAtN[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const largest = runs.at(-1)?.steps;
  for (const [index, run] of runs.entries()) {
    const { steps } = run;
    const lg = run.langgraph.persisted;
    const ch = run.chronicle.persisted;
    const lgBytes = bytesOf(lg);
    const chBytes = bytesOf(ch);
    const share = chBytes / lgBytes;
    rows.push({
      what: 'storage: SQLite file + WAL', steps, langgraph: size(lgBytes), chronicle: size(chBytes), ratio: fraction(share),
      goal: steps === largest ? `≤ 1/${1 / GOALS.storageShare} ${verdict(share <= GOALS.storageShare)}` : '—',
    });
    const previous = runs[index - 1];
    const growth = previous ? (chBytes / steps) / (bytesOf(previous.chronicle.persisted) / previous.steps) : undefined;
    rows.push({
      what: 'storage per step', steps, langgraph: size(lgBytes / steps), chronicle: size(chBytes / steps), ratio: fraction(share),
      goal: growth === undefined ? '—' : `ours linear: ${growth.toFixed(2)}× the per-step bytes at N=${previous!.steps} ${verdict(Math.abs(growth - 1) <= GOALS.linearTolerance)}`,
    });
    const lgOverhead = overhead(run.langgraph.persisted.times, run.langgraph.baseline.times);
    // Chronicle's against the file run stepped in turn with its baseline: the same load weighed on both.
    const chOverhead = overhead(run.chronicle.baseline.pairedPersisted ?? run.chronicle.persisted.times, run.chronicle.baseline.times);
    rows.push({
      what: 'per-step overhead over no persistence (mean)', steps, langgraph: ms(lgOverhead.mean), chronicle: ms(chOverhead.mean), ratio: ratio(chOverhead.mean, lgOverhead.mean),
      goal: `≤ ${GOALS.overheadMs} ms ${verdict(chOverhead.mean <= GOALS.overheadMs)}`,
    });
    rows.push({
      what: 'same, first 10 % → last 10 % of steps', steps, langgraph: `${ms(lgOverhead.first)} → ${ms(lgOverhead.last)}`, chronicle: `${ms(chOverhead.first)} → ${ms(chOverhead.last)}`, ratio: '—',
      goal: `flat ${verdict(chOverhead.last - chOverhead.first <= Math.max(GOALS.flatToleranceMs, GOALS.flatToleranceShare * Math.abs(chOverhead.first)))}`,
    });
    rows.push({
      what: 'step wall time, persisted run: first 10 % → last 10 %', steps, langgraph: `${ms(lg.times.firstTenthMs)} → ${ms(lg.times.lastTenthMs)}`,
      chronicle: `${ms(ch.times.firstTenthMs)} → ${ms(ch.times.lastTenthMs)}`, ratio: ratio(ch.times.lastTenthMs, lg.times.lastTenthMs), goal: '—',
    });
    const lgBare = run.langgraph.baseline.bareLoop!.meanMs;
    const chPaired = run.chronicle.baseline.pairedPersisted ?? ch.times;
    const chBare = run.chronicle.baseline.bareLoop!.meanMs;
    rows.push({
      what: 'step mean: persisted / no persistence / bare loop', steps, langgraph: `${ms(lg.times.meanMs)} / ${ms(run.langgraph.baseline.times.meanMs)} / ${ms(lgBare)}`,
      chronicle: `${ms(chPaired.meanMs)} / ${ms(run.chronicle.baseline.times.meanMs)} / ${ms(chBare)}`, ratio: ratio(chPaired.meanMs, lg.times.meanMs), goal: '—',
    });
    const lgState = lg.stateAtHalf![0]!;
    for (const query of ch.stateAtHalf!) {
      rows.push({
        what: `state as of step N/2, p50 of ${query.queries} (${query.name.replace('sessionStateAt ', '')})`, steps, langgraph: ms(lgState.p50Ms), chronicle: ms(query.p50Ms),
        ratio: ratio(query.p50Ms, lgState.p50Ms), goal: `≤ LangGraph's ${verdict(query.p50Ms <= lgState.p50Ms)}`,
      });
    }
    const speedup = lg.history!.ms / ch.history!.ms;
    rows.push({
      what: 'list the whole history', steps, langgraph: `${duration(lg.history!.ms)} (${int(lg.history!.items)} checkpoints)`, chronicle: `${duration(ch.history!.ms)} (${int(ch.history!.items)} events)`,
      ratio: `${speedup.toFixed(1)}× faster`, goal: `≥ ${GOALS.historySpeedup}× faster ${verdict(speedup >= GOALS.historySpeedup)}`,
    });
    rows.push({ what: 'RSS at end (peak)', steps, langgraph: `${mib(lg.rssBytes)} (${mib(lg.peakRssBytes)})`, chronicle: `${mib(ch.rssBytes)} (${mib(ch.peakRssBytes)})`, ratio: ratio(ch.rssBytes, lg.rssBytes), goal: '—' });
  }
  return rows;
}

/** Chronicle's bytes by event type at one N, largest first, per step: where the bytes go. */
export function chronicleBytesByType(run: RunsAtN): { type: string; perStep: number; bytesPerStep: number; share: number }[] {
  const kinds = run.chronicle.persisted.storage!.rowBytesByKind;
  const total = Object.values(kinds).reduce((sum, k) => sum + k.bytes, 0);
  return Object.entries(kinds)
    .map(([type, k]) => ({ type, perStep: k.rows / run.steps, bytesPerStep: k.bytes / run.steps, share: k.bytes / total }))
    .sort((a, b) => b.bytesPerStep - a.bytesPerStep);
}

function bytesOf(m: SideMeasurement): number {
  return m.storage!.fileBytes + m.storage!.walBytes;
}

function overhead(persisted: StepTimes, baseline: StepTimes): { mean: number; first: number; last: number } {
  return { mean: persisted.meanMs - baseline.meanMs, first: persisted.firstTenthMs - baseline.firstTenthMs, last: persisted.lastTenthMs - baseline.lastTenthMs };
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** A share below 1 as "1/x" (storage goals are stated that way), above 1 as a multiple. */
function fraction(share: number): string {
  return share < 1 ? `1/${(1 / share).toFixed(1)}` : `${share.toFixed(1)}×`;
}

function ratio(chronicle: number, langgraph: number): string {
  return `${(chronicle / langgraph).toFixed(2)}×`;
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function duration(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : ms(value);
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en');
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes.toFixed(0)} B`;
}
