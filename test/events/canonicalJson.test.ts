import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/events/canonicalJson.ts';

/** An independent reference: members sorted by UTF-16 code units, written out one by one. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.keys(value).sort().filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  return `{${entries.map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`).join(',')}}`;
}

const keys = fc.oneof(fc.string(), fc.constantFrom('0', '1', '2', '10', '9', '01', '4294967294', '4294967295', '__proto__', '$', 'a', 'B'));
const valuesWith = (keys: fc.Arbitrary<string>) => fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.array(fc.tuple(keys, tie('value')), { maxLength: 6 }).map((pairs) => {
    const object: Record<string, unknown> = {};
    for (const [key, member] of pairs) Object.defineProperty(object, key, { value: member, enumerable: true, writable: true, configurable: true });
    return object;
  }),
})).value;
const values = valuesWith(keys);
/** Few keys, so objects that are in order, hold "__proto__" or index keys, and nest unsorted ones are common. */
const fewKeyValues = valuesWith(fc.constantFrom('__proto__', 'a', 'b', '0', '10', '9'));

describe('canonical JSON', () => {
  it('equals an independent reference for any JSON value, whatever its keys (array indices, __proto__, unicode) and their order', () => {
    fc.assert(fc.property(values, (value) => {
      expect(canonicalJson(value)).toBe(reference(value));
    }), { numRuns: 2_000 });
    fc.assert(fc.property(fewKeyValues, (value) => {
      expect(canonicalJson(value)).toBe(reference(value));
    }), { numRuns: 2_000 });
  });

  it('keeps an own "__proto__" key as a key when a member under it or beside it needs its keys sorted', () => {
    const own = (pairs: [string, unknown][]) => {
      const object: Record<string, unknown> = {};
      for (const [key, member] of pairs) Object.defineProperty(object, key, { value: member, enumerable: true, writable: true, configurable: true });
      return object;
    };
    expect(canonicalJson(own([['__proto__', { b: 1, a: 2 }]]))).toBe('{"__proto__":{"a":2,"b":1}}');
    expect(canonicalJson(own([['__proto__', 1], ['z', { d: 1, c: 2 }]]))).toBe('{"__proto__":1,"z":{"c":2,"d":1}}');
  });

  it('refuses what has no JSON form, naming where it is, rather than writing null', () => {
    expect(() => canonicalJson({ a: { b: [1, Number.NaN] } })).toThrow(/\$\.a\.b\[1\] is NaN/);
    expect(() => canonicalJson({ a: [undefined] })).toThrow(/\$\.a\[0\] is undefined/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/\$\.n is a bigint/);
    expect(canonicalJson({ b: 1, a: undefined, c: { z: 1, y: [2, { d: 3, c: 4 }] } })).toBe('{"b":1,"c":{"y":[2,{"c":4,"d":3}],"z":1}}');
  });
});
