import type { StateDifference } from './auditProblem.ts';

/**
 * The paths at which two JSON-like values differ, depth first, at most `limit` of them. Recorded states went
 * through JSON, so a member that is `undefined` counts as absent, as it would after a round trip.
 */
export function stateDiff(expected: unknown, found: unknown, limit = 20, path = ''): StateDifference[] {
  const out: StateDifference[] = [];
  walk(expected, found, path, out, limit);
  return out;
}

function walk(expected: unknown, found: unknown, path: string, out: StateDifference[], limit: number): void {
  if (out.length >= limit || Object.is(expected, found)) return;
  if (Array.isArray(expected) && Array.isArray(found)) {
    for (let i = 0; i < Math.max(expected.length, found.length); i++) walk(expected[i], found[i], `${path}[${i}]`, out, limit);
    return;
  }
  if (isRecord(expected) && isRecord(found)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(found)]);
    for (const key of [...keys].sort()) walk(expected[key], found[key], path ? `${path}.${key}` : key, out, limit);
    return;
  }
  out.push({ path: path || '(whole value)', expected, found });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a path `stateDiff` produced (`a.b[2].c`), or undefined where the path does not lead. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.match(/[^.[\]]+/g) ?? []) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
