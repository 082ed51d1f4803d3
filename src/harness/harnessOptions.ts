import { z } from 'zod';
import { notACalendarDate } from '../runtime/pointInTime.ts';
import type { AgentConfig } from '../events/catalogue.ts';
import type { CheckpointRetention } from '../runtime/checkpoints.ts';
import type { Query, SessionSettings } from '../runtime/sessionService.ts';
import type { EventStore } from '../store/eventStore.ts';
import { modelScriptSchema, type ModelScript } from './modelScript.ts';

export interface HarnessOptions {
  /** Seeds every id the runtime makes, so two runs of a test record the same log (default `harness`). */
  seed?: string;
  /** Where the simulated clock starts (ISO time or epoch ms; default 2026-01-01T00:00:00Z). */
  startAt?: string | number;
  /** Replies and failures by role and turn (see `RoleScript`). A `triage` entry delegates triage to a model. */
  script?: ModelScript;
  /** What an unscripted call gets: a deterministic generated reply (default), or a failure that `ask` reports. */
  unscripted?: 'generate' | 'fail';
  /** Simulated latency of each model call a script step does not time itself (default 100 ms). */
  latencyMs?: number;
  /** Defaults for every session this harness starts (model, fallback, timeouts, breaker…); `startSession` may override. */
  session?: Partial<SessionSettings>;
  /** Agents' context window (tokens): small windows make hand-offs happen in a few turns. */
  contextWindow?: number;
  /** Context-window shares at which agents report pressure. */
  contextThresholds?: AgentConfig['contextThresholds'];
  /** Each session's token budget (default 20 000). */
  budgetTokens?: number;
  maxActiveTurns?: number;
  councilThreshold?: number;
  /** A model spec for delegated triage; defaults to `triage` when the script has a `triage` role. */
  triageModel?: string;
  /** A checkpoint every this many tokens of a session's usage (default 1 500; 0: never). */
  checkpointEveryTokens?: number;
  checkpointRetention?: CheckpointRetention;
  /** Region and purpose of a query given as bare text (default KE, climate_adaptation). */
  region?: string;
  purpose?: string;
  /** The most simulated time one `ask`, `waitFor` or `drive` may take before it fails (default 10 minutes). */
  maxDriveMs?: number;
  /** Another store to record in (default: a fresh in-memory store). */
  store?: EventStore;
}

const positiveInt = z.number().int().positive();
const thresholds = z.strictObject({ collective: z.number(), warning: z.number(), checkpoint: z.number(), handoff: z.number() });

export const harnessOptionsSchema = z.strictObject({
  seed: z.string().min(1).optional(),
  // A time the clock can start at: checked here, not found later as "Invalid time value" inside a start.
  startAt: z.union([z.string().min(1), z.number()])
    .refine((at) => Number.isFinite(new Date(at).getTime()) && Math.abs(new Date(at).getTime()) <= 8.64e15, 'a date the clock can start at: an ISO 8601 time such as "2026-01-01T00:00:00Z" or ms since 1970')
    .refine((at) => typeof at !== 'string' || notACalendarDate(at) === undefined, { error: (issue) => `${notACalendarDate(String(issue.input))}: give a day the month has` })
    .optional(),
  script: modelScriptSchema.optional(),
  unscripted: z.enum(['generate', 'fail']).optional(),
  latencyMs: z.number().nonnegative().optional(),
  session: z.record(z.string(), z.unknown()).optional(),
  contextWindow: positiveInt.optional(),
  contextThresholds: thresholds.optional(),
  budgetTokens: positiveInt.optional(),
  maxActiveTurns: positiveInt.optional(),
  councilThreshold: z.number().gt(0).lt(1).optional(),
  triageModel: z.string().min(1).optional(),
  checkpointEveryTokens: z.number().int().nonnegative().optional(),
  checkpointRetention: z.union([z.literal('all'), positiveInt]).optional(),
  region: z.string().optional(),
  purpose: z.string().optional(),
  maxDriveMs: positiveInt.optional(),
  store: z.custom<EventStore>((value) => typeof value === 'object' && value !== null && 'appendToStreams' in value, 'an EventStore').optional(),
});

/** Session ids name streams (`agent-<id>.<role>.<n>`): a dot would cut the id short. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only (session ids are part of stream names)');

export const queryInputSchema = z.union([
  z.string().min(1),
  z.strictObject({ text: z.string().min(1), region: z.string().optional(), purpose: z.string().optional() }),
]);
export type QueryInput = string | { text: string; region?: string; purpose?: string };

export function queryOf(input: QueryInput, defaults: { region: string; purpose: string }): Query {
  const parsed = queryInputSchema.parse(input);
  return typeof parsed === 'string'
    ? { text: parsed, ...defaults }
    : { text: parsed.text, region: parsed.region ?? defaults.region, purpose: parsed.purpose ?? defaults.purpose };
}

/** A fact for `send`: its type and data as recorded (`{ type, data }`), optionally with its own id and cause. */
export interface FactInput { type: string; data?: unknown; eventId?: string; causationId?: string | null }

export const factInputSchema = z.strictObject({
  type: z.string().min(1),
  data: z.unknown().optional(),
  eventId: z.uuid().optional(),
  causationId: z.string().nullable().optional(),
});
