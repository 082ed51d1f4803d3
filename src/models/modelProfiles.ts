import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../events/canonicalJson.ts';
import { MODEL_PROFILE_DATA } from './modelProfileTable.ts';

const profileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a lowercase id such as gpt-4o-mini'),
  provider: z.enum(['scripted', 'openai', 'anthropic', 'openai-compatible']),
  /** Other names providers use for the same model (dated snapshots, Ollama tags, Hugging Face ids). */
  aliases: z.array(z.string().min(1)),
  contextWindow: z.number().int().positive(),
  pricePer1kInput: z.number().nonnegative(),
  pricePer1kOutput: z.number().nonnegative(),
  parameters: z.strictObject({ activeBillions: z.number().positive(), totalBillions: z.number().positive() })
    .refine((p) => p.activeBillions <= p.totalBillions, 'activeBillions cannot exceed totalBillions'),
  source: z.string().min(20, 'say where the figures come from'),
  encoding: z.enum(['o200k_base', 'cl100k_base']),
  region: z.string().min(1),
});

const tableSchema = z.strictObject({
  version: z.string().min(1),
  profiles: z.array(profileSchema).min(1),
}).superRefine((table, ctx) => {
  const seen = new Map<string, string>();
  for (const profile of table.profiles) {
    // Lookups ignore case, so names must differ in more than case.
    for (const name of [profile.id, ...profile.aliases]) {
      const key = name.toLowerCase();
      const owner = seen.get(key);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['profiles'], message: `name "${name}" of profile ${profile.id} is already used by profile ${owner}` });
      seen.set(key, profile.id);
    }
  }
});

export type ModelProfile = z.infer<typeof profileSchema>;
export type ModelProfileTable = z.infer<typeof tableSchema>;

export class ModelProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelProfileError';
  }
}

/** Validates a profile table; the message lists every problem with its path. */
export function parseModelProfileTable(data: unknown): ModelProfileTable {
  const result = tableSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(table)'}: ${i.message}`);
  throw new ModelProfileError(`Invalid model profile table:\n${problems.join('\n')}`);
}

export const modelProfileTable: ModelProfileTable = parseModelProfileTable(MODEL_PROFILE_DATA);
export const modelProfileTableVersion: string = modelProfileTable.version;
/** sha256 of the table's canonical JSON: changes whenever any figure does, even if the version was not bumped. */
export const modelProfileTableHash: string = createHash('sha256').update(canonicalJson(modelProfileTable)).digest('hex');

const byName = new Map<string, ModelProfile>();
for (const profile of modelProfileTable.profiles) {
  for (const name of [profile.id, ...profile.aliases]) byName.set(name.toLowerCase(), profile);
}

export const modelProfileIds: readonly string[] = modelProfileTable.profiles.map((p) => p.id);

/** The profile with this id or alias (case-insensitive), or undefined. */
export function findModelProfile(idOrAlias: string): ModelProfile | undefined {
  return byName.get(idOrAlias.toLowerCase());
}

/** The profile with this id or alias; an unknown name is an error that lists the known ids. */
export function modelProfile(idOrAlias: string): ModelProfile {
  const profile = findModelProfile(idOrAlias);
  if (!profile) {
    throw new ModelProfileError(`Unknown model profile "${idOrAlias}" (table ${modelProfileTableVersion}). Known profiles: ${modelProfileIds.join(', ')}.`);
  }
  return profile;
}

/** The window assumed for a model the profile table does not know, unless the user gives one (`contextWindow`). */
export const DEFAULT_CONTEXT_WINDOW = 128_000;
