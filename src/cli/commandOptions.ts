import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { UsageError } from './usageError.ts';

/**
 * Parses a command's flags with node:util and validates them with its zod schema, so every CLI input error
 * names the flag and what it accepts.
 */
export function commandOptions<S extends z.ZodType>(command: string, args: string[], flags: NonNullable<ParseArgsConfig['options']>, schema: S): { values: z.infer<S>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util says a value starting with "-" over three lines; one line, with what to type instead.
    const dashed = /^Option '(--[\w-]+)' argument is ambiguous/.exec((error as Error).message);
    throw new UsageError(`${command}: ${dashed ? `${dashed[1]} was given no value, or one starting with "-" (write ${dashed[1]}=<value> for such a value)` : (error as Error).message}`);
  }
  const values = schema.safeParse(parsed.values);
  if (!values.success) {
    // A flag left out is said as such, not as zod's "expected string, received undefined".
    const problems = values.error.issues.map((i) => {
      const missing = parsed.values[String(i.path[0])] === undefined;
      return `--${i.path.join('.')}: ${!missing ? i.message : i.message.startsWith('Invalid input') ? 'required' : `required; ${i.message}`}`;
    }).join('; ');
    throw new UsageError(`${command}: ${problems}`);
  }
  return { values: values.data, positionals: parsed.positionals };
}
