import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EventRegistry } from '../../src/events/eventRegistry.ts';
import { EventSchemaError } from '../../src/events/eventSchemaError.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { taskAssigned } from '../support/events.ts';

describe('event registry', () => {
  it('reads events written under an old schema version through upcasters', async () => {
    const v1 = new EventRegistry().define('task.assigned', z.strictObject({ turn: z.number(), query: z.string(), region: z.string(), purpose: z.string() }));
    const store = new MemoryEventStore({ registry: v1 });
    await store.appendToStream('session-1', [taskAssigned('session-1', 0)]);
    // The same log read by a later build where task.assigned v3 has `language` and renamed `query` to `text`.
    const v3 = new EventRegistry()
      .define('task.assigned', z.strictObject({ turn: z.number(), text: z.string(), region: z.string(), purpose: z.string(), language: z.string() }), { schemaVersion: 3 })
      .upcaster('task.assigned', 1, (data) => ({ ...(data as object), language: 'en' }))
      .upcaster('task.assigned', 2, (data) => {
        const { query, ...rest } = data as { query: string };
        return { ...rest, text: query };
      });
    const rows = await collect(store.readStream('session-1'));
    const [upcast] = rows.map((e) => ({ ...e, data: v3.parseRecorded(e.type, e.metadata.schemaVersion, e.data, { streamId: e.streamId }) }));
    expect(upcast!.data).toEqual({ turn: 0, text: 'question 0 for session-1', region: 'KE', purpose: 'climate_adaptation', language: 'en' });
    expect(upcast!.metadata.schemaVersion).toBe(1);
  });

  it('takes a copy of an event recorded under an older version as it was recorded, checked through its upcasters', () => {
    const registry = new EventRegistry()
      .define('task.assigned', z.strictObject({ turn: z.number(), query: z.string(), language: z.string() }), { schemaVersion: 2 })
      .upcaster('task.assigned', 1, (data) => ({ ...(data as object), language: 'en' }));
    // Fork and import copy recorded events with their versions, so their hashes still hold: v1 data stays v1.
    const v1 = { turn: 0, query: 'Which crops?' };
    expect(registry.parseForAppend('task.assigned', 1, v1, { streamId: 's-1' })).toEqual({ data: v1, schemaVersion: 1 });
    expect(() => registry.parseForAppend('task.assigned', 1, { turn: 'first', query: 'Which crops?' }, { streamId: 's-1' })).toThrow(EventSchemaError);
    expect(registry.parseForAppend('task.assigned', undefined, { ...v1, language: 'sw' }, { streamId: 's-1' }).schemaVersion).toBe(2);
  });

  it('says which upcaster is missing and which version is too new', () => {
    const registry = new EventRegistry().define('query.received', z.object({ turn: z.number() }), { schemaVersion: 2 });
    expect(() => registry.parseRecorded('query.received', 1, { turn: 1 }, { streamId: 's-1', revision: 4n, position: 9n }))
      .toThrow(/stream "s-1", revision 4, position 9, type "query.received" v1: metadata.schemaVersion: v1 has no upcaster to v2/);
    expect(() => registry.parseRecorded('query.received', 3, {}, { streamId: 's-1' })).toThrow(/newer than this build knows/);
  });

  it('names nested field paths and refuses writes under an unknown version', () => {
    const registry = new EventRegistry().define('model.responded', z.strictObject({ usage: z.strictObject({ inputTokens: z.number().int() }) }));
    const error = (() => {
      try {
        registry.parseForAppend('model.responded', undefined, { usage: { inputTokens: 'many' } }, { streamId: 'agent-1', revision: 0n });
      } catch (e) {
        return e as EventSchemaError;
      }
    })();
    expect(error?.fieldPaths).toEqual(['data.usage.inputTokens']);
    expect(() => registry.parseForAppend('model.responded', 0, {}, { streamId: 'agent-1' })).toThrow(/is 0 but this build writes versions 1 to 1 of it/);
    expect(() => registry.parseForAppend('model.responded', 2, { usage: { inputTokens: 1 } }, { streamId: 'agent-1' })).toThrow(/needs a newer Chronicle/);
    expect(() => new EventRegistry().define('Bad Type', z.object({}))).toThrow(/dotted lower-camel/);
  });
});
