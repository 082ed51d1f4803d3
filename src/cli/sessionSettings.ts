import { cliConfigSchema, type CliConfig } from './cliConfig.ts';
import { UsageError } from './usageError.ts';

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
