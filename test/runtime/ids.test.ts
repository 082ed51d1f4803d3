import { describe, expect, it } from 'vitest';
import { eventIdSchema } from '../../src/events/envelope.ts';
import { derivedId, seededIds, timeOrderedIds } from '../../src/runtime/ids.ts';

describe('event ids', () => {
  it('are version 7 uuids that sort in the order they were made, also within one millisecond and when the clock steps back', () => {
    let now = Date.parse('2026-11-24T10:00:00.000Z');
    const clock = [0, 0, 0, 1, 1, -5, 2];
    let step = 0;
    const source = timeOrderedIds(() => now + clock[Math.min(step++, clock.length - 1)]!);
    const ids = Array.from({ length: 5_000 }, () => source.next());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 10)) {
      expect(eventIdSchema.safeParse(id).success).toBe(true);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    // The first 48 bits are the milliseconds.
    expect(Number.parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('derived ids are stable, differ per name, and keep a time-ordered source id in front', () => {
    const source = timeOrderedIds().next();
    const outcome = derivedId(`${source}/outcome`);
    expect(derivedId(`${source}/outcome`)).toBe(outcome);
    expect(derivedId(`${source}/delivered`)).not.toBe(outcome);
    expect(outcome.slice(0, 13)).toBe(source.slice(0, 13));
    expect(outcome).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdSchema.safeParse(outcome).success).toBe(true);
    const seeded = seededIds('s');
    expect([seeded.next(), seeded.next()]).toEqual([derivedId('s:0'), derivedId('s:1')]);
  });
});
