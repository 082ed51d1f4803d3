import type { z } from 'zod';
import { ASK_ZOD, compileSchema, type CompiledSchema } from './compiledSchema.ts';
import { EventSchemaError, zodProblems, type EventPlace } from './eventSchemaError.ts';

/** Turns data written under `fromVersion` of a type into data of `fromVersion + 1`. Must be pure. */
export type Upcaster = (data: unknown) => unknown;

interface TypeEntry {
  currentVersion: number;
  schema: z.ZodType;
  /** The schema's fast path (see compiledSchema.ts), built on first use; null when zod must do it all. */
  compiled?: CompiledSchema | null;
  /** The same for data the caller owns (just parsed from stored text): returns it uncopied when it is zod's output. */
  compiledOwned?: CompiledSchema | null;
  upcasters: Map<number, Upcaster>;
}

/**
 * Every event type Chronicle may append or read, each with the zod schema of its current version and the
 * upcasters that lift older versions to it. Data is validated on append (against the current version) and on
 * read (after upcasting), so a store never hands out data its readers did not agree to.
 */
export class EventRegistry {
  private readonly types = new Map<string, TypeEntry>();

  /** Registers `type` at `schemaVersion` (default 1). Older versions are reached through `upcaster()`. */
  define(type: string, schema: z.ZodType, options: { schemaVersion?: number } = {}): this {
    if (!/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/.test(type)) {
      throw new TypeError(`Event type "${type}" must be dotted lower-camel words, e.g. "session.started"`);
    }
    if (this.types.has(type)) throw new TypeError(`Event type "${type}" is already defined`);
    this.types.set(type, { currentVersion: options.schemaVersion ?? 1, schema, upcasters: new Map() });
    return this;
  }

  /** Registers how data of `type` at `fromVersion` becomes data at `fromVersion + 1`. */
  upcaster(type: string, fromVersion: number, upcast: Upcaster): this {
    const entry = this.entry(type, { streamId: '(registry)' });
    if (fromVersion >= entry.currentVersion) {
      throw new TypeError(`Upcaster for "${type}" from v${fromVersion}: the current version is v${entry.currentVersion}, so only older versions can be upcast`);
    }
    entry.upcasters.set(fromVersion, upcast);
    return this;
  }

  has(type: string): boolean {
    return this.types.has(type);
  }

  currentVersion(type: string): number {
    return this.entry(type, { streamId: '(registry)' }).currentVersion;
  }

  get eventTypes(): string[] {
    return [...this.types.keys()];
  }

  /**
   * Validates data about to be appended; returns the data to store (the schema's output). An older version is
   * accepted only as a copy of a recorded event (fork, import), which must keep its bytes for its hash to hold: it
   * is checked as a read would check it (upcast, then validated) and stored as given, so every reader of this build
   * can read it. New facts are written at the current version.
   */
  parseForAppend(type: string, schemaVersion: number | undefined, data: unknown, place: EventPlace): { data: unknown; schemaVersion: number } {
    const entry = this.entry(type, place);
    if (schemaVersion !== undefined && schemaVersion < entry.currentVersion && schemaVersion >= 1 && Number.isSafeInteger(schemaVersion)) {
      this.parseRecorded(type, schemaVersion, data, place);
      return { data, schemaVersion };
    }
    if (schemaVersion !== undefined && schemaVersion !== entry.currentVersion) {
      throw new EventSchemaError({
        place, eventType: type, schemaVersion,
        problems: [{ path: 'metadata.schemaVersion', message: `is ${schemaVersion} but this build writes versions 1 to ${entry.currentVersion} of it` }],
        fix: 'Omit metadata.schemaVersion or set it to the current version; a newer version needs a newer Chronicle.',
      });
    }
    const fast = validFast(entry, data);
    if (fast !== ASK_ZOD) return { data: fast, schemaVersion: entry.currentVersion };
    const parsed = entry.schema.safeParse(data);
    if (!parsed.success) {
      throw new EventSchemaError({
        place, eventType: type, schemaVersion: entry.currentVersion, problems: zodProblems('data', parsed.error),
        fix: `Fix the data to match the schema of "${type}" v${entry.currentVersion}.`,
      });
    }
    return { data: parsed.data, schemaVersion: entry.currentVersion };
  }

  /**
   * Upcasts recorded data to the current version and validates it. `owned`: the data was just parsed for this call
   * and nobody else holds it, so valid data can be returned as it is instead of as zod's copy of it.
   */
  parseRecorded(type: string, schemaVersion: number, data: unknown, place: EventPlace, options: { owned?: boolean } = {}): unknown {
    const entry = this.entry(type, place);
    if (schemaVersion > entry.currentVersion) {
      throw new EventSchemaError({
        place, eventType: type, schemaVersion,
        problems: [{ path: 'metadata.schemaVersion', message: `is newer than this build knows (v${entry.currentVersion})` }],
        fix: 'Upgrade Chronicle to a version that defines it.',
      });
    }
    let current = data;
    for (let version = schemaVersion; version < entry.currentVersion; version++) {
      const upcast = entry.upcasters.get(version);
      if (!upcast) {
        throw new EventSchemaError({
          place, eventType: type, schemaVersion,
          problems: [{ path: 'metadata.schemaVersion', message: `v${version} has no upcaster to v${version + 1}` }],
          fix: `Register registry.upcaster("${type}", ${version}, fn).`,
        });
      }
      current = upcast(current);
    }
    const fast = options.owned ? validOwned(entry, current) : validFast(entry, current);
    if (fast !== ASK_ZOD) return fast;
    const parsed = entry.schema.safeParse(current);
    if (!parsed.success) {
      throw new EventSchemaError({
        place, eventType: type, schemaVersion,
        problems: zodProblems('data', parsed.error),
        fix: schemaVersion === entry.currentVersion
          ? 'The recorded data violates its schema: the record was altered or written by a faulty writer.'
          : `The upcasters from v${schemaVersion} produce data the current schema refuses; fix the upcaster.`,
      });
    }
    return parsed.data;
  }

  private entry(type: string, place: EventPlace): TypeEntry {
    const entry = this.types.get(type);
    if (!entry) {
      throw new EventSchemaError({
        place, eventType: type,
        problems: [{ path: 'type', message: 'is not a registered event type' }],
        fix: `Define it with registry.define("${type}", schema), or check the spelling. Known types: ${[...this.types.keys()].join(', ') || '(none)'}.`,
      });
    }
    return entry;
  }
}

/** zod's output by the schema's fast path, or `ASK_ZOD`: invalid data, or data the fast path leaves to zod. */
function validFast(entry: TypeEntry, data: unknown): unknown {
  if (entry.compiled === undefined) entry.compiled = compileSchema(entry.schema) ?? null;
  return entry.compiled === null ? ASK_ZOD : entry.compiled(data);
}

function validOwned(entry: TypeEntry, data: unknown): unknown {
  if (entry.compiledOwned === undefined) entry.compiledOwned = compileSchema(entry.schema, { owned: true }) ?? null;
  return entry.compiledOwned === null ? ASK_ZOD : entry.compiledOwned(data);
}
