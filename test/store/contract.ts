import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { EventSchemaError } from '../../src/events/eventSchemaError.ts';
import { GENESIS_HASH, verifyChain } from '../../src/events/hashChain.ts';
import { DuplicateEventIdError, StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError } from '../../src/store/errors.ts';
import { collect, readWholeStreams, type AppendResult, type EventStore } from '../../src/store/eventStore.ts';
import { batch, taskAssigned } from '../support/events.ts';

export interface StoreUnderTest {
  store: EventStore;
  cleanup?: () => Promise<void>;
}

/**
 * The one contract every EventStore adapter passes. Stream names are unique per test so the suite also runs
 * against a shared KurrentDB server that holds other data; readAll assertions filter on the test's prefix.
 */
export interface AdapterLimits {
  /** KurrentDB cannot look an event up by id, so an id reused in another stream goes unnoticed there. */
  detectsIdsReusedInOtherStreams?: boolean;
}

export function eventStoreContract(adapter: string, open: () => Promise<StoreUnderTest>, limits: AdapterLimits = {}): void {
  const detectsReuse = limits.detectsIdsReusedInOtherStreams ?? true;
  describe(`EventStore contract: ${adapter}`, () => {
    let subject: StoreUnderTest;
    let store: EventStore;
    let prefix: string;
    const stream = (name: string) => `${prefix}${name}-${name === 'x' ? 'x' : '1'}`;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
      prefix = `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    });
    afterEach(async () => {
      await store.close();
      await subject.cleanup?.();
    });

    const placeOf = ({ nextExpectedRevision, position }: AppendResult) => ({ nextExpectedRevision, position });
    const readStream = (id: string, options?: Parameters<EventStore['readStream']>[1]) => collect(store.readStream(id, options));
    const readMine = (options: Parameters<EventStore['readAll']>[0] = {}) =>
      collect(store.readAll({ ...options, filter: { streamNamePrefix: prefix, ...options.filter } }));

    describe('expected state', () => {
      it('no_stream succeeds on a new stream and fails on an existing one, naming both states', async () => {
        const id = stream('session');
        const first = await store.appendToStream(id, batch(id, 2), { expectedState: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(1n);
        const error = await store.appendToStream(id, batch(id, 1), { expectedState: 'no_stream' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).expectedState).toBe('no_stream');
        expect((error as WrongExpectedVersionError).actualState).toBe(1n);
      });

      it('refuses, naming the field, a stream id or expected state of the wrong type (as plain JavaScript may pass), and writes nothing', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 1));
        const plain = store as unknown as { appendToStream(streamId: unknown, events: unknown, options?: { expectedState?: unknown }): Promise<AppendResult> };
        await expect(plain.appendToStream(id, batch(id, 1, 1), { expectedState: 0 })).rejects.toThrow(/expectedState for stream ".*" must be 'any', 'no_stream', 'stream_exists' or a revision as a non-negative bigint \(e\.g\. 0n\), not 0 \(number\)/);
        await expect(plain.appendToStream(id, batch(id, 1, 1), { expectedState: 'latest' })).rejects.toThrow(TypeError);
        await expect(plain.appendToStream(id, batch(id, 1, 1), { expectedState: -1n })).rejects.toThrow(TypeError);
        await expect(plain.appendToStream(42, batch('42', 1))).rejects.toThrow(/streamId must be a non-empty string, not 42/);
        await expect(plain.appendToStream('', batch(id, 1, 1))).rejects.toThrow(/streamId must be a non-empty string, not an empty one/);
        expect(await readStream(id)).toHaveLength(1);
      });

      it('stream_exists fails on a new stream and succeeds on an existing one', async () => {
        const id = stream('session');
        await expect(store.appendToStream(id, batch(id, 1), { expectedState: 'stream_exists' })).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(readStream(id)).rejects.toBeInstanceOf(StreamNotFoundError);
        await store.appendToStream(id, batch(id, 1));
        const result = await store.appendToStream(id, batch(id, 1, 1), { expectedState: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('an exact revision succeeds only at the head, and the loser learns the actual revision', async () => {
        const id = stream('agent');
        await store.appendToStream(id, batch(id, 3));
        await expect(store.appendToStream(id, batch(id, 1, 3), { expectedState: 1n })).rejects.toMatchObject({ name: 'WrongExpectedVersionError', expectedState: 1n, actualState: 2n });
        await expect(store.appendToStream(id, batch(id, 1, 3), { expectedState: 5n })).rejects.toBeInstanceOf(WrongExpectedVersionError);
        const ok = await store.appendToStream(id, batch(id, 1, 3), { expectedState: 2n });
        expect(ok.nextExpectedRevision).toBe(3n);
        await expect(store.appendToStream(stream('x'), batch(stream('x'), 1), { expectedState: 0n })).rejects.toBeInstanceOf(WrongExpectedVersionError);
      });

      it('any always appends, revisions zero-based and contiguous', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 2), { expectedState: 'any' });
        await store.appendToStream(id, batch(id, 2, 2), { expectedState: 'any' });
        expect((await readStream(id)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      });
    });

    describe('idempotency', () => {
      it('re-appending the same batch at the same place is a no-op that returns the original result', async () => {
        const id = stream('session');
        const events = batch(id, 3);
        const first = placeOf(await store.appendToStream(id, events, { expectedState: 'no_stream' }));
        const again = await store.appendToStream(id, events, { expectedState: 'no_stream' });
        // A no-op writes nothing, so it returns no events as recorded.
        expect(again.recorded).toBeUndefined();
        expect(placeOf(again)).toEqual(first);
        const afterMore = await store.appendToStream(id, batch(id, 1, 3), { expectedState: 2n });
        expect(placeOf(await store.appendToStream(id, events, { expectedState: 'any' }))).toEqual(first);
        expect((await readStream(id)).length).toBe(4);
        expect(afterMore.nextExpectedRevision).toBe(3n);
      });

      it('a re-sent batch at an exact revision is a no-op; the same ids at another place are refused', async () => {
        const id = stream('agent');
        await store.appendToStream(id, batch(id, 2));
        const events = batch(id, 2, 2);
        const first = placeOf(await store.appendToStream(id, events, { expectedState: 1n }));
        expect(placeOf(await store.appendToStream(id, events, { expectedState: 1n }))).toEqual(first);
        expect((await readStream(id)).length).toBe(4);
        if (!detectsReuse) return;
        const other = stream('x');
        await expect(store.appendToStream(other, events)).rejects.toBeInstanceOf(DuplicateEventIdError);
        await expect(readStream(other)).rejects.toBeInstanceOf(StreamNotFoundError);
        // Also when the expected state is exactly the head (no_stream, or the head's revision), alone or in a multi-stream append.
        await expect(store.appendToStream(other, events, { expectedState: 'no_stream' })).rejects.toThrow(new RegExp(`already recorded in stream "${id}"`));
        const third = stream('session');
        await store.appendToStream(third, batch(third, 1));
        await expect(store.appendToStreams([
          { streamId: third, events: batch(third, 1, 1), expectedState: 0n },
          { streamId: other, events: events.slice(1), expectedState: 'no_stream' },
        ])).rejects.toBeInstanceOf(DuplicateEventIdError);
        if (store.atomicMultiStreamAppend) expect(await readStream(third)).toHaveLength(1);
        await expect(readStream(other)).rejects.toBeInstanceOf(StreamNotFoundError);
      });

      it('a batch that repeats an id inside itself is refused and writes nothing', async () => {
        const id = stream('session');
        const event = taskAssigned(id, 0);
        await expect(store.appendToStream(id, [event, { ...event }])).rejects.toBeInstanceOf(DuplicateEventIdError);
        await expect(readStream(id)).rejects.toBeInstanceOf(StreamNotFoundError);
      });
    });

    describe('all-or-nothing', () => {
      it('a batch with one schema violation raises an error naming stream, revision, type and field, and writes nothing', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 2));
        const events = batch(id, 3, 2);
        events[2] = { ...events[2]!, data: { ...(events[2]!.data as object), query: 42 } };
        const error = await store.appendToStream(id, events).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventSchemaError);
        const schemaError = error as EventSchemaError;
        expect(schemaError.fieldPaths).toEqual(['data.query']);
        expect(schemaError.place).toMatchObject({ streamId: id, revision: 4n, batchIndex: 2 });
        expect(schemaError.message).toContain(`stream "${id}"`);
        expect(schemaError.message).toContain('task.assigned');
        expect((await readStream(id)).length).toBe(2);
        expect((await readMine()).length).toBe(2);
      });

      it('unknown types and incomplete envelopes are refused with the field named', async () => {
        const id = stream('session');
        await expect(store.appendToStream(id, [{ ...taskAssigned(id, 0), type: 'task.asigned' }])).rejects.toThrow(/type: is not a registered event type/);
        const { recordedAt: _dropped, ...metadata } = taskAssigned(id, 0).metadata;
        await expect(store.appendToStream(id, [{ ...taskAssigned(id, 0), metadata: metadata as never }])).rejects.toThrow(/metadata\.recordedAt/);
        await expect(store.appendToStream(id, [{ ...taskAssigned(id, 0), eventId: 'not-a-uuid' }])).rejects.toThrow(/eventId: must be a uuid/);
        await expect(readStream(id)).rejects.toBeInstanceOf(StreamNotFoundError);
      });
    });

    describe('multi-stream append', () => {
      it('appends several streams in order, each part with its own expected state', async () => {
        const a = stream('session');
        const b = stream('agent');
        await store.appendToStream(a, batch(a, 1));
        const results = await store.appendToStreams([
          { streamId: a, events: batch(a, 2, 1), expectedState: 0n },
          { streamId: b, events: batch(b, 1), expectedState: 'no_stream' },
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([2n, 0n]);
        expect(results[1]!.position > results[0]!.position).toBe(true);
        expect((await readMine()).map((e) => `${e.streamId}@${e.revision}`)).toEqual([`${a}@0`, `${a}@1`, `${a}@2`, `${b}@0`]);
      });

      it('is all-or-nothing where the store says it is atomic: a refused part leaves every stream untouched', async () => {
        if (!store.atomicMultiStreamAppend) return;
        const a = stream('session');
        const b = stream('agent');
        await store.appendToStream(b, batch(b, 1));
        await expect(store.appendToStreams([
          { streamId: a, events: batch(a, 2), expectedState: 'no_stream' },
          { streamId: b, events: batch(b, 1, 1), expectedState: 'no_stream' },
        ])).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(readStream(a)).rejects.toBeInstanceOf(StreamNotFoundError);
        expect(await readMine()).toHaveLength(1);
      });

      it('refuses a stream named twice or an event id used in two parts', async () => {
        const a = stream('session');
        const b = stream('agent');
        const shared = taskAssigned(a, 0);
        await expect(store.appendToStreams([{ streamId: a, events: [shared] }, { streamId: a, events: batch(a, 1) }])).rejects.toThrow(/names stream .* twice/);
        await expect(store.appendToStreams([{ streamId: a, events: [shared] }, { streamId: b, events: [shared] }])).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await readMine()).toHaveLength(0);
      });
    });

    describe('reading', () => {
      it('orders events across streams by strictly increasing position, each stream by revision', async () => {
        const a = stream('session');
        const b = stream('agent');
        await store.appendToStream(a, batch(a, 2));
        await store.appendToStream(b, batch(b, 3));
        await store.appendToStream(a, batch(a, 1, 2));
        const all = await readMine();
        expect(all.map((e) => `${e.streamId}@${e.revision}`)).toEqual([
          `${a}@0`, `${a}@1`, `${b}@0`, `${b}@1`, `${b}@2`, `${a}@2`,
        ]);
        for (let i = 1; i < all.length; i++) expect(all[i]!.position > all[i - 1]!.position).toBe(true);
        const last = await store.appendToStream(b, batch(b, 1, 3));
        expect(last.position > all[all.length - 1]!.position).toBe(true);
      });

      it('reads a stream when the read is consumed, not when it is made, and the same one by one as collected', async () => {
        const a = stream('session');
        await store.appendToStream(a, batch(a, 2));
        const made = store.readStream(a);
        await store.appendToStream(a, batch(a, 1, 2), { expectedState: 1n });
        const oneByOne: RecordedEvent[] = [];
        for await (const event of made) oneByOne.push(event);
        expect(oneByOne.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(await collect(store.readStream(a))).toEqual(oneByOne);
      });

      it('knows its newest position, if it tells it: a caught-up reader then skips a read that would be empty', async () => {
        if (store.lastPosition === undefined) return;
        const a = stream('session');
        const first = await store.appendToStream(a, batch(a, 2));
        expect(await store.lastPosition()).toBe(first.position);
        const b = stream('agent');
        const second = await store.appendToStream(b, batch(b, 3));
        expect(await store.lastPosition()).toBe(second.position);
        expect(await collect(store.readAll({ fromPosition: second.position + 1n }))).toEqual([]);
      });

      it('returns the envelope exactly as written, sealed into a verifiable hash chain', async () => {
        const id = stream('session');
        const written = batch(id, 3);
        await store.appendToStream(id, written.slice(0, 1));
        await store.appendToStream(id, written.slice(1));
        const read = await readStream(id);
        expect(read.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data }))).toEqual(written.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data })));
        expect(read[0]!.metadata).toMatchObject({ ...written[0]!.metadata, schemaVersion: 1, prevHash: GENESIS_HASH });
        expect(read[1]!.metadata.prevHash).toBe(read[0]!.metadata.hash);
        expect(verifyChain(read)).toEqual({ ok: true, checked: 3 });
      });

      it('an append that returns the events as recorded returns exactly what a read gives back', async (context) => {
        const a = stream('session');
        const b = stream('agent');
        const results = await store.appendToStreams([{ streamId: a, events: batch(a, 2) }, { streamId: b, events: batch(b, 3) }]);
        if (results.some((r) => r.recorded === undefined)) return context.skip();
        expect(results[0]!.recorded).toEqual(await readStream(a));
        expect(results[1]!.recorded).toEqual(await readStream(b));
        expect(results.map((r) => r.recorded!.at(-1)!.position)).toEqual(results.map((r) => r.position));
      });

      it('reads many whole streams in the order asked, each exactly as readStream reads it', async () => {
        const ids = [stream('session'), stream('agent'), stream('checkpoint')];
        for (const [i, id] of ids.entries()) await store.appendToStream(id, batch(id, 2 + i));
        await store.setStreamMetadata(ids[2]!, { maxCount: 2 });
        const asked = [ids[2]!, ids[0]!, ids[1]!];
        const read = await collect(readWholeStreams(store, asked));
        expect(read.map((r) => r.streamId)).toEqual(asked);
        for (const { streamId, events } of read) expect(events).toEqual(await readStream(streamId));
      });

      it('many streams: one with no history throws at its turn, or is passed over when asked to; a tombstoned one always throws', async () => {
        const [a, deleted, b, tombstoned] = [stream('session'), stream('agent'), stream('checkpoint'), stream('transition')];
        for (const id of [a, deleted, b, tombstoned]) await store.appendToStream(id, batch(id, 2));
        await store.deleteStream(deleted);
        await store.tombstoneStream(tombstoned);
        const yielded: string[] = [];
        const reading = (async () => { for await (const r of readWholeStreams(store, [a, stream('x'), b])) yielded.push(r.streamId); })();
        await expect(reading).rejects.toBeInstanceOf(StreamNotFoundError);
        expect(yielded).toEqual([a]);
        const skipping = await collect(readWholeStreams(store, [a, stream('x'), deleted, b], { skipMissing: true }));
        expect(skipping.map((r) => [r.streamId, r.events.length])).toEqual([[a, 2], [b, 2]]);
        await expect(collect(readWholeStreams(store, [a, tombstoned], { skipMissing: true }))).rejects.toBeInstanceOf(StreamDeletedError);
      });

      it('reads a stream backwards, from a revision, with a max count', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 6));
        const revisions = (events: RecordedEvent[]) => events.map((e) => e.revision);
        expect(revisions(await readStream(id, { direction: 'backwards' }))).toEqual([5n, 4n, 3n, 2n, 1n, 0n]);
        expect(revisions(await readStream(id, { direction: 'backwards', fromRevision: 3n, maxCount: 2 }))).toEqual([3n, 2n]);
        expect(revisions(await readStream(id, { direction: 'backwards', fromRevision: 'end', maxCount: 1 }))).toEqual([5n]);
        expect(revisions(await readStream(id, { fromRevision: 4n }))).toEqual([4n, 5n]);
        expect(revisions(await readStream(id, { fromRevision: 'start', maxCount: 2 }))).toEqual([0n, 1n]);
        expect(revisions(await readStream(id, { fromRevision: 9n }))).toEqual([]);
      });

      it('reads all backwards and from a position (inclusive)', async () => {
        const a = stream('session');
        const b = stream('agent');
        await store.appendToStream(a, batch(a, 3));
        await store.appendToStream(b, batch(b, 3));
        const forwards = await readMine();
        const backwards = await readMine({ direction: 'backwards' });
        expect(backwards.map((e) => e.eventId)).toEqual(forwards.map((e) => e.eventId).reverse());
        const middle = forwards[3]!.position;
        expect((await readMine({ fromPosition: middle })).map((e) => e.eventId)).toEqual(forwards.slice(3).map((e) => e.eventId));
        expect((await readMine({ fromPosition: middle, direction: 'backwards', maxCount: 2 })).map((e) => e.eventId)).toEqual([forwards[3]!.eventId, forwards[2]!.eventId]);
      });

      it('filters all by stream-name prefix and by event-type prefix', async () => {
        const session = stream('session');
        const agent = stream('agent');
        await store.appendToStream(session, batch(session, 2));
        await store.appendToStream(agent, [taskAssigned(agent, 0), {
          ...taskAssigned(agent, 1), type: 'model.failed', data: { requestId: 'r1', reason: 'timeout', retryable: true, kind: 'timeout' },
        }]);
        expect((await collect(store.readAll({ filter: { streamNamePrefix: `${prefix}agent` } }))).map((e) => e.streamId)).toEqual([agent, agent]);
        const failures = await collect(store.readAll({ filter: { streamNamePrefix: prefix, eventTypePrefix: 'model.' } }));
        expect(failures.map((e) => e.type)).toEqual(['model.failed']);
        const both = await collect(store.readAll({ filter: { streamNamePrefix: [`${prefix}agent`, `${prefix}session`] } }));
        expect(both).toHaveLength(4);
        expect(await readMine({ filter: { eventTypePrefix: 'session.' } })).toEqual([]);
      });
    });

    describe('subscriptions', () => {
      it('catches up, then goes live, without gap or duplicate while appends race it', async () => {
        const ids = [stream('session'), stream('agent')];
        for (const id of ids) await store.appendToStream(id, batch(id, 25));
        const subscription = store.subscribeToAll({ filter: { streamNamePrefix: prefix } });
        const received: RecordedEvent[] = [];
        const reading = (async () => {
          for await (const event of subscription) {
            received.push(event);
            if (received.length === 250) break;
          }
        })();
        const writing = (async () => {
          for (let round = 0; round < 20; round++) {
            await Promise.all(ids.map((id, i) => store.appendToStream(id, batch(id, 5, 25 + round * 5), { expectedState: BigInt(24 + round * 5) }).then(() => i)));
          }
        })();
        await Promise.all([reading, writing]);
        await subscription.stop();
        const all = await readMine();
        expect(all).toHaveLength(250);
        expect(received.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
        expect(new Set(received.map((e) => e.eventId)).size).toBe(250);
      });

      it('a subscriber that falls behind catches up without loss', async () => {
        const id = stream('session');
        const subscription = store.subscribeToStream(id);
        const iterator = subscription[Symbol.asyncIterator]();
        await store.appendToStream(id, batch(id, 1));
        expect((await iterator.next()).value?.revision).toBe(0n);
        for (let i = 1; i < 40; i++) await store.appendToStream(id, batch(id, 1, i));
        const rest: bigint[] = [];
        for (let i = 1; i < 40; i++) rest.push((await iterator.next()).value!.revision);
        expect(rest).toEqual(Array.from({ length: 39 }, (_, i) => BigInt(i + 1)));
        await subscription.stop();
      });

      it("refuses a start that is not a bigint, 'start' or 'end' at once, naming the option (a JavaScript caller's 3 for 3n)", () => {
        const id = stream('session');
        expect(() => store.subscribeToStream(id, { fromRevision: 3 as unknown as bigint })).toThrow(/subscription's fromRevision must be a non-negative bigint \(as 3n, not 3\).*got 3$/);
        expect(() => store.subscribeToAll({ fromPosition: -1n })).toThrow(/subscription's fromPosition must be a non-negative bigint/);
        expect(() => store.subscribeToStream(id, { fromRevision: 'latest' as 'end' })).toThrow(/got "latest"/);
      });

      it('starts after a position or revision (exclusive) or at the end, and stop() ends a pending read', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 3));
        const [, second] = await readMine();
        const fromPosition = store.subscribeToAll({ fromPosition: second!.position, filter: { streamNamePrefix: prefix } });
        const fromRevision = store.subscribeToStream(id, { fromRevision: 0n });
        const fromEnd = store.subscribeToStream(id, { fromRevision: 'end' });
        const positionIterator = fromPosition[Symbol.asyncIterator]();
        const revisionIterator = fromRevision[Symbol.asyncIterator]();
        const endIterator = fromEnd[Symbol.asyncIterator]();
        expect((await positionIterator.next()).value?.revision).toBe(2n);
        expect((await revisionIterator.next()).value?.revision).toBe(1n);
        const pendingAtEnd = endIterator.next();
        await store.appendToStream(id, batch(id, 1, 3));
        expect((await pendingAtEnd).value?.revision).toBe(3n);
        const pending = positionIterator.next();
        expect((await pending).value?.revision).toBe(3n);
        const stalled = positionIterator.next();
        await fromPosition.stop();
        expect((await stalled).done).toBe(true);
        await fromRevision.stop();
        await fromEnd.stop();
      });
    });

    describe('stream metadata and deletion', () => {
      it('maxCount keeps only the newest events readable, also after further appends', async () => {
        const id = stream('checkpoint');
        await store.appendToStream(id, batch(id, 10));
        await store.setStreamMetadata(id, { maxCount: 3 });
        expect(await store.getStreamMetadata(id)).toEqual({ maxCount: 3 });
        expect((await readStream(id)).map((e) => e.revision)).toEqual([7n, 8n, 9n]);
        await store.appendToStream(id, batch(id, 2, 10), { expectedState: 9n });
        expect((await readStream(id)).map((e) => e.revision)).toEqual([9n, 10n, 11n]);
        expect((await readMine()).map((e) => e.revision)).toEqual([9n, 10n, 11n]);
      });

      it('truncateBefore hides earlier revisions; metadata is validated', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 6));
        await store.setStreamMetadata(id, { truncateBefore: 4n });
        expect(await store.getStreamMetadata(id)).toEqual({ truncateBefore: 4n });
        expect((await readStream(id)).map((e) => e.revision)).toEqual([4n, 5n]);
        expect(await store.getStreamMetadata(stream('x'))).toEqual({});
        await expect(store.setStreamMetadata(id, { maxCount: 0 })).rejects.toThrow(/maxCount/);
      });

      it('a soft-deleted stream reads as not found and is recreated by a later append, revisions continuing', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 3));
        await store.deleteStream(id);
        await expect(readStream(id)).rejects.toBeInstanceOf(StreamNotFoundError);
        const recreated = await store.appendToStream(id, batch(id, 2, 3), { expectedState: 'any' });
        expect(recreated.nextExpectedRevision).toBe(4n);
        const events = await readStream(id);
        expect(events.map((e) => e.revision)).toEqual([3n, 4n]);
        expect(events[1]!.metadata.prevHash).toBe(events[0]!.metadata.hash);
      });

      it('locateInStream, where offered, agrees with readStream: first readable, last, by revision, and nothing for hidden streams', async (context) => {
        if (!store.locateInStream) return context.skip();
        const id = stream('checkpoint');
        await store.appendToStream(id, batch(id, 10));
        const where = (e: RecordedEvent) => ({ revision: e.revision, position: e.position, recordedAt: e.metadata.recordedAt });
        const events = await readStream(id);
        expect(await store.locateInStream(id, 'start')).toEqual(where(events[0]!));
        expect(await store.locateInStream(id, 'end')).toEqual(where(events[9]!));
        expect(await store.locateInStream(id, 4n)).toEqual(where(events[4]!));
        expect(await store.locateInStream(id, 10n)).toBeUndefined();
        await store.setStreamMetadata(id, { maxCount: 3 });
        expect(await store.locateInStream(id, 'start')).toEqual(where(events[7]!));
        expect(await store.locateInStream(id, 2n)).toEqual(where(events[7]!));
        expect(await store.locateInStream(stream('x'), 'end')).toBeUndefined();
        await store.deleteStream(id);
        expect(await store.locateInStream(id, 'end')).toBeUndefined();
      });

      it('a tombstoned stream can never be read or written again', async () => {
        const id = stream('session');
        await store.appendToStream(id, batch(id, 2));
        await expect(store.tombstoneStream(id, { expectedState: 0n })).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await store.tombstoneStream(id, { expectedState: 1n });
        await expect(readStream(id)).rejects.toBeInstanceOf(StreamDeletedError);
        await expect(store.appendToStream(id, batch(id, 1, 2))).rejects.toBeInstanceOf(StreamDeletedError);
      });
    });

    describe('laws (property-based)', () => {
      it('any interleaving of appends gives contiguous revisions, increasing positions, and idempotent re-sends', async () => {
        await fc.assert(fc.asyncProperty(
          fc.array(fc.record({ stream: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 4 }), resend: fc.boolean() }), { minLength: 1, maxLength: 12 }),
          async (steps) => {
            const run = `${prefix}p${randomUUID().slice(0, 8)}`;
            const sent: { id: string; events: ReturnType<typeof batch>; expected: bigint | 'no_stream' }[] = [];
            const lengths = new Map<string, number>();
            for (const step of steps) {
              if (step.resend && sent.length > 0) {
                const earlier = sent[step.stream % sent.length]!;
                await store.appendToStream(earlier.id, earlier.events, { expectedState: earlier.expected });
                continue;
              }
              const id = `${run}s${step.stream}-1`;
              const length = lengths.get(id) ?? 0;
              const events = batch(id, step.size, length);
              const expected = length === 0 ? 'no_stream' as const : BigInt(length - 1);
              await store.appendToStream(id, events, { expectedState: expected });
              sent.push({ id, events, expected });
              lengths.set(id, length + step.size);
            }
            const all = await collect(store.readAll({ filter: { streamNamePrefix: run } }));
            expect(all.map((e) => e.eventId)).toEqual(sent.flatMap((s) => s.events.map((e) => e.eventId)));
            for (let i = 1; i < all.length; i++) expect(all[i]!.position > all[i - 1]!.position).toBe(true);
            for (const [id, length] of lengths) {
              const events = await readStream(id);
              expect(events.map((e) => e.revision)).toEqual(Array.from({ length }, (_, i) => BigInt(i)));
              expect(verifyChain(events).ok).toBe(true);
            }
          },
        ), { numRuns: 25 });
      });
    });
  });
}
