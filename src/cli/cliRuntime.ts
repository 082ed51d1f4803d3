import { ActorRuntime } from '../runtime/actorRuntime.ts';
import { systemClock } from '../runtime/clock.ts';
import { modelResolver } from '../runtime/modelResolver.ts';
import { resumeUnfinishedSessions, untilSessionsIdle } from '../runtime/resumeSessions.ts';
import type { EventStore } from '../store/eventStore.ts';
import { openEventStore } from '../store/openEventStore.ts';
import { loadCliConfig } from './cliConfig.ts';
import type { CommandIo } from './commandIo.ts';
import { sessionProjections } from './sessionProjections.ts';

/**
 * The runtime as the CLI runs it: real clock, random ids, real or scripted models. At start-up it resumes any
 * session a previous process left unfinished, so no command leaves half-run work behind it.
 */
export async function withCliRuntime<T>(storeUri: string | undefined, io: CommandIo, work: (runtime: ActorRuntime, store: EventStore) => Promise<T>): Promise<T> {
  const { checkpointEveryTokens, checkpointRetention, maxActiveTurns, councilThreshold, triageModel } = loadCliConfig();
  const store = await openEventStore(storeUri);
  const runtime = new ActorRuntime({ store, models: modelResolver(systemClock), projections: sessionProjections(), checkpointEveryTokens, checkpointRetention, maxActiveTurns, councilThreshold, triageModel });
  try {
    const resumed = await resumeUnfinishedSessions(runtime, (sessionId, reason) => io.warn(`chronicle: not resuming session ${sessionId}: ${reason}`));
    if (resumed.length > 0) io.warn(`chronicle: resumed ${resumed.length} unfinished session(s): ${resumed.join(', ')}`);
    const result = await work(runtime, store);
    await untilSessionsIdle(runtime, resumed);
    await runtime.settled();
    return result;
  } finally {
    runtime.stop();
    await store.close();
  }
}
