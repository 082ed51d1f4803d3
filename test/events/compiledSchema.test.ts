import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentStreamFor } from '../../machines/sessionMachine.ts';
import { catalogue } from '../../src/events/catalogue.ts';
import { appendMetadataSchema, eventIdSchema } from '../../src/events/envelope.ts';
import { canonicalJson } from '../../src/events/canonicalJson.ts';
import { ASK_ZOD, compileSchema, type CompiledSchema } from '../../src/events/compiledSchema.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

/**
 * The fast path may leave any value to zod (`ASK_ZOD`), but whatever it accepts zod must accept, with the same
 * output: the same values and keys, defaults applied alike, so the same canonical bytes (and hash). Only the order
 * of an object's keys differs: sorted, where zod's follow the schema.
 */
function expectAgreement(schema: z.ZodType, compiled: CompiledSchema, value: unknown): void {
  const fast = compiled(value);
  if (fast === ASK_ZOD) return;
  const parsed = schema.safeParse(value);
  expect(parsed.success, `fast path accepted what zod refuses: ${JSON.stringify(value)}`).toBe(true);
  expect(fast).toStrictEqual(parsed.data);
  expect(canonicalOrRefusal(fast)).toBe(canonicalOrRefusal(parsed.data));
}

/** Canonical JSON, or the refusal for a value without one (a NaN that `z.unknown()` let through). */
function canonicalOrRefusal(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch (error) {
    return (error as Error).message;
  }
}

function compiledOf(schema: z.ZodType): CompiledSchema {
  const compiled = compileSchema(schema);
  if (!compiled) throw new Error('expected the schema to compile');
  return compiled;
}

/** Every event data a few real sessions record: most of the catalogue, with realistic nesting. */
async function recordedData(): Promise<{ type: string; data: unknown; metadata: unknown; eventId: string }[]> {
  const store = new SqliteEventStore(':memory:');
  const resolve = modelResolver(systemClock);
  const runtime = new ActorRuntime({ store, models: resolve, checkpointEveryTokens: 300 });
  const config = agentConfigFor({ model: 'scripted:latency=0' }, resolve);
  for (const sessionId of ['fast-a', 'fast-b']) {
    await startSession(runtime, sessionId, config);
    for (let turn = 0; turn < 3; turn++) {
      await askInSession(runtime, sessionId, { text: `Turn ${turn}: how should ${sessionId} prepare for floods and heat?`, region: 'BGD', purpose: 'climate_adaptation' });
    }
  }
  await runtime.settled();
  runtime.stop();
  const events = await collect(store.readAll());
  await store.close();
  expect(events.some((e) => e.streamId === agentStreamFor('fast-a', 'express', 0))).toBe(true);
  return events.map(({ type, data, eventId, metadata: { prevHash: _p, hash: _h, ...metadata } }) => ({ type, data, metadata, eventId }));
}

/** A path into a JSON-like value and a replacement for what sits there (or a key to add or remove). */
const mutation = fc.record({
  depth: fc.nat(6),
  pick: fc.nat(1000),
  action: fc.constantFrom('replace', 'delete', 'add-key', 'add-proto'),
  replacement: fc.constantFrom<unknown>(undefined, null, '', 'x', '𝒳', '𝒳𝒳', -1, 0, 1, 1.5, -0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, false, [], {}, ['a'], { a: 1 }, '2026-11-24T10:00:00Z', 'session-1', '0', 'KE'),
});

function mutate(value: unknown, m: { depth: number; pick: number; action: string; replacement: unknown }): unknown {
  const copy = structuredClone(value);
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  let current: unknown = copy;
  for (let d = 0; d < m.depth && current !== null && typeof current === 'object'; d++) {
    const keys = Object.keys(current);
    if (keys.length === 0) break;
    key = keys[(m.pick + d) % keys.length]!;
    parent = current as Record<string, unknown>;
    current = (current as Record<string, unknown>)[key];
  }
  const target = (current !== null && typeof current === 'object' ? current : parent) as Record<string, unknown> | undefined;
  if (m.action === 'add-key' && target) target.unexpected = m.replacement;
  else if (m.action === 'add-proto' && target) Object.defineProperty(target, '__proto__', { value: m.replacement, enumerable: true, configurable: true, writable: true });
  else if (m.action === 'delete' && parent && key !== undefined) delete (parent as Record<string, unknown>)[key as string];
  else if (parent && key !== undefined) (parent as Record<string, unknown>)[key as string] = m.replacement;
  else return m.replacement;
  return copy;
}

describe('compiled schemas (the fast path of event validation)', () => {
  it('compiles the catalogue types a session records', () => {
    for (const type of ['session.started', 'query.received', 'triage.decided', 'priority.assigned', 'budget.estimated', 'message.sent', 'task.assigned',
      'model.requested', 'model.responded', 'agent.answered', 'turn.completed', 'timer.started', 'tokens.settled', 'checkpoint.recorded'] as const) {
      expect(compileSchema(catalogue[type]), type).toBeDefined();
    }
  });

  it('agrees with zod on every recorded event, and on thousands of mutations of them', async () => {
    const recorded = await recordedData();
    const types = new Set(recorded.map((e) => e.type));
    expect(types.size).toBeGreaterThan(15);
    for (const { type, data } of recorded) {
      const schema = catalogue[type as keyof typeof catalogue] as z.ZodType;
      const compiled = compiledOf(schema);
      // Valid data is accepted by the fast path itself, not left to zod: otherwise it would be no fast path.
      expect(compiled(data), type).not.toBe(ASK_ZOD);
      expectAgreement(schema, compiled, data);
    }
    fc.assert(fc.property(fc.nat(recorded.length - 1), mutation, (index, m) => {
      const { type, data } = recorded[index]!;
      const schema = catalogue[type as keyof typeof catalogue] as z.ZodType;
      expectAgreement(schema, compiledOf(schema), mutate(data, m));
    }), { numRuns: 3000 });
    // The envelope an append validates, and event ids, go the same way.
    const metadataCheck = compiledOf(appendMetadataSchema);
    const idCheck = compiledOf(eventIdSchema);
    for (const { metadata, eventId } of recorded) {
      expect(metadataCheck(metadata)).not.toBe(ASK_ZOD);
      expectAgreement(appendMetadataSchema, metadataCheck, metadata);
      expectAgreement(eventIdSchema, idCheck, eventId);
    }
    fc.assert(fc.property(fc.nat(recorded.length - 1), mutation, (index, m) => {
      expectAgreement(appendMetadataSchema, metadataCheck, mutate(recorded[index]!.metadata, { ...m, depth: Math.min(m.depth, 1) }));
      expectAgreement(eventIdSchema, idCheck, m.replacement);
    }), { numRuns: 1000 });
  });

  it('builds appended data in canonical order, so sealing serialises it as it is', async () => {
    const recorded = await recordedData();
    let checked = 0;
    for (const { type, data } of recorded) {
      // A checkpoint's records hold machine contexts and projection states as they were made; records keep their order.
      if (type === 'checkpoint.recorded') continue;
      const out = compiledOf(catalogue[type as keyof typeof catalogue] as z.ZodType)(data);
      expect(JSON.stringify(out), type).toBe(canonicalJson(out));
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('owned data (as a store read parses it) is returned itself when it is zod\'s output, else as zod\'s output', async () => {
    const recorded = await recordedData();
    for (const { type, data } of recorded) {
      const schema = catalogue[type as keyof typeof catalogue] as z.ZodType;
      const owned = compileSchema(schema, { owned: true })!;
      const stored = JSON.parse(JSON.stringify(data)) as unknown;
      // Recorded data was zod's output when appended, so reading it back copies nothing.
      expect(owned(stored), type).toBe(stored);
    }
    fc.assert(fc.property(fc.nat(recorded.length - 1), mutation, (index, m) => {
      const { type, data } = recorded[index]!;
      const schema = catalogue[type as keyof typeof catalogue] as z.ZodType;
      // Owned values are what `JSON.parse` makes of stored text (dense, plain arrays; an own "__proto__" member).
      const value = JSON.parse(JSON.stringify(mutate(data, m)) ?? 'null') as unknown;
      const before = JSON.stringify(value);
      const fast = compileSchema(schema, { owned: true })!(value);
      expect(JSON.stringify(value), 'the owned path never changes its input').toBe(before);
      if (fast === ASK_ZOD) return;
      const parsed = schema.safeParse(value);
      expect(parsed.success, `owned path accepted what zod refuses: ${before}`).toBe(true);
      // The same members and values as zod's output; the order of members may be the stored one.
      expect(fast).toStrictEqual(parsed.data);
    }), { numRuns: 3000 });
    // Defaults filled in and keys a loose object strips: then it is a copy, as zod's output is.
    const loose = z.object({ a: z.string(), n: z.number().default(3), inner: z.object({ b: z.string() }) });
    const input = { a: 'x', inner: { b: 'y', extra: true } };
    const out = compileSchema(loose, { owned: true })!(input);
    expect(out).toStrictEqual(loose.parse(input));
    expect(out).not.toBe(input);
    expect(input).toStrictEqual({ a: 'x', inner: { b: 'y', extra: true } });
  });

  it('reproduces optional, default, nullable, refine, record, array bounds and code-point lengths exactly', () => {
    const schema = z.strictObject({
      name: z.string().min(2),
      id: z.uuid(),
      at: z.iso.datetime({ offset: true }),
      count: z.number().int().nonnegative().max(10),
      ratio: z.number().gt(0).lt(1).optional(),
      mode: z.enum(['a', 'b']).default('a'),
      note: z.string().nullable(),
      tags: z.array(z.string().min(1)).min(1).max(3),
      extra: z.record(z.string(), z.unknown()).optional(),
      pair: z.strictObject({ low: z.number(), high: z.number() }).refine((p) => p.low <= p.high).optional(),
    });
    const compiled = compiledOf(schema);
    const valid = { name: 'ab', id: '0190c3a2-7b1e-7c00-8a00-000000000001', at: '2026-11-24T10:00:00.000Z', count: 3, note: null, tags: ['x'] };
    expect(compiled(valid)).toStrictEqual(schema.parse(valid));
    // Sorted, as canonical JSON writes them (zod's own output follows the schema: name, id, at, …).
    expect(Object.keys(compiled(valid) as object)).toEqual(['at', 'count', 'id', 'mode', 'name', 'note', 'tags']);
    const samples: unknown[] = [
      { ...valid, ratio: undefined }, { ...valid, ratio: 0.5 }, { ...valid, ratio: 1 }, { ...valid, mode: 'b' }, { ...valid, mode: 'c' },
      { ...valid, name: '𝒳' }, { ...valid, name: '𝒳𝒳' }, { ...valid, name: 'a' }, { ...valid, count: 11 }, { ...valid, count: 1.5 }, { ...valid, count: -1 },
      { ...valid, tags: [] }, { ...valid, tags: ['a', 'b', 'c', 'd'] }, { ...valid, tags: [''] }, { ...valid, extra: { z: 1, a: [2], 1: 'x' } },
      { ...valid, extra: JSON.parse('{"__proto__": {"polluted": true}, "k": 1}') }, { ...valid, extra: [] }, { ...valid, extra: new Map() },
      { ...valid, pair: { low: 1, high: 2 } }, { ...valid, pair: { low: 3, high: 2 } }, { ...valid, pair: { low: 1, high: 2, more: 0 } },
      { ...valid, at: '2026-11-24 10:00' }, { ...valid, id: 'not-a-uuid' }, { ...valid, surprise: 1 }, JSON.parse(`{"__proto__": 1, "name": "ab"}`),
      { ...valid, note: undefined }, (({ note: _n, ...rest }) => rest)(valid), [], null, 'text',
      // A member inherited from a prototype and an unknown own key: as many own keys as members found, yet not valid.
      Object.assign(Object.create({ name: 'ab' }) as object, (({ name: _n, ...rest }) => ({ ...rest, surprise: 1 }))(valid)),
    ];
    for (const sample of samples) expectAgreement(schema, compiled, sample);
    expect(compiled({ ...valid, ratio: undefined })).toHaveProperty('ratio', undefined);
  });

  it('leaves schemas it does not reproduce to zod entirely', () => {
    expect(compileSchema(z.union([z.string(), z.number()]))).toBeUndefined();
    expect(compileSchema(z.string().transform((s) => s.length))).toBeUndefined();
    expect(compileSchema(z.coerce.number())).toBeUndefined();
    expect(compileSchema(z.object({ a: z.string() }).catchall(z.number()))).toBeUndefined();
  });
});
