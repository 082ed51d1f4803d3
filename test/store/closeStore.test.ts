import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { batch } from '../support/events.ts';

describe.each<[string, () => EventStore]>([
  ['memory', () => new MemoryEventStore()],
  ['sqlite', () => new SqliteEventStore(':memory:')],
])('closing a %s store', (_name, open) => {
  it('ends the subscriptions waiting on it, and refuses later reads saying the store is closed', async () => {
    const store = open();
    await store.appendToStream('session-c1', batch('session-c1', 1));
    const live = store.subscribeToAll({ fromPosition: 'end' });
    const waiting = live[Symbol.asyncIterator]().next();
    await store.close();
    // A `for await` over a subscription finishes instead of hanging (memory) or failing on a closed database (sqlite).
    await expect(waiting).resolves.toMatchObject({ done: true });
    await expect(collect(store.readStream('session-c1'))).rejects.toThrow(StoreUnavailableError);
    await expect(collect(store.readAll())).rejects.toThrow(/is closed/);
    await live.stop();
  });
});
