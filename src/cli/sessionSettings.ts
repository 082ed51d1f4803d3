import { z } from 'zod';
import { purposeSchema, regionSchema } from '../policy/requestOrigin.ts';
import { cliConfigSchema, type CliConfig } from './cliConfig.ts';
import { UsageError } from './usageError.ts';

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
