import { ActorRuntime } from '../src/runtime/actorRuntime.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { modelResolver } from '../src/runtime/modelResolver.ts';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { runSessions } from './sessionFixtures.ts';

/**
 * `node bench/replayFill.ts <path> <sessions> <turns> <concurrency>`: writes the sessions the replay bench reads,
 * through the real runtime, and prints their ids as JSON. A process of its own, as in real use: `chronicle replay`
 * reads a store that other processes wrote.
 */
const [path, sessions, turns, concurrency] = process.argv.slice(2);
const store = new SqliteEventStore(path!);
const resolve = modelResolver(systemClock);
const runtime = new ActorRuntime({ store, models: resolve });
try {
  const ids = await runSessions(runtime, resolve, { prefix: 'replay', sessions: Number(sessions), turns: Number(turns), concurrency: Number(concurrency) });
  process.stdout.write(JSON.stringify(ids));
} finally {
  runtime.stop();
  await store.close();
}
