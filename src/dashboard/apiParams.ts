import { z } from 'zod';
import { parsePointInTime, PointInTimeError, type PointInTime } from '../runtime/pointInTime.ts';
import { ApiError } from './apiError.ts';

/** `at`: the CLI's `--at` grammar (a non-negative integer position, or an ISO time with a zone), absent = now. */
const at = z.string().transform((text, ctx): PointInTime => {
  try {
    return parsePointInTime(text);
  } catch (error) {
    if (!(error instanceof PointInTimeError)) throw error;
    ctx.addIssue({ code: 'custom', message: `"${text}" is neither a position (a non-negative integer, e.g. 42) nor an ISO 8601 time with a zone (e.g. 2026-11-24T10:15:00Z)` });
    return z.NEVER;
  }
});

const session = z.string().min(1, 'a session id, not empty');
export const seriesKeys = ['agent', 'region', 'purpose'] as const;
export type SeriesBy = (typeof seriesKeys)[number];

// Strict: a misspelt parameter (`?session_id=`) is refused rather than silently answered for the whole store.
export const pointQuery = z.strictObject({ at: at.optional() });
export const summaryQuery = z.strictObject({ at: at.optional(), session: session.optional() });
export const seriesQuery = z.strictObject({ at: at.optional(), by: z.enum(seriesKeys, { error: () => `one of ${seriesKeys.join(', ')}` }) });
export const noQuery = z.strictObject({});

/**
 * The query string validated by `schema`; a repeated parameter arrives as an array and is refused as not a string.
 * The first problem becomes a 400 naming its parameter: `at: "banana" is neither …`.
 */
export function queryParams<S extends z.ZodType>(params: URLSearchParams, schema: S): z.infer<S> {
  const raw: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const seen = raw[name];
    raw[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
  const problem = issue.code === 'unrecognized_keys' ? 'not a parameter of this endpoint' : issue.message;
  throw new ApiError(400, `${name}: ${problem}`);
}
