/**
 * Where two values first differ, as one line a failing test can print: `context.breaker.state: "open" ≠ "closed"`.
 * Null when they are equal (structurally, as JSON-like data: what snapshots and event data are).
 */
export function firstDifference(left: unknown, right: unknown, path = ''): string | null {
  if (Object.is(left, right)) return null;
  const at = path === '' ? '(the whole value)' : path;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) {
    return `${at}: ${show(left)} ≠ ${show(right)}`;
  }
  if (Array.isArray(left) !== Array.isArray(right)) return `${at}: ${show(left)} ≠ ${show(right)}`;
  if (Array.isArray(left) && Array.isArray(right)) {
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      if (i >= left.length || i >= right.length) return `${path}.length: ${left.length} ≠ ${right.length}`;
      const difference = firstDifference(left[i], right[i], `${path}[${i}]`);
      if (difference) return difference;
    }
    return null;
  }
  const a = left as Record<string, unknown>;
  const b = right as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const child = path === '' ? key : `${path}.${key}`;
    if (!(key in a) && b[key] !== undefined) return `${child}: missing ≠ ${show(b[key])}`;
    if (!(key in b) && a[key] !== undefined) return `${child}: ${show(a[key])} ≠ missing`;
    const difference = firstDifference(a[key], b[key], child);
    if (difference) return difference;
  }
  return null;
}

/** A value shortened for a message: JSON (bigints as numbers), cut at `max` characters. */
export function show(value: unknown, max = 120): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (value instanceof RegExp) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
