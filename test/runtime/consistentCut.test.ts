import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { consistentCut } from '../../src/runtime/consistentCut.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect } from '../../src/store/eventStore.ts';
import { KHULNA_FOLLOW_UPS } from '../../src/cli/khulnaConversation.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

/** The first position at or after `from` where every event at or before it has its cause at or before it: by brute force. */
function firstClosedPosition(log: readonly RecordedEvent[], from: bigint): bigint {
  const positionOf = new Map(log.map((e) => [e.eventId, e.position]));
  const candidates = [from, ...log.filter((e) => e.position > from).map((e) => e.position)];
  return candidates.find((p) => log.every((e) => e.position > p || e.metadata.causationId === null || (positionOf.get(e.metadata.causationId) ?? 0n) <= p))!;
}

describe('a point inside one append (consistentCut)', () => {
  it('moves a position between an effect and its later-positioned cause to where every cause is in, and leaves every other point as it is', async () => {
    // A hand-off writes the transition, both agent instances and the session in one append, stream part by stream
    // part: the retired agent's `transition.readinessRequested` comes before the transition's `message.sent` that caused it.
    const system = simulatedSystem({ seed: 'cut' });
    await system.start('cut', { model: 'scripted:latency=20,seed=11', contextWindow: 2_000 });
    for (const [turn, text] of KHULNA_FOLLOW_UPS.slice(0, 6).entries()) {
      await system.ask('cut', query(text, 'BD', 'climate_adaptation'));
      await system.runUntilAnswered(['cut'], turn + 1);
    }
    const log = await collect(system.store.readAll());
    const positionOf = new Map(log.map((e) => [e.eventId, e.position]));
    const torn = log.filter((e) => e.metadata.causationId !== null && (positionOf.get(e.metadata.causationId) ?? 0n) > e.position);
    expect(torn.length, 'the scenario has effects recorded before their causes inside one append').toBeGreaterThan(0);

    let moved = 0;
    for (const event of log) {
      const { at, movedFrom } = await consistentCut(system.store, { position: event.position });
      const expected = firstClosedPosition(log, event.position);
      expect(at, `position ${event.position}`).toEqual({ position: expected });
      expect(movedFrom).toBe(expected === event.position ? undefined : event.position);
      if (movedFrom !== undefined) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(torn.length);
    // About another session, or about a stream the torn events do not touch, the point needs no move.
    const other = { streams: (streamId: string) => streamId === 'session-other' };
    expect(await consistentCut(system.store, { position: torn[0]!.position }, other)).toEqual({ at: { position: torn[0]!.position } });
    // A store that writes an append's parts one by one showed each in-between state: nothing to move (KurrentDB).
    const partByPart = Object.create(system.store, { atomicMultiStreamAppend: { value: false } }) as typeof system.store;
    expect(await consistentCut(partByPart, { position: torn[0]!.position })).toEqual({ at: { position: torn[0]!.position } });
    // Times and "now" are consistent already: all of one append's facts share their time.
    expect(await consistentCut(system.store, undefined)).toEqual({ at: undefined });
    const time = { time: torn[0]!.metadata.recordedAt };
    expect(await consistentCut(system.store, time)).toEqual({ at: time });

    // As of the asked position the agent has been asked for readiness by a transition that has not asked yet; as of
    // the moved point the transition's request is in.
    const asked = torn.find((e) => e.type === 'transition.readinessRequested')!;
    const request = log.find((e) => e.eventId === asked.metadata.causationId)!;
    const transitionAt = async (position: bigint) => (await sessionStateAt(system.store, 'cut', { position })).actors.find((a) => a.streamId === request.streamId);
    expect((await transitionAt(asked.position))?.revision ?? -1n).toBeLessThan(request.revision);
    const { at } = await consistentCut(system.store, { position: asked.position });
    expect((await transitionAt((at as { position: bigint }).position))!.revision).toBeGreaterThanOrEqual(request.revision);
  });
});
