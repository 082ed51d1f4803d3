import { sessionProjections } from '../src/cli/sessionProjections.ts';
import { foldActor } from '../src/runtime/actorFold.ts';
import { actorKindOf } from '../src/runtime/actorKinds.ts';
import { loadActor } from '../src/runtime/actorLoad.ts';
import { emptyTracking, trackEvent } from '../src/runtime/actorTracking.ts';
import { ActorRuntime } from '../src/runtime/actorRuntime.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { modelResolver } from '../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession } from '../src/runtime/sessionService.ts';
import { sessionStream } from '../src/runtime/sessionStreams.ts';
import { canonicalJson } from '../src/events/canonicalJson.ts';
import type { RecordedEvent } from '../src/events/envelope.ts';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { scratchDir } from './fixtures.ts';
import { BENCH_MODEL } from './sessionFixtures.ts';

/** One row: rebuilding an actor of a long session in a fresh process, from its newest checkpoint vs its whole stream. */
export interface RehydrationResult {
  name: string;
  events: number;
  /** `loadActor`: the newest checkpoint's snapshot, folded on from where its open effects begin. */
  fromCheckpointMs: number;
  /** The stream read and folded from its start, every effect tracked: how actors were rebuilt before checkpoints were used. */
  wholeStreamMs: number;
}

const TURNS = 1_000;
const ROUNDS = 5;
const SESSION_ID = 'long';

/**
 * A session of TURNS express turns written through `ActorRuntime` (checkpoints every 1 500 tokens, the default),
 * then each of its actors rebuilt on a freshly opened store, as `resume` or `run --session` in a new process would,
 * both ways, best of ROUNDS. The two must agree on the state; the time is what a cold start of the session costs.
 */
export async function benchRehydration(): Promise<RehydrationResult[]> {
  const scratch = scratchDir();
  try {
    const path = scratch.file('long-session.db');
    await writeLongSession(path);
    const results: RehydrationResult[] = [];
    for (const streamId of [sessionStream(SESSION_ID), `agent-${SESSION_ID}.express.0`]) {
      const kind = actorKindOf(streamId);
      let fromCheckpointMs = Infinity;
      let wholeStreamMs = Infinity;
      let events = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const ours = await coldly(path, async (store) => loadActor(store, kind, streamId));
        const whole = await coldly(path, async (store) => {
          const read: RecordedEvent[] = [];
          const tracking = emptyTracking();
          for await (const event of store.readStream(streamId)) {
            read.push(event);
            trackEvent(tracking, event);
          }
          events = read.length;
          return { snapshot: foldActor(kind, read), tracking };
        });
        if (ours.value.fromCheckpoint === null) throw new Error(`${streamId} was not rebuilt from a checkpoint`);
        // Compared in canonical form: a context read back from a checkpoint has its keys in sorted order.
        const state = (snapshot: { value: unknown; context: unknown }) => canonicalJson({ value: snapshot.value, context: snapshot.context });
        if (state(ours.value.snapshot) !== state(whole.value.snapshot)) throw new Error(`${streamId}: the two rebuilds disagree`);
        fromCheckpointMs = Math.min(fromCheckpointMs, ours.ms);
        wholeStreamMs = Math.min(wholeStreamMs, whole.ms);
      }
      results.push({ name: `${kind.category} actor of a ${TURNS}-turn session`, events, fromCheckpointMs, wholeStreamMs });
    }
    return results;
  } finally {
    scratch.dispose();
  }
}

async function writeLongSession(path: string): Promise<void> {
  const store = new SqliteEventStore(path);
  const models = modelResolver(systemClock);
  const runtime = new ActorRuntime({ store, models, projections: sessionProjections() });
  try {
    await startSession(runtime, SESSION_ID, agentConfigFor({ model: BENCH_MODEL }, models), 1e9);
    for (let turn = 0; turn < TURNS; turn++) {
      const outcome = await askInSession(runtime, SESSION_ID, { text: `Turn ${turn}: which district needs early-warning sirens first, and why?`, region: 'BD', purpose: 'climate_adaptation' });
      if (outcome.status !== 'answered') throw new Error(`turn ${turn} was not answered: ${outcome.text}`);
    }
    await runtime.settled();
  } finally {
    runtime.stop();
    await store.close();
  }
}

/** `work` timed on the store freshly opened, as a new process finds it. */
async function coldly<T>(path: string, work: (store: SqliteEventStore) => Promise<T>): Promise<{ value: T; ms: number }> {
  const store = new SqliteEventStore(path);
  try {
    const start = performance.now();
    const value = await work(store);
    return { value, ms: performance.now() - start };
  } finally {
    await store.close();
  }
}
