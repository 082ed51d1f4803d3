import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { agentConfig } from '../events/catalogue.ts';
import { parseModelSpec } from '../models/modelSpec.ts';
import { DEFAULT_STORE_URI } from '../store/openEventStore.ts';
import { UsageError } from './usageError.ts';

const modelSpec = z.string().superRefine((spec, ctx) => {
  try {
    parseModelSpec(spec);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** `chronicle.config.json`: defaults for the CLI; flags given on the command line win. */
export const cliConfigSchema = z.strictObject({
  store: z.string().optional(),
  model: modelSpec.optional(),
  fallbackModel: modelSpec.nullable().optional(),
  modelTimeoutMs: z.number().int().positive().optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  breakerThreshold: z.number().int().min(1).optional(),
  breakerCooldownMs: z.number().int().positive().optional(),
  /** The base of an agent's backoff before retrying a failure the provider gave no retry-after for (default 500: a first wait of 250–500 ms, doubling). */
  retryBackoffMs: z.number().int().positive().optional(),
  /** A checkpoint each time a session's usage crosses another multiple of this many tokens (0: never). */
  checkpointEveryTokens: z.number().int().min(0).optional(),
  /** Checkpoints kept per session: the newest N, or "all" so any point of a long session is a short fold away. */
  checkpointRetention: z.union([z.number().int().min(1), z.literal('all')]).optional(),
  /** A new session's token budget. */
  budgetTokens: z.number().int().positive().optional(),
  /** The agents' context window, when the model profile's is not the one to use (e.g. a small local model). */
  contextWindow: z.number().int().positive().optional(),
  /** Shares of the window at which agents report pressure; the session hands over between turns. */
  contextThresholds: agentConfig.shape.contextThresholds,
  handoffReadinessMs: z.number().int().positive().optional(),
  /** Sessions working on a turn at once; more wait, admitted by climate-justice priority (emergencies first). */
  maxActiveTurns: z.number().int().min(1).optional(),
  /** Triage's complexity score from which a turn goes to a council (default 0.5). */
  councilThreshold: z.number().gt(0).lt(1).optional(),
  /** A model to delegate triage to; its decision is recorded (and the rules stand in, saying why, if it gives none). */
  triageModel: modelSpec.optional(),
});

export type CliConfig = z.infer<typeof cliConfigSchema>;

export const CONFIG_FILE = 'chronicle.config.json';

/** Reads the config named by `CHRONICLE_CONFIG`, else `./chronicle.config.json` if present, else nothing. */
export function loadCliConfig(cwd = process.cwd()): CliConfig {
  const path = process.env.CHRONICLE_CONFIG ? resolve(cwd, process.env.CHRONICLE_CONFIG) : resolve(cwd, CONFIG_FILE);
  if (!existsSync(path)) {
    if (process.env.CHRONICLE_CONFIG) throw new UsageError(`config: CHRONICLE_CONFIG names ${path}, which does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`config: ${path} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = cliConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UsageError(`config: ${path}: ${problems}. Accepted keys: ${Object.keys(cliConfigSchema.shape).join(', ')}`);
  }
  return parsed.data;
}

/**
 * The store a command uses: `--store`, else `CHRONICLE_STORE`, else the config file's `store`, else the embedded
 * default. Every command resolves it the same way, so a `resume` finds what a `run` recorded.
 */
export function cliStoreUri(flag: string | undefined): string {
  return flag ?? (process.env.CHRONICLE_STORE || loadCliConfig().store || DEFAULT_STORE_URI);
}
