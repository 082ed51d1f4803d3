import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { StreamDeletedError, StreamNotFoundError } from '../../src/store/errors.ts';
import { collect, readStreamsConcurrently, readStreamsInTurn, type EventStore, type StreamEvents } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { batch } from '../support/events.ts';

/**
 * A store whose reads wait like network round trips (the way KurrentDB's do), each until the test lets it finish,
 * so the order reads finish in is the test's: it counts how many are under way at once.
 */
class RoundTripStore implements Pick<EventStore, 'readStream'> {
  readonly started: string[] = [];
  inFlight = 0;
  mostInFlight = 0;
  readonly #waiting = new Map<string, () => void>();
  readonly #failures = new Map<string, Error>();
  readonly #inner: MemoryEventStore;

  constructor(inner: MemoryEventStore) {
    this.#inner = inner;
  }

  failWith(streamId: string, error: Error): void {
    this.#failures.set(streamId, error);
  }

  /** Lets the read of `streamId` finish, once it has started. */
  async finish(streamId: string): Promise<void> {
    while (!this.#waiting.has(streamId)) await new Promise((resolve) => setImmediate(resolve));
    this.#waiting.get(streamId)!();
    this.#waiting.delete(streamId);
  }

  async *readStream(streamId: string): AsyncGenerator<RecordedEvent> {
    this.started.push(streamId);
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    try {
      await new Promise<void>((resolve) => this.#waiting.set(streamId, resolve));
      const failure = this.#failures.get(streamId);
      if (failure) throw failure;
      yield* this.#inner.readStream(streamId);
    } finally {
      this.inFlight--;
    }
  }
}

describe('readStreamsConcurrently: many streams read at once, given in the order asked', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
  let memory: MemoryEventStore;
  let store: RoundTripStore;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    memory = new MemoryEventStore();
    for (const [i, id] of ids.entries()) await memory.appendToStream(id, batch(id, 1 + (i % 4)));
    store = new RoundTripStore(memory);
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  /** Reads everything, finishing the reads last-started first, so later streams are often ready before earlier ones. */
  async function readAll(streamIds: readonly string[], options: { skipMissing?: boolean; inFlight?: number } = {}): Promise<StreamEvents[]> {
    const reading = collect(readStreamsConcurrently(store, streamIds, options));
    let released = 0;
    const release = async () => {
      while (released < streamIds.length) {
        await new Promise((resolve) => setImmediate(resolve));
        const open = store.started.slice(released).reverse();
        for (const streamId of open) await store.finish(streamId);
        released += open.length;
      }
    };
    const [events] = await Promise.all([reading, release()]);
    return events;
  }

  it('gives each stream exactly as readStream does, in the order asked, with at most `inFlight` reads under way', async () => {
    const asked = [...ids].reverse();
    const read = await readAll(asked, { inFlight: 4 });
    expect(read).toEqual(await collect(readStreamsInTurn(memory, asked)));
    expect(store.mostInFlight).toBe(4);
    expect(store.started).toEqual(asked);
  });

  it('passes over streams with no history when asked to, and throws at their turn otherwise, after the streams before', async () => {
    const asked = ['agent-0', 'agent-missing', 'agent-1'];
    expect((await readAll(asked, { skipMissing: true })).map((s) => s.streamId)).toEqual(['agent-0', 'agent-1']);

    store = new RoundTripStore(memory);
    const yielded: string[] = [];
    const reading = (async () => {
      for await (const { streamId } of readStreamsConcurrently(store, asked)) yielded.push(streamId);
    })();
    for (const streamId of asked) await store.finish(streamId);
    await expect(reading).rejects.toBeInstanceOf(StreamNotFoundError);
    expect(yielded).toEqual(['agent-0']);
  });

  it('throws a tombstoned stream even when skipping missing ones', async () => {
    await memory.tombstoneStream('agent-3');
    const reading = readAll(['agent-2', 'agent-3', 'agent-4'], { skipMissing: true });
    await expect(reading).rejects.toBeInstanceOf(StreamDeletedError);
  });

  it('reports a store that refuses a read at once (closed) at that stream\'s turn, like any other failed read', async () => {
    const refusing: Pick<EventStore, 'readStream'> = {
      readStream: (streamId) => {
        if (streamId === 'agent-1') throw new Error('the store is closed');
        return memory.readStream(streamId);
      },
    };
    const yielded: string[] = [];
    await expect((async () => {
      for await (const { streamId } of readStreamsConcurrently(refusing, ids)) yielded.push(streamId);
    })()).rejects.toThrow('the store is closed');
    expect(yielded).toEqual(['agent-0']);
  });

  it('drops the reads already under way past a failed stream, or past where the reader stopped, without unhandled errors', async () => {
    store.failWith('agent-1', new Error('connection reset while reading agent-1'));
    store.failWith('agent-2', new Error('connection reset while reading agent-2'));
    const failed = (async () => {
      for await (const _ of readStreamsConcurrently(store, ids, { inFlight: 3 })) { /* read on */ }
    })();
    for (const streamId of ['agent-2', 'agent-1', 'agent-0']) await store.finish(streamId);
    await expect(failed).rejects.toThrow('agent-1');

    store = new RoundTripStore(memory);
    store.failWith('agent-2', new Error('connection reset while reading agent-2'));
    const stopped = (async () => {
      for await (const { streamId } of readStreamsConcurrently(store, ids, { inFlight: 3 })) if (streamId === 'agent-0') break;
    })();
    await store.finish('agent-0');
    await stopped;
    await store.finish('agent-2');
    await store.finish('agent-1');
    await new Promise((resolve) => setImmediate(resolve));
    // Nothing read past the window the reader had when it stopped.
    expect(store.started).toEqual(['agent-0', 'agent-1', 'agent-2']);
    expect(unhandled).toEqual([]);
  });
});
