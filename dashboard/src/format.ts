/**
 * Predictable formats for the headline figures. Every figure's element also carries `data-value`, the raw number
 * the API returned (JavaScript's `String(number)`), so tests compare that with the CLI rather than parsing text.
 *
 *  - tokens, sessions, calls: integer, no separators ("1234")
 *  - USD cost: "$" + 6 decimals ("$0.000110")
 *  - energy Wh, gCO2e: 4 decimals; ranges as "central (min–max)"
 *  - true cost and its terms: exponential with 3 digits, terms signed ("+1.534e-6", "−4.602e-7")
 *  - shares: percent with 1 decimal ("42.0 %"); `data-value` holds the fraction 0..1
 */
export const integer = (n: number): string => Math.round(n).toFixed(0);
export const usd = (n: number): string => `$${n.toFixed(6)}`;
export const fixed4 = (n: number): string => n.toFixed(4);
export const spread = (s: { central: number; min: number; max: number }): string => `${fixed4(s.central)} (${fixed4(s.min)}–${fixed4(s.max)})`;
export const exp = (n: number): string => n.toExponential(3).replace('e+', 'e');
export const signed = (n: number): string => (n < 0 || Object.is(n, -0) ? `−${exp(-n)}` : `+${exp(n)}`);
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** An XState state value as a path: "turn.council.deliberating"; parallel regions joined with ", ". */
export function statePath(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (child === null || child === undefined || (typeof child === 'object' && Object.keys(child).length === 0)) paths.push(key);
    else for (const sub of statePath(child).split(', ')) paths.push(`${key}.${sub}`);
  }
  return paths.join(', ');
}

/** A value for a table cell: numbers as they are, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A number from a figure that is either a number or a { central, min, max } spread. */
export const central = (v: number | { central: number } | { total: number } | undefined): number =>
  v === undefined ? NaN : typeof v === 'number' ? v : 'central' in v ? v.central : v.total;
