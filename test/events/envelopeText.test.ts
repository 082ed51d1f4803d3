import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordedMetadataSchema } from '../../src/events/envelope.ts';
import { readEnvelopeText } from '../../src/events/envelopeText.ts';
import { GENESIS_HASH, sealEvent } from '../../src/events/hashChain.ts';

/** Envelopes as `sealEvent` writes them: the stored form every read of the SQLite and memory stores sees. */
function sealedEnvelope(overrides: Record<string, unknown> = {}): string {
  const metadata = {
    actorId: 'agent-s1.express.0', actorKind: 'agent', sessionId: 's1', correlationId: 's1', causationId: '0190c3a2-7b1e-7c00-8a00-000000000001',
    recordedAt: '2026-11-24T10:00:00.123Z', schemaVersion: 1, machineVersion: 'agent@9:abc', ...overrides,
  };
  return sealEvent({ type: 'task.assigned', data: { turn: 1 }, metadata: metadata as never }, GENESIS_HASH).metadataJson;
}

/** What the general way makes of a text: zod's output of `JSON.parse`, or undefined when either refuses it. */
function generalWay(text: string): unknown {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = recordedMetadataSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

describe('reading a stored envelope in one pass', () => {
  it('reads what sealEvent writes exactly as JSON.parse does, and hands back the text its hash covers', () => {
    for (const overrides of [{}, { causationId: null }, { schemaVersion: 12 }, { actorId: 'session-ä→𝒳' }, { recordedAt: '2026-11-24T10:00:00+05:30' }]) {
      const text = sealedEnvelope(overrides);
      const read = readEnvelopeText(text);
      expect(read, text).toBeDefined();
      expect(read!.metadata).toStrictEqual(JSON.parse(text));
      const { hash: _hash, ...unsealed } = JSON.parse(text) as Record<string, unknown>;
      expect(JSON.parse(read!.withoutHash)).toStrictEqual(unsealed);
      expect(read!.withoutHash).toBe(text.replace(/,"hash":"[0-9a-f]{64}"/, ''));
    }
  });

  it('leaves to the general way what the schema refuses or what is not in canonical form', () => {
    const refused = [
      sealedEnvelope({ recordedAt: '2026-13-24T10:00:00Z' }), sealedEnvelope({ actorKind: 'Agent' }), sealedEnvelope({ actorId: 'tab\there' }),
      sealedEnvelope({ correlationId: 'quote"inside' }), sealedEnvelope({ schemaVersion: 0 }), sealedEnvelope({ machineVersion: '' }),
      sealedEnvelope().replace('"prevHash":"0', '"prevHash":"A'), sealedEnvelope().replace('{"actorId"', '{ "actorId"'),
      sealedEnvelope().replace('"schemaVersion":1', '"schemaVersion":1.0'), sealedEnvelope().replace('"schemaVersion":1', '"schemaVersion":01'),
      `${sealedEnvelope().slice(0, -1)},"extra":1}`, sealedEnvelope().replace(/"causationId":"[^"]*",/, ''),
    ];
    for (const text of refused) expect(readEnvelopeText(text), text).toBeUndefined();
  });

  it('never accepts what JSON.parse and zod refuse (but a hash no computed one can equal), nor reads anything differently', () => {
    const base = sealedEnvelope();
    const alphabet = ['"', '\\', ',', ':', '{', '}', '0', '1', '9', 'a', 'f', 'g', 'Z', 'T', '-', ' ', '\t', '\n', '\u0000', 'null', 'é', '𝒳'];
    const edit = fc.record({ at: fc.nat(base.length), cut: fc.nat(3), insert: fc.array(fc.constantFrom(...alphabet), { maxLength: 3 }) });
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let text = base;
      for (const { at, cut, insert } of edits) text = text.slice(0, at % (text.length + 1)) + insert.join('') + text.slice((at % (text.length + 1)) + cut);
      const read = readEnvelopeText(text);
      if (read === undefined) return;
      const general = generalWay(text);
      // The one duty left to the caller: a hash that is not 64 hex digits, which no computed hash can equal.
      if (general === undefined) expect(read.metadata.hash, text).not.toMatch(/^[0-9a-f]{64}$/);
      else expect(read.metadata).toStrictEqual(general);
    }), { numRuns: 5000 });
  });
});
