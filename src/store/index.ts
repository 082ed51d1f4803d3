export { ANY, collect, NO_STREAM, readStreamsConcurrently, readWholeStreams, STREAM_EXISTS } from './eventStore.ts';
export type {
  AllFilter, AppendResult, Direction, EventStore, ExpectedState, ReadAllOptions, ReadStreamOptions, ReadStreamsOptions, StreamEvents,
  StreamMetadata, Subscription, SubscribeToAllOptions, SubscribeToStreamOptions,
} from './eventStore.ts';
export { CorruptEventError, DuplicateEventIdError, StoreUnavailableError, StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError } from './errors.ts';
export { MemoryEventStore } from './memoryEventStore.ts';
export { DEFAULT_STORE_URI, openEventStore, parseStoreUri, StoreUriError } from './openEventStore.ts';
export { SqliteEventStore, type SqliteStoreOptions } from './sqliteEventStore.ts';
