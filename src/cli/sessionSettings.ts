import { z } from 'zod';
import { purposeSchema, regionSchema } from '../policy/requestOrigin.ts';
import { cliConfigSchema, type CliConfig } from './cliConfig.ts';
import { UsageError } from './usageError.ts';
import { parseModelSpec } from '../models/modelSpec.ts';
import { API_KEY_VARIABLES } from '../models/credentials.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { ActorRuntime } from '../runtime/actorRuntime.ts';
import { sessionStream } from '../runtime/sessionStreams.ts';
import { DEFAULT_BREAKER_THRESHOLD, DEFAULT_MAX_ATTEMPTS } from '../runtime/sessionService.ts';

/** The flags of a command that records a query (`run`, `submit`), as node:util declares them. */
export const queryFlags = {
  region: { type: 'string' }, purpose: { type: 'string' }, model: { type: 'string' }, 'fallback-model': { type: 'string' },
  session: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** Those flags' values as zod checks them; each command extends it with its own. */
export const queryFlagsSchema = z.strictObject({
  region: regionSchema,
  purpose: purposeSchema,
  model: z.string().optional(),
  'fallback-model': z.string().optional(),
  session: z.string().regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only').optional(),
  store: z.string().optional(),
  json: z.boolean().optional(),
});

/**
 * A new session's settings: the `--model` / `--fallback-model` flags win over the config file, which wins over the
 * defaults; the spec strings are checked before anything is recorded.
 */
export function sessionSettingsOf(command: string, config: CliConfig, flags: { model?: string | undefined; 'fallback-model'?: string | undefined }) {
  const parsed = cliConfigSchema.pick({ model: true, fallbackModel: true }).safeParse({ model: flags.model, fallbackModel: flags['fallback-model'] });
  if (!parsed.success) throw new UsageError(`${command}: ${parsed.error.issues.map((i) => `--${i.path[0] === 'fallbackModel' ? 'fallback-model' : 'model'}: ${i.message}`).join('; ')}`);
  return {
    ...config,
    model: parsed.data.model ?? config.model ?? 'scripted',
    fallbackModel: parsed.data.fallbackModel ?? config.fallbackModel ?? null,
  };
}

/**
 * What a new session's settings will not do that their author may expect, one line each. A fallback takes over
 * once the breaker opens, after `breakerThreshold` failures in a row; a turn that gives up after `maxAttempts` never
 * gets that far, so with a threshold at or above it the fallback answers only later turns.
 */
export function settingsWarnings(settings: { fallbackModel: string | null; breakerThreshold?: number; maxAttempts?: number }): string[] {
  const threshold = settings.breakerThreshold ?? DEFAULT_BREAKER_THRESHOLD;
  const attempts = settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (settings.fallbackModel === null || threshold < attempts) return [];
  return [`chronicle: the fallback model ${settings.fallbackModel} cannot take over a turn whose primary keeps failing (timeouts, 5xx, rate limits): the breaker opens after ${threshold} failures in a row (breakerThreshold), and a turn gives up after ${attempts} attempts (maxAttempts); set breakerThreshold below maxAttempts for it to take over within the turn`];
}

/**
 * The hosted providers' keys a command that calls the models itself needs, checked before anything is recorded: a
 * missing key otherwise shows only as a turn recorded as failed ("auth"). Keys are read from the environment alone.
 * Not for `submit`, whose calls are the workers' (their environment holds the keys).
 */
export function assertModelKeys(command: string, specs: readonly (string | null)[], env: Record<string, string | undefined> = process.env): void {
  for (const spec of specs) {
    if (spec === null) continue;
    let provider: string;
    try {
      provider = parseModelSpec(spec).provider;
    } catch {
      continue; // a malformed spec is refused where the model is made, with the accepted forms
    }
    if (provider !== 'openai' && provider !== 'anthropic') continue;
    const variable = API_KEY_VARIABLES[provider];
    if (!env[variable]?.trim()) throw new UsageError(`${command}: ${variable} is not set, and ${spec} needs it; export it (keys are read from the environment only, never from flags or the config file)`);
  }
}

/**
 * A session keeps the models it was started with (its agents are configured from `session.started`), so a
 * `--model` or `--fallback-model` naming another model on a later turn would be silently ignored: refuse it
 * instead, naming what the session uses. Flags that repeat the session's own models are accepted.
 */
export async function assertSessionModels(
  command: string,
  runtime: ActorRuntime,
  sessionId: string,
  flags: { model?: string | undefined; 'fallback-model'?: string | undefined },
): Promise<void> {
  if (flags.model === undefined && flags['fallback-model'] === undefined) return;
  const agent = ((await runtime.snapshotOf(sessionStream(sessionId))).context as SessionContext).agent;
  // A session that was never started has no models yet; asking it reports the unknown session.
  if (agent === null) return;
  const differs = (flags.model !== undefined && flags.model !== agent.model) || (flags['fallback-model'] !== undefined && flags['fallback-model'] !== agent.fallbackModel);
  if (!differs) return;
  throw new UsageError(
    `${command}: session ${sessionId} was started with --model ${agent.model} and ${agent.fallbackModel === null ? 'no --fallback-model' : `--fallback-model ${agent.fallbackModel}`}, ` +
      'and a session keeps its models; leave those flags out to ask it again, or leave out --session to start a new session with other models',
  );
}

/** The config file's keys a session fixes when it starts (its agents' settings and its budget). */
const SESSION_FIXED = ['modelTimeoutMs', 'maxAttempts', 'breakerThreshold', 'breakerCooldownMs', 'retryBackoffMs', 'contextWindow', 'handoffReadinessMs'] as const;

/**
 * What the config file sets that a running session does not take: a session keeps the settings it started with, so
 * a later turn asked after the file changed runs under the old ones. Said, so a user who edited the file to shrink a
 * window or a budget is not left believing it applied. Empty when the file and the session agree.
 */
export async function settingsTheSessionKeeps(runtime: ActorRuntime, sessionId: string, config: CliConfig): Promise<string[]> {
  const context = (await runtime.snapshotOf(sessionStream(sessionId))).context as SessionContext;
  if (context.agent === null) return [];
  const agent = context.agent;
  const differs: string[] = [];
  for (const key of SESSION_FIXED) {
    const wanted = config[key];
    if (wanted !== undefined && wanted !== agent[key]) differs.push(`${key} ${wanted} (the session's: ${agent[key] ?? 'none, recorded before the setting existed'})`);
  }
  if (config.contextThresholds !== undefined && JSON.stringify(config.contextThresholds) !== JSON.stringify(agent.contextThresholds)) differs.push('contextThresholds');
  if (config.budgetTokens !== undefined && config.budgetTokens !== context.budgetTokens) differs.push(`budgetTokens ${config.budgetTokens} (the session's: ${context.budgetTokens})`);
  return differs;
}
