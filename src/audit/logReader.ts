import type { EventRegistry } from '../events/eventRegistry.ts';
import { createEventRegistry } from '../events/catalogue.ts';
import type { EventStore } from '../store/eventStore.ts';
import { SqliteEventStore } from '../store/sqliteEventStore.ts';
import type { SessionLog } from './sessionLog.ts';
import { sqliteLogReader } from './sqliteLogReader.ts';
import { storeLogReader } from './storeLogReader.ts';

/** Where an audit reads sessions from. */
export interface LogReader {
  /** Every session in the store, in the order they started. */
  sessionIds(): Promise<string[]>;
  read(sessionId: string): Promise<SessionLog>;
  close(): void;
}

/**
 * A SQLite file is read row by row (past any record a store read would refuse); any other store through its reads,
 * resuming after each record it refuses.
 */
export function logReaderFor(store: EventStore, registry: EventRegistry = createEventRegistry()): LogReader {
  if (store instanceof SqliteEventStore && store.path !== ':memory:') return sqliteLogReader(store.path, registry);
  return storeLogReader(store);
}
