import type { z } from 'zod';

/**
 * A fast path for the catalogue's zod schemas, which every appended and every read event passes through. zod's own
 * parse goes through generic, highly polymorphic code: in a live runtime, where twenty event types interleave, it
 * costs 10–60 µs per event, several times its cost in a tight loop. This walks a schema's definition once and builds
 * plain closures that do the same checks and build the same output (a fresh object per object schema, defaults
 * applied), for the parts of zod the catalogue uses. Its objects have their keys in sorted order, where zod's have
 * the schema's: the same value, in the order canonical JSON writes it and a stored event's data has when read back,
 * so sealing an appended event serialises its data as it is instead of copying every object sorted first (~5 % of
 * a model call through the runtime).
 *
 * It only ever answers "valid, and this is zod's output" or "ask zod": on anything it was not built for, or any
 * doubt, it returns `ASK_ZOD`, and the caller runs zod, whose answer (and error message) is the authority. So it
 * can be stricter than zod, never laxer; test/events/compiledSchema.test.ts holds it to zod on recorded and mutated
 * data of every type.
 */
export const ASK_ZOD: unique symbol = Symbol('ask zod');

export type CompiledSchema = (value: unknown) => unknown;

type Check = (value: unknown) => unknown;

interface ZodInternals {
  def: Record<string, unknown> & { type: string; checks?: ZodNode[] };
  traits: Set<string>;
  optin?: string;
  optout?: string;
  values?: Set<unknown>;
  check?: (payload: { value: unknown; issues: unknown[] }) => unknown;
}

interface ZodNode {
  _zod: ZodInternals;
}

/**
 * Undefined when the schema uses something this does not reproduce exactly: zod then validates every value.
 *
 * `owned: true` is for values `JSON.parse` has just made and nobody else holds, as every store read has them: where
 * zod's output would be a copy equal to the input (no default filled in, no key stripped), the input itself is
 * returned rather than copied, members in their stored order. A store read does not then build each event twice.
 * It relies on what `JSON.parse` makes: plain objects, and arrays that are dense and have no other properties.
 */
export function compileSchema(schema: z.ZodType, options: { owned?: boolean } = {}): CompiledSchema | undefined {
  try {
    return compile(schema as unknown as ZodNode, options.owned ?? false);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

class Unsupported extends Error {}

function compile(node: ZodNode, owned: boolean): Check {
  const zod = node._zod;
  const { def } = zod;
  if (def.coerce) throw new Unsupported(`coerce on ${def.type}`);
  // zod runs a schema's checks after its parse, the schema itself first when it is a check (string formats).
  const checkNodes = [...(zod.traits.has('$ZodCheck') ? [node] : []), ...(def.checks ?? [])];
  const fused = def.type === 'number' ? boundedNumber(checkNodes) : def.type === 'string' ? checkedString(checkNodes) : undefined;
  if (fused) return fused;
  const base = compileBase(node, owned);
  const checks = checkNodes.map(compileCheck);
  if (checks.length === 0) return base;
  return (value) => {
    let out = base(value);
    if (out === ASK_ZOD) return ASK_ZOD;
    for (const check of checks) {
      out = check(out);
      if (out === ASK_ZOD) return ASK_ZOD;
    }
    return out;
  };
}

function compileBase(node: ZodNode, owned: boolean): Check {
  const { def } = node._zod;
  switch (def.type) {
    case 'string':
      return (value) => (typeof value === 'string' ? value : ASK_ZOD);
    case 'number':
      return (value) => (typeof value === 'number' && Number.isFinite(value) ? value : ASK_ZOD);
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : ASK_ZOD);
    case 'unknown':
    case 'any':
      return (value) => value;
    case 'enum':
    case 'literal': {
      const values = node._zod.values;
      if (!(values instanceof Set)) throw new Unsupported(`${def.type} without values`);
      return (value) => (values.has(value) ? value : ASK_ZOD);
    }
    case 'nullable': {
      const inner = compile(def.innerType as ZodNode, owned);
      return (value) => (value === null ? null : inner(value));
    }
    case 'optional': {
      const innerNode = def.innerType as ZodNode;
      if (innerNode._zod.optin === 'defaulted') throw new Unsupported('optional of a defaulted schema');
      const inner = compile(innerNode, owned);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'default': {
      const inner = compile(def.innerType as ZodNode, owned);
      // Read on each use, as zod does: its getter hands out a fresh copy of an object default.
      return (value) => {
        if (value === undefined) return def.defaultValue;
        const out = inner(value);
        return out === undefined ? def.defaultValue : out;
      };
    }
    case 'array': {
      const element = compile(def.element as ZodNode, owned);
      return (value) => {
        if (!Array.isArray(value)) return ASK_ZOD;
        // Owned: copied only from the first element whose output is not the element itself.
        let out = owned ? undefined : new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = element(value[i]);
          if (item === ASK_ZOD) return ASK_ZOD;
          if (out === undefined && item !== value[i]) out = value.slice(0, i);
          if (out !== undefined) out[i] = item;
        }
        return out ?? value;
      };
    }
    case 'record':
      return compileRecord(def, owned);
    case 'object':
      return compileObject(def, owned);
    default:
      throw new Unsupported(def.type);
  }
}

/** A record keyed by plain strings (`z.record(z.string(), …)`), the only kind the catalogue has. */
function compileRecord(def: ZodInternals['def'], owned: boolean): Check {
  const keyType = (def.keyType as ZodNode)._zod;
  if (keyType.def.type !== 'string' || keyType.def.coerce || keyType.traits.has('$ZodCheck') || (keyType.def.checks?.length ?? 0) > 0) {
    throw new Unsupported('record keys other than z.string()');
  }
  const valueOf = compile(def.valueType as ZodNode, owned);
  return (value) => {
    // zod wants a plain object; these two prototypes are plain for certain, anything else is zod's to judge.
    if (typeof value !== 'object' || value === null) return ASK_ZOD;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return ASK_ZOD;
    // Symbol keys fail zod's string key check.
    if (Object.getOwnPropertySymbols(value).length > 0) return ASK_ZOD;
    const input = value as Record<string, unknown>;
    const keys = Object.keys(input);
    let out: Record<string, unknown> | undefined = owned ? undefined : {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // zod skips "__proto__" (so its output differs from the input); an assignment would set the copy's prototype.
      if (key === '__proto__') {
        out ??= copyOf(input, keys, i);
        continue;
      }
      const member = valueOf(input[key]);
      if (member === ASK_ZOD) return ASK_ZOD;
      if (out === undefined && member !== input[key]) out = copyOf(input, keys, i);
      if (out !== undefined) out[key] = member;
    }
    return out ?? input;
  };
}

/** Property handling as zod's object parse does it (`handlePropertyResult` and its JIT twin), success path only. */
function compileObject(def: ZodInternals['def'], owned: boolean): Check {
  const catchall = def.catchall as ZodNode | undefined;
  const strict = catchall !== undefined;
  if (strict && catchall._zod.def.type !== 'never') throw new Unsupported('object catchall other than never');
  const shape = def.shape as Record<string, ZodNode>;
  const keys = Object.keys(shape);
  if (keys.includes('__proto__') || Object.getOwnPropertySymbols(shape).length > 0) throw new Unsupported('unusual object keys');
  const known = new Set(keys);
  const ownNamesOnly = keys.every((key) => !(key in Object.prototype));
  const fields = keys.map((key) => {
    const { optin, optout } = shape[key]!._zod;
    let presence: 'required' | 'optional' | 'defaulted';
    if (optin === undefined) presence = 'required';
    else if (optin === 'optional' && optout === 'optional') presence = 'optional';
    else if (optin === 'defaulted' && optout !== 'optional') presence = 'defaulted';
    else throw new Unsupported(`property "${key}" is ${optin}-in, ${optout}-out`);
    return { key, presence, check: compile(shape[key]!, owned) };
  });
  // Members are written in this order (see the header); UTF-16 order, as `canonicalJson` sorts them.
  fields.sort((a, b) => (a.key < b.key ? -1 : 1));
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return ASK_ZOD;
    const input = value as Record<string, unknown>;
    // Owned: zod's output is the input itself until a member differs or a default is filled in.
    let out: Record<string, unknown> | undefined = owned ? undefined : {};
    let present = 0;
    for (let f = 0; f < fields.length; f++) {
      const { key, presence, check } = fields[f]!;
      // One keyed load; `in` only to tell a member holding undefined from a missing one.
      const given = input[key];
      const has = given !== undefined || key in input;
      if (!has && presence === 'optional') continue;
      if (!has && presence === 'required') return ASK_ZOD;
      if (has) present++;
      const member = check(given);
      if (member === ASK_ZOD) return ASK_ZOD;
      if (out === undefined && (!has || member !== given)) out = copyOfFields(input, fields, f);
      // A defaulted key is always written; an optional or required one when present (even as undefined).
      if (out !== undefined) out[key] = member;
    }
    // No key the shape lacks: as many own keys as named members were found settles it (the members found are own
    // ones when the input is a plain object and no shape key is an Object.prototype member); else each key is looked up.
    const plain = ownNamesOnly && Object.getPrototypeOf(input) === Object.prototype;
    if (strict && !(plain && Object.keys(input).length === present)) for (const key in input) if (!known.has(key)) return ASK_ZOD;
    // Non-strict: zod strips keys the shape does not name, so an input with any is not zod's output.
    if (out === undefined && !strict && ownKeyCount(input) !== present) out = copyOfFields(input, fields, fields.length);
    return out ?? input;
  };
}

/**
 * A number with bounds and `int()` as one test: most of the catalogue's numbers are ratios in [0, 1] or counts, and
 * three closures each (the type, then each check) made them the bulk of validating a triage decision. A check of
 * any other kind, or a conditional one, leaves the number to the general way.
 */
function boundedNumber(checkNodes: ZodNode[]): Check | undefined {
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let lowInclusive = true;
  let highInclusive = true;
  let integer = false;
  for (const { _zod: { def } } of checkNodes as { _zod: { def: Record<string, unknown> } }[]) {
    if (def.when !== undefined) return undefined;
    if ((def.check === 'greater_than' || def.check === 'less_than') && typeof def.value === 'number') {
      const inclusive = def.inclusive === true;
      if (def.check === 'greater_than' && (def.value > low || (def.value === low && !inclusive))) [low, lowInclusive] = [def.value, inclusive];
      if (def.check === 'less_than' && (def.value < high || (def.value === high && !inclusive))) [high, highInclusive] = [def.value, inclusive];
    } else if (def.check === 'number_format' && def.format === 'safeint') {
      integer = true;
    } else {
      return undefined;
    }
  }
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return ASK_ZOD;
    if (value < low || (value === low && !lowInclusive) || value > high || (value === high && !highInclusive)) return ASK_ZOD;
    return integer && !Number.isSafeInteger(value) ? ASK_ZOD : value;
  };
}

/**
 * A string with a minimum length and pattern formats (`min(1)`, `regex`, `uuid`, `iso.datetime`) as one test, for the
 * same reason. The minimum keeps the general check's rule for the zone where UTF-16 units and code points may
 * disagree (see `compileCheckBody`). Any other check, or a conditional one, leaves the string to the general way.
 */
function checkedString(checkNodes: ZodNode[]): Check | undefined {
  let minimum = 0;
  let minimumCheck: Check | undefined;
  const patterns: RegExp[] = [];
  for (const node of checkNodes) {
    const def = node._zod.def as Record<string, unknown>;
    if (def.when !== undefined) return undefined;
    if (def.check === 'min_length' && typeof def.minimum === 'number') {
      if (minimumCheck !== undefined) return undefined;
      minimum = def.minimum;
      minimumCheck = compileCheck(node);
    } else if (def.check === 'string_format' && def.pattern instanceof RegExp && PATTERN_ONLY_FORMATS.has(def.format as string)) {
      patterns.push(def.pattern);
    } else {
      return undefined;
    }
  }
  return (value) => {
    if (typeof value !== 'string') return ASK_ZOD;
    if (value.length < minimum * 2 && minimumCheck !== undefined && minimumCheck(value) === ASK_ZOD) return ASK_ZOD;
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      if (!pattern.test(value)) return ASK_ZOD;
    }
    return value;
  };
}

/** The first `count` keys of a record, as zod's output has them. */
function copyOf(input: Record<string, unknown>, keys: string[], count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) if (keys[i] !== '__proto__') out[keys[i]!] = input[keys[i]!];
  return out;
}

/** The members of the first `count` fields that the input has, in the fields' (sorted) order. */
function copyOfFields(input: Record<string, unknown>, fields: { key: string }[], count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let f = 0; f < count; f++) {
    const { key } = fields[f]!;
    if (key in input) out[key] = input[key];
  }
  return out;
}

function ownKeyCount(input: Record<string, unknown>): number {
  let count = 0;
  for (const key in input) if (Object.hasOwn(input, key)) count++;
  return count;
}

/** The checks the catalogue uses, written out; any other check runs zod's own code on a scratch payload. */
function compileCheck(node: ZodNode): Check {
  const zod = node._zod;
  const def = zod.def as Record<string, unknown>;
  const when = def.when as ((payload: { value: unknown; issues: unknown[] }) => boolean) | undefined;
  const run = compileCheckBody(zod);
  if (when === undefined) return run;
  return (value) => (when({ value, issues: [] }) ? run(value) : value);
}

function compileCheckBody(zod: ZodInternals): Check {
  const def = zod.def as Record<string, unknown>;
  switch (def.check) {
    case 'greater_than': {
      const bound = def.value;
      if (typeof bound !== 'number') break;
      return def.inclusive
        ? (value) => ((value as number) >= bound ? value : ASK_ZOD)
        : (value) => ((value as number) > bound ? value : ASK_ZOD);
    }
    case 'less_than': {
      const bound = def.value;
      if (typeof bound !== 'number') break;
      return def.inclusive
        ? (value) => ((value as number) <= bound ? value : ASK_ZOD)
        : (value) => ((value as number) < bound ? value : ASK_ZOD);
    }
    case 'number_format':
      if (def.format === 'safeint') return (value) => (Number.isSafeInteger(value) ? value : ASK_ZOD);
      break;
    case 'min_length': {
      const minimum = def.minimum as number;
      // zod counts a string's code points; a string of at least twice as many UTF-16 units has enough of them, one
      // with fewer units than the minimum has too few, and the zone between is left to zod's own check below.
      return (value) => {
        const units = (value as { length: number }).length;
        if (typeof value !== 'string') return units >= minimum ? value : ASK_ZOD;
        if (units >= minimum * 2) return value;
        return units < minimum ? ASK_ZOD : scratchCheck(zod, value);
      };
    }
    case 'string_format': {
      const pattern = def.pattern;
      // Formats with extra logic besides the pattern (jwt, url, …) install their own check; only the pattern test is copied.
      if (!(pattern instanceof RegExp) || !PATTERN_ONLY_FORMATS.has(def.format as string)) break;
      return (value) => {
        pattern.lastIndex = 0;
        return pattern.test(value as string) ? value : ASK_ZOD;
      };
    }
  }
  return (value) => scratchCheck(zod, value);
}

const PATTERN_ONLY_FORMATS = new Set(['regex', 'uuid', 'guid', 'datetime', 'date', 'time']);

/** zod's own check on a payload of our own: a pushed issue means ask zod; a check may also rewrite the value. */
function scratchCheck(zod: ZodInternals, value: unknown): unknown {
  if (zod.check === undefined) return ASK_ZOD;
  const payload = { value, issues: [] as unknown[] };
  const result = zod.check(payload);
  if (result instanceof Promise || payload.issues.length > 0) return ASK_ZOD;
  return payload.value;
}
