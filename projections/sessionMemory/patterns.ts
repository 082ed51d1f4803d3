import type { Episode, EpisodeMode } from './episodes.ts';

/** Running sums per (purpose, region, mode): sums, not means, so folding in halves gives the same state. */
export interface PatternSums {
  purpose: string;
  region: string;
  mode: EpisodeMode;
  turns: number;
  tokens: number;
  /** Σ |actual − budgeted| / budgeted × 100. */
  absBudgetErrorPct: number;
  handoffs: number;
}

export interface Pattern {
  purpose: string;
  region: string;
  mode: EpisodeMode;
  turns: number;
  meanTokens: number;
  meanAbsBudgetErrorPct: number;
  /** Completed hand-offs per turn. */
  handoffRate: number;
}

export function patternKey(e: { purpose: string; region: string; mode: string }): string {
  return `${e.purpose}|${e.region}|${e.mode}`;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function addTurn(patterns: Readonly<Record<string, PatternSums>>, e: Episode, handoffs: number): Record<string, PatternSums> {
  const key = patternKey(e);
  const p = patterns[key] ?? { purpose: e.purpose, region: e.region, mode: e.mode, turns: 0, tokens: 0, absBudgetErrorPct: 0, handoffs: 0 };
  const absError = e.budgeted > 0 ? Math.abs(round2(((e.tokens - e.budgeted) / e.budgeted) * 100)) : 0;
  return { ...patterns, [key]: { ...p, turns: p.turns + 1, tokens: p.tokens + e.tokens, absBudgetErrorPct: round2(p.absBudgetErrorPct + absError), handoffs: p.handoffs + handoffs } };
}

export function addHandoff(patterns: Readonly<Record<string, PatternSums>>, key: string): Record<string, PatternSums> {
  const p = patterns[key];
  return p === undefined ? { ...patterns } : { ...patterns, [key]: { ...p, handoffs: p.handoffs + 1 } };
}

/** The patterns as means, most turns first, then by key (deterministic). */
export function patternsOf(patterns: Readonly<Record<string, PatternSums>>): Pattern[] {
  return Object.entries(patterns)
    .sort(([ka, a], [kb, b]) => b.turns - a.turns || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([, p]) => ({
      purpose: p.purpose, region: p.region, mode: p.mode, turns: p.turns,
      meanTokens: Math.round(p.tokens / p.turns),
      meanAbsBudgetErrorPct: round2(p.absBudgetErrorPct / p.turns),
      handoffRate: round2(p.handoffs / p.turns),
    }));
}
