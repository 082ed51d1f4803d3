import { ModelCallError } from './modelCallError.ts';

export type HostedProvider = 'openai' | 'anthropic' | 'openai-compatible';

/** Keys come only from the environment; the spec string never carries one. */
export const API_KEY_VARIABLES: Record<HostedProvider, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
};

/**
 * The provider's key, read at call time so that building a model (and parsing its spec) works offline without one.
 * Local OpenAI-compatible servers usually need none, so theirs is optional.
 */
export function apiKeyFor(provider: HostedProvider, env: Record<string, string | undefined>, modelSpec: string): string | undefined {
  const variable = API_KEY_VARIABLES[provider];
  const key = env[variable]?.trim();
  if (key) return key;
  if (provider === 'openai-compatible') return undefined;
  throw new ModelCallError('auth', `${variable} is not set; export it to call ${modelSpec}`);
}

// A bearer token of any length: a short key (a local server's "k3y") is below the exact-key rule's floor, and a
// provider echoing the Authorization header would otherwise put it in the log.
const KEY_SHAPES = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi];

/**
 * Removes credentials from text bound for the log: the exact keys we hold, and anything shaped like an OpenAI or
 * Anthropic key or a bearer token (providers echo partial keys in 401 messages).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  for (const shape of KEY_SHAPES) out = out.replace(shape, '[redacted]');
  return out;
}
