import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { walFillingBatches } from './walFilling.ts';

/**
 * `node walWriter.ts <path> close|leave`: writes enough events for the store to start its checkpoint thread, then
 * closes the store or leaves it open, and ends by running out of work. The test asserts the process exits.
 */
const [path, ending] = process.argv.slice(2);
const store = new SqliteEventStore(path!);
for (const { streamId, events } of walFillingBatches()) await store.appendToStream(streamId, events);
if (ending === 'close') await store.close();
process.stdout.write('written\n');
