import { z } from 'zod';
import type { ModelFailureKind } from './modelCallError.ts';
import { findModelProfile, modelProfileIds } from './modelProfiles.ts';

/** One string chooses a model: `--model`, `CHRONICLE_MODEL`, or an agent's fallback. */
export const ACCEPTED_MODEL_SPEC_FORMS = [
  'scripted[:latency=<ms>,failRate=<0..1>,seed=<n>,failKinds=<kind|kind>,model=<profileId>]   e.g. scripted:seed=7,failRate=0.1',
  'openai:<model>                        e.g. openai:gpt-4o-mini   (OPENAI_API_KEY)',
  'anthropic:<model>                     e.g. anthropic:claude-sonnet-4-20250514   (ANTHROPIC_API_KEY)',
  'openai-compatible:<baseURL>#<model>   e.g. openai-compatible:http://localhost:11434/v1#llama3.1:8b   (Ollama, vLLM, LM Studio; OPENAI_COMPATIBLE_API_KEY optional)',
] as const;

/** A scripted model can be told to fail in every way a provider can; `aborted` is the caller's doing, not the model's. */
export const SCRIPTED_FAILURE_KINDS = ['timeout', 'rate-limit', 'server', 'malformed', 'auth', 'network', 'refused'] as const satisfies readonly Exclude<ModelFailureKind, 'aborted'>[];
export type ScriptedFailureKind = (typeof SCRIPTED_FAILURE_KINDS)[number];

export interface ScriptedModelSpec {
  provider: 'scripted';
  latencyMs: number;
  failRate: number;
  seed: number;
  failKinds: ScriptedFailureKind[];
  /** A profile id from the table: sets the reply's model name, encoding, context window and verbosity. */
  model: string;
}
export interface HostedModelSpec { provider: 'openai' | 'anthropic'; model: string }
export interface OpenAICompatibleModelSpec { provider: 'openai-compatible'; baseURL: string; model: string }
export type ModelSpec = ScriptedModelSpec | HostedModelSpec | OpenAICompatibleModelSpec;

export const SCRIPTED_DEFAULTS: Omit<ScriptedModelSpec, 'provider'> = {
  latencyMs: 0,
  failRate: 0,
  seed: 0,
  failKinds: ['rate-limit', 'server', 'timeout'],
  model: 'scripted-small',
};

export class ModelSpecError extends Error {
  readonly spec: string;
  readonly problem: string;

  constructor(spec: string, problem: string) {
    super(`Invalid model spec ${JSON.stringify(spec)}: ${problem}.\nAccepted forms:\n${ACCEPTED_MODEL_SPEC_FORMS.map((f) => `  ${f}`).join('\n')}`);
    this.name = 'ModelSpecError';
    this.spec = spec;
    this.problem = problem;
  }
}

const number = (name: string, what: string) => z.string().regex(/^-?\d+(\.\d+)?$/, `${name} must be ${what}`).transform(Number);

const scriptedParamsSchema = z.strictObject({
  // A timer longer than 2^31-1 ms overflows in Node and fires at once: the reply would come at once, not never.
  latency: number('latency', 'a number of milliseconds').pipe(z.number().nonnegative('latency cannot be negative').max(2_147_483_647, 'latency can be at most 2147483647 ms (about 24.8 days)')).optional(),
  failRate: number('failRate', 'a number from 0 to 1').pipe(z.number().min(0, 'failRate must be from 0 to 1').max(1, 'failRate must be from 0 to 1')).optional(),
  seed: z.string().regex(/^-?\d+$/, 'seed must be an integer').transform(Number).pipe(z.number().safe('seed is too large')).optional(),
  failKinds: z.string().transform((s) => s.split('|')).pipe(z.array(z.enum(SCRIPTED_FAILURE_KINDS, { error: `failKinds must be kinds joined by "|", from: ${SCRIPTED_FAILURE_KINDS.join(', ')}` })).min(1)).optional(),
  model: z.string().transform((id, ctx) => {
    const profile = findModelProfile(id);
    if (profile) return profile.id;
    ctx.addIssue({ code: 'custom', message: `model "${id}" is not a profile; known profiles: ${modelProfileIds.join(', ')}` });
    return z.NEVER;
  }).optional(),
});

const modelIdSchema = z.string().min(1, 'the model name is missing').regex(/^\S+$/, 'the model name cannot contain spaces');

const baseUrlSchema = z.url({ protocol: /^https?$/, error: 'the base URL must be an http(s) URL such as http://localhost:11434/v1' })
  .refine((url) => { const u = new URL(url); return u.username === '' && u.password === ''; }, 'put credentials in OPENAI_COMPATIBLE_API_KEY, not in the URL')
  // The spec is recorded in every event that names the model, and the SDK appends its path after the base URL,
  // so a query string would both be kept in the log (an `api_key=` in plain text) and break the endpoint's URL.
  .refine((url) => new URL(url).search === '' && !url.includes('?'), 'the base URL cannot carry a query string (it would be recorded in the log, and the endpoint path goes after it); put a key in OPENAI_COMPATIBLE_API_KEY')
  .transform((url) => url.replace(/\/+$/, ''));

function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `unknown scripted option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}; options are ${Object.keys(scriptedParamsSchema.shape).join(', ')}`;
  return issue.message;
}

function parseScripted(spec: string, rest: string | undefined): ScriptedModelSpec {
  const raw: Record<string, string> = {};
  for (const pair of rest === undefined ? [] : rest.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ModelSpecError(spec, `scripted options are key=value pairs separated by commas; got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    if (key in raw) throw new ModelSpecError(spec, `scripted option ${key} is given twice`);
    raw[key] = pair.slice(eq + 1).trim();
  }
  const result = scriptedParamsSchema.safeParse(raw);
  if (!result.success) throw new ModelSpecError(spec, firstProblem(result.error));
  const p = result.data;
  return {
    provider: 'scripted',
    latencyMs: p.latency ?? SCRIPTED_DEFAULTS.latencyMs,
    failRate: p.failRate ?? SCRIPTED_DEFAULTS.failRate,
    seed: p.seed ?? SCRIPTED_DEFAULTS.seed,
    failKinds: p.failKinds ? [...new Set(p.failKinds)] : [...SCRIPTED_DEFAULTS.failKinds],
    model: p.model ?? SCRIPTED_DEFAULTS.model,
  };
}

function parseWith<T>(spec: string, schema: z.ZodType<T>, value: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ModelSpecError(spec, firstProblem(result.error));
  return result.data;
}

/** Parses one model spec string; anything malformed throws a `ModelSpecError` naming the problem. */
export function parseModelSpec(input: string): ModelSpec {
  const spec = input.trim();
  if (spec === '') throw new ModelSpecError(input, 'it is empty');
  const colon = spec.indexOf(':');
  const provider = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? undefined : spec.slice(colon + 1);
  switch (provider) {
    case 'scripted':
      return parseScripted(spec, rest === '' ? undefined : rest);
    case 'openai':
    case 'anthropic':
      return { provider, model: parseWith(spec, modelIdSchema, rest ?? '') };
    case 'openai-compatible': {
      const hash = rest?.lastIndexOf('#') ?? -1;
      if (rest === undefined || hash < 0) throw new ModelSpecError(spec, 'openai-compatible needs a base URL and a model, as <baseURL>#<model>');
      return { provider, baseURL: parseWith(spec, baseUrlSchema, rest.slice(0, hash)), model: parseWith(spec, modelIdSchema, rest.slice(hash + 1)) };
    }
    default:
      throw new ModelSpecError(spec, `unknown provider "${provider}"`);
  }
}

/** The canonical string for a spec, with every default spelled out: what a log should record. */
export function formatModelSpec(spec: ModelSpec): string {
  switch (spec.provider) {
    case 'scripted':
      return `scripted:latency=${spec.latencyMs},failRate=${spec.failRate},seed=${spec.seed},failKinds=${spec.failKinds.join('|')},model=${spec.model}`;
    case 'openai-compatible':
      return `openai-compatible:${spec.baseURL}#${spec.model}`;
    default:
      return `${spec.provider}:${spec.model}`;
  }
}
