import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/events/canonicalJson.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { createEventRegistry } from '../../src/events/catalogue.ts';
import { GENESIS_HASH, computeEventHash, sealEvent, verifyChain } from '../../src/events/hashChain.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { batch, taskAssigned } from '../support/events.ts';

async function recordedStream(count: number): Promise<RecordedEvent[]> {
  const store = new MemoryEventStore();
  const events = batch('session-chain', count);
  events[1] = { ...events[1]!, type: 'model.responded', data: {
    requestId: 'r1', text: 'Ünïcødé ✓ "quoted"\n\u2028', usage: { inputTokens: 120, outputTokens: 48 },
    latencyMs: 1234.5, model: 'scripted', provider: 'scripted', region: 'KE',
  } };
  if (count > 2) events[2] = { ...events[2]!, type: 'model.responded', data: {
    requestId: 'r2', text: '', usage: { inputTokens: 0, outputTokens: 1 }, latencyMs: 1e-7, model: 'm', provider: 'p', region: 'DE',
  } };
  await store.appendToStream('session-chain', events);
  return collect(store.readStream('session-chain'));
}

describe('canonical JSON', () => {
  it('sorts keys at every depth and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('writes numbers as ECMAScript does and refuses what JSON cannot hold', () => {
    expect(canonicalJson([1.5, 1e21, 1e-7, -0, 100])).toBe('[1.5,1e+21,1e-7,0,100]');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a is NaN/);
    expect(() => canonicalJson({ a: [undefined] })).toThrow(/\$\.a\[0\] is undefined/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
});

describe('hash chain', () => {
  it('links each event to the one before, from the genesis hash', async () => {
    const events = await recordedStream(4);
    expect(events[0]!.metadata.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i++) expect(events[i]!.metadata.prevHash).toBe(events[i - 1]!.metadata.hash);
    expect(verifyChain(events)).toEqual({ ok: true, checked: 4 });
  });

  it('is the documented formula: sha256(canonical {type, data, metadata without hash} + prevHash)', async () => {
    const [first] = await recordedStream(2);
    const { hash, ...metadata } = first!.metadata;
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update(canonicalJson({ type: first!.type, data: first!.data, metadata }) + metadata.prevHash).digest('hex');
    expect(hash).toBe(expected);
    expect(computeEventHash(first!)).toBe(expected);
  });

  it('can be re-verified by an independent implementation in another language (Python)', async () => {
    const events = await recordedStream(5);
    const lines = events.map((e) => JSON.stringify({ type: e.type, data: e.data, metadata: e.metadata })).join('\n');
    expect(execFileSync('python3', [new URL('../support/verify_chain.py', import.meta.url).pathname], { input: lines }).toString().trim()).toBe('ok 5');
    const tampered = events.map((e, i) => JSON.stringify({ type: e.type, data: i === 3 ? { ...(e.data as object), text: 'changed' } : e.data, metadata: e.metadata })).join('\n');
    const rejected = spawnSync('python3', [new URL('../support/verify_chain.py', import.meta.url).pathname], { input: tampered });
    expect(rejected.status).toBe(1);
    expect(rejected.stdout.toString().trim()).toBe('hash-mismatch 3');
  });

  it('names the first edited, deleted, inserted or reordered event', async () => {
    const events = await recordedStream(5);
    const edited = events.map((e, i) => (i === 2 ? { ...e, data: { ...(e.data as object), text: 'edited' } } : e));
    expect(verifyChain(edited)).toMatchObject({ ok: false, reason: 'hash-mismatch', revision: 2n, streamId: 'session-chain', checked: 2 });
    expect(verifyChain([events[0]!, events[2]!, events[3]!])).toMatchObject({ ok: false, reason: 'revision-gap', revision: 2n });
    const relabelled = [events[0]!, { ...events[2]!, revision: 1n }];
    expect(verifyChain(relabelled)).toMatchObject({ ok: false, reason: 'broken-link', revision: 1n });
    const forged = { ...events[1]!, eventId: 'forged', metadata: { ...events[1]!.metadata } };
    expect(verifyChain([events[0]!, events[1]!, { ...forged, revision: 2n }])).toMatchObject({ ok: false, reason: 'broken-link', revision: 2n });
    expect(verifyChain([events[1]!, events[0]!].map((e, i) => ({ ...e, revision: BigInt(i) })))).toMatchObject({ ok: false, reason: 'not-genesis', revision: 0n });
  });

  it('checks each stream of an interleaved log separately', async () => {
    const store = new MemoryEventStore({ registry: createEventRegistry() });
    for (let i = 0; i < 3; i++) {
      await store.appendToStream('session-a', [taskAssigned('session-a', i)]);
      await store.appendToStream('agent-b', [taskAssigned('agent-b', i)]);
    }
    expect(verifyChain(await collect(store.readAll()))).toEqual({ ok: true, checked: 6 });
  });
});

describe('sealing', () => {
  it('stores the sealed metadata in canonical form, with the hash member in its sorted place', () => {
    const metadata = { actorId: 'agent-s.express.0', actorKind: 'agent', sessionId: 's', correlationId: 's', causationId: null, recordedAt: '2026-11-24T10:00:00.000Z', machineVersion: 'agent@5', schemaVersion: 1 };
    for (const prevHash of [GENESIS_HASH, 'a'.repeat(64)]) {
      const sealed = sealEvent({ type: 'task.assigned', data: { turn: 0, query: 'q "quoted" ,"machineVersion":', region: 'KE', purpose: 'climate_adaptation' }, metadata }, prevHash);
      expect(sealed.metadataJson).toBe(canonicalJson(sealed.metadata));
      expect(sealed.dataJson).toBe(canonicalJson(JSON.parse(sealed.dataJson)));
    }
  });

  it('writes the envelope directly only when it is exactly the envelope, and always as canonicalJson would', () => {
    const base = { actorId: 'agent-s.express.0', actorKind: 'agent', sessionId: 's', correlationId: 's', causationId: 'c', recordedAt: '2026-11-24T10:00:00.000Z', machineVersion: 'agent@5', schemaVersion: 1 };
    const variants: Record<string, unknown>[] = [
      base, { ...base, causationId: null }, { ...base, machineVersion: 'v "1" \\ \u2028 ✓ 𝒳' }, { ...base, actorId: '\u0000\n' },
      { ...base, extra: 'x' }, { ...base, schemaVersion: 2.5 }, Object.assign({ machineVersion: 'm' }, base), { ...base, sessionId: undefined },
    ];
    for (const metadata of variants) {
      const sealed = sealEvent({ type: 'task.assigned', data: {}, metadata: metadata as never }, GENESIS_HASH);
      expect(sealed.metadataJson).toBe(canonicalJson(sealed.metadata));
      expect(sealed.metadata.hash).toBe(computeEventHash({ type: 'task.assigned', data: {}, metadata: sealed.metadata }));
    }
  });
});
