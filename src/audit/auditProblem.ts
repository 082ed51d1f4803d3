/** The four things an audit verifies, in the order it reports them: a broken chain explains most of what follows. */
export const AUDIT_CHECKS = ['chain', 'determinism', 'projections', 'causality'] as const;
export type AuditCheck = (typeof AUDIT_CHECKS)[number];

/** A path into a state whose values differ, e.g. `context.totals.outputTokens`, with both values. */
export interface StateDifference {
  path: string;
  expected: unknown;
  found: unknown;
}

/**
 * One finding, placed exactly: the stream, revision and global position of the event it is about (null when the
 * finding is about something missing that never had a place, such as a revision a checkpoint covers but the
 * stream no longer holds: then the nearest place known is given), what was expected and what was found.
 */
export interface AuditProblem {
  check: AuditCheck;
  /** A stable key for the kind of finding, e.g. `hash-mismatch`, `state-diverged`, `outcome-without-request`. */
  kind: string;
  streamId: string;
  revision: bigint | null;
  position: bigint | null;
  eventType: string | null;
  /** One self-contained line: where, what was expected, what was found. */
  message: string;
  expected?: unknown;
  found?: unknown;
  /** For state and projection comparisons: every path whose values differ (expected: the recorded side). */
  diff?: StateDifference[];
  /** Further detail for machines reading `--json` (the checkpoint compared against, the narrowed interval…). */
  detail?: Record<string, unknown>;
}

/** `stream "s" revision r (position p, type)`: how every finding names its place. */
export function describePlace(p: { streamId: string; revision: bigint | null; position: bigint | null; eventType: string | null }): string {
  const inner = [p.position === null ? null : `position ${p.position}`, p.eventType].filter((x) => x !== null).join(', ');
  return `stream "${p.streamId}"${p.revision === null ? '' : ` revision ${p.revision}`}${inner ? ` (${inner})` : ''}`;
}

/** Findings in report order: by check (chain first), then by where they are in the log. */
export function byReportOrder(a: AuditProblem, b: AuditProblem): number {
  const check = AUDIT_CHECKS.indexOf(a.check) - AUDIT_CHECKS.indexOf(b.check);
  if (check !== 0) return check;
  const pa = a.position ?? -1n;
  const pb = b.position ?? -1n;
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (a.streamId !== b.streamId) return a.streamId < b.streamId ? -1 : 1;
  return Number((a.revision ?? -1n) - (b.revision ?? -1n));
}

/** Compact JSON of a value for a one-line message, cut to `max` characters. */
export function shortJson(value: unknown, max = 80): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
