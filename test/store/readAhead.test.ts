import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventRegistry } from '../../src/events/catalogue.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { collect, type StreamEvents } from '../../src/store/eventStore.ts';
import { ReadAhead, ReadAheadStopped } from '../../src/store/readAhead.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { batch } from '../support/events.ts';

/**
 * `readStreams` on the SQLite store with the read-ahead thread: reads that span many of its 512-row chunks (more than
 * the two it may read ahead), stopped early, run side by side, and cut off by `close()`.
 */
describe('SQLite: many streams read ahead on a thread', () => {
  let dir: string;
  let store: SqliteEventStore;
  const ids = ['session-long', 'agent-a', 'agent-b', 'agent-c', 'agent-d'];
  const sizes = [1_300, 500, 1, 700, 500];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-read-ahead-'));
    store = new SqliteEventStore(join(dir, 'events.db'), { readAheadMinEvents: 1_000 });
    for (const [i, id] of ids.entries()) await store.appendToStream(id, batch(id, sizes[i]!));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const readOneByOne = async (streamIds: readonly string[]) => Promise.all(streamIds.map(async (streamId) => ({ streamId, events: await collect(store.readStream(streamId)) })));

  it('gives every stream exactly as readStream does, in the order asked, streams longer than a chunk included', async () => {
    const asked = [...ids].reverse();
    expect(await collect(store.readStreams(asked))).toEqual(await readOneByOne(asked));
  });

  it('sees the store as it was when the read began, as one readStream statement does', async () => {
    const seen: StreamEvents[] = [];
    for await (const read of store.readStreams(ids)) {
      // Appended after the first stream arrived, while later chunks are still to be read.
      if (seen.length === 0) await store.appendToStream('agent-d', batch('agent-d', 5, 500), { expectedState: 499n });
      seen.push(read);
    }
    expect(seen.map((read) => read.events.length)).toEqual(sizes);
    expect(await collect(store.readStream('agent-d'))).toHaveLength(505);
  });

  it('a reader that stops early leaves nothing behind: later reads, and reads side by side, are whole', async () => {
    for await (const read of store.readStreams(ids)) {
      expect(read.streamId).toBe('session-long');
      break;
    }
    const [forwards, backwards] = await Promise.all([collect(store.readStreams(ids)), collect(store.readStreams([...ids].reverse()))]);
    expect(forwards).toEqual(await readOneByOne(ids));
    expect(backwards).toEqual(await readOneByOne([...ids].reverse()));
  });

  it('a read cut off by close() fails with a clear error instead of waiting forever', async () => {
    const reading = (async () => {
      for await (const read of store.readStreams(ids)) if (read.streamId === 'session-long') await store.close();
    })();
    await expect(reading).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(reading).rejects.toThrow(/closed during a read/);
  });

  it('a thread stopped mid-read says how many streams it had finished, so the rest can be read another way', async () => {
    const readAhead = new ReadAhead(join(dir, 'events.db'), createEventRegistry());
    const finished: string[] = [];
    const reading = (async () => {
      for await (const read of readAhead.read(ids, () => true)) {
        finished.push(read.streamId);
        // Stopped after the first stream: the thread is then at most two chunks ahead, short of the last rows, so it
        // cannot have sent everything before it stops (after the second, on a slow machine, it sometimes had).
        if (finished.length === 1) await readAhead.close();
      }
    })();
    const stopped = await reading.catch((error: unknown) => error);
    expect(stopped).toBeInstanceOf(ReadAheadStopped);
    // The thread had read ahead of the reader; what counts is what the reader was given.
    expect((stopped as ReadAheadStopped).handled).toBe(finished.length);
    expect(finished).toEqual(ids.slice(0, finished.length));
  });

  it('a thread that cannot go on costs speed, never the read: the rest is read on the caller\'s thread, with a warning', async () => {
    const warnings: string[] = [];
    // (The store's WAL checkpoint thread cannot open the file either, and says so in a warning of its own.)
    const onWarning = (warning: Error) => warning.message.includes('read-ahead thread') && warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      // The file removed from under the open store: its own connection still reads it, the thread cannot open it.
      rmSync(join(dir, 'events.db'));
      expect(await collect(store.readStreams(ids))).toEqual(await readOneByOne(ids));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([expect.stringMatching(/read-ahead thread of the store at .*events\.db stopped \(.*\); its reads continue on the caller's thread/)]);
      expect(await collect(store.readStreams([...ids].reverse()))).toEqual(await readOneByOne([...ids].reverse()));
      expect(warnings).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
