/** Which framework ran the loop, and whether it persisted anything. */
export type Side = 'langgraph' | 'chronicle';
export type Variant = 'baseline' | 'persisted';

/** Step wall times of one loop, summarised (ms per step). */
export interface StepTimes {
  steps: number;
  meanMs: number;
  /** Mean over the first and the last 10 % of the steps: how the cost of a step moves as history grows. */
  firstTenthMs: number;
  lastTenthMs: number;
}

/** Bytes on disk after the loop, the WAL checkpointed into the main file first. */
export interface Storage {
  fileBytes: number;
  /** What is left in the WAL after `PRAGMA wal_checkpoint(TRUNCATE)` (0 when it could be truncated). */
  walBytes: number;
  /** Part of the total held in rows of each kind (LangGraph: checkpoints / writes; Chronicle: event types), by stored column lengths. */
  rowBytesByKind: Record<string, { rows: number; bytes: number }>;
}

/** A point-in-time query asked several times (at several steps around N/2): its median wall time. */
export interface PointQuery {
  name: string;
  queries: number;
  p50Ms: number;
}

/** What one child process measured: one side, one variant, one N. */
export interface SideMeasurement {
  side: Side;
  variant: Variant;
  steps: number;
  times: StepTimes;
  /**
   * Chronicle's baseline only: the same loop on a SQLite file, stepped in turn with the baseline's in the same
   * process; the overhead is taken against these, not against the persisted run in another process.
   */
  pairedPersisted?: StepTimes;
  /** Baselines only: the step's own work with no framework at all (the message and its token count). */
  bareLoop?: StepTimes;
  storage?: Storage;
  stateAtHalf?: PointQuery[];
  history?: { items: number; ms: number };
  /** RSS when the child was done (after listing the history, for a persisted run), and its peak. */
  rssBytes: number;
  peakRssBytes: number;
}

export function stepTimes(stepMs: readonly number[]): StepTimes {
  const tenth = Math.max(1, Math.floor(stepMs.length / 10));
  return { steps: stepMs.length, meanMs: mean(stepMs), firstTenthMs: mean(stepMs.slice(0, tenth)), lastTenthMs: mean(stepMs.slice(-tenth)) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Steps around N/2 at which the state is asked for: the same steps on both sides, so neither is lucky alone. */
export function stepsAroundHalf(steps: number): number[] {
  const half = Math.floor(steps / 2);
  const spread = Math.min(7, half - 1);
  return Array.from({ length: 2 * spread + 1 }, (_, i) => half - spread + i);
}

export function memoryAtEnd(): { rssBytes: number; peakRssBytes: number } {
  return { rssBytes: process.memoryUsage().rss, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}
