import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createActor, type AnyStateMachine } from 'xstate';
import type { RecordedEvent } from '../src/events/envelope.ts';
import { foldActor, machineEventOf } from '../src/runtime/actorFold.ts';
import { actorKindOf } from '../src/runtime/actorKinds.ts';
import { replayStreams, type ActorStateAt } from '../src/runtime/replay.ts';
import { collect } from '../src/store/eventStore.ts';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { eventsPerSecond, scratchDir, type BenchResult } from './fixtures.ts';
import { actorStreamsOf } from './sessionFixtures.ts';

/** 300 sessions × 3 turns: ~9 000 events over 600 streams, filled in ~5 s, replayed in well under a second. */
const SESSIONS = 300;
const TURNS = 3;
const FILL_CONCURRENCY = 20;
const GOAL = 0.4;
/** Best of five alternating rounds (after one warm-up pass of each side): a shared VM's noise moves single rounds by ±20 %. */
const ROUNDS = 5;

type PlainState = { value: unknown; context: unknown; status: string };

/** One actor stream as the baseline gets it: its machine and its events as the machine receives them, from memory. */
interface BareStream {
  streamId: string;
  machine: AnyStateMachine;
  events: { type: string }[];
}

/**
 * Replay throughput: every actor stream of a store filled by the real runtime, read back from SQLite (decode, hash
 * check, schema validation, link check) and folded through its machine with the pure `transition()` by
 * `replayStreams`, against a bare XState actor per stream (`createActor(machine).start()`, `send` per event) fed the
 * same events from memory. `replayStreams` reads them all in one `readStreams`, which the store reads ahead on a
 * thread of its own (rows fetched and hashes checked there, one chunk ahead of the fold). A second row reads and
 * folds one stream after another on one thread; a third folds pre-read events only, which splits the gap between
 * the store read and the fold.
 */
export async function benchReplay(): Promise<BenchResult[]> {
  const scratch = scratchDir();
  try {
    const path = scratch.file('replay.db');
    const streamIds = (await fillStore(path)).flatMap(actorStreamsOf);
    const store = new SqliteEventStore(path);
    try {

      // Each side's inputs are made outside its timing and dropped after it: held through the other sides' timings,
      // a pre-read copy of the store (tens of MB) slows every young-generation collection of whatever runs then, which
      // charges one side for another's data. A real replay holds nothing of the sort.
      const readAllStreams = async () => {
        const recorded = new Map<string, RecordedEvent[]>();
        for (const streamId of streamIds) recorded.set(streamId, await collect(store.readStream(streamId)));
        return recorded;
      };
      const bareStreams = async (): Promise<BareStream[]> => [...(await readAllStreams())].map(([streamId, list]) => ({
        streamId, machine: actorKindOf(streamId).machine, events: list.map(machineEventOf),
      }));
      const events = (await bareStreams()).reduce((sum, stream) => sum + stream.events.length, 0);

      // `chronicle`'s replay of many streams: one read of them all (read ahead on the store's thread) and each folded.
      const replayFromStore = async () => {
        for await (const _ of replayStreams(store, streamIds));
      };
      // The same on the caller's thread alone: each stream read, decoded and checked, then folded, one after another.
      const replayInTurn = async () => {
        for (const streamId of streamIds) foldActor(actorKindOf(streamId), await collect(store.readStream(streamId)));
      };
      const foldOnly = (recorded: Map<string, RecordedEvent[]>) => () => {
        for (const [streamId, list] of recorded) foldActor(actorKindOf(streamId), list);
      };
      const bareActors = (bare: BareStream[]) => () => {
        const states: PlainState[] = [];
        for (const { machine, events: list } of bare) {
          const actor = createActor(machine).start();
          for (const event of list) actor.send(event);
          const snapshot = actor.getSnapshot();
          states.push({ value: snapshot.value, context: snapshot.context, status: snapshot.status });
          actor.stop();
        }
        return states;
      };

      // Warm-up of every side, and a check that both end in the same state (value, context, status) for every stream.
      await replayInTurn();
      foldOnly(await readAllStreams())();
      const replayed: ActorStateAt[] = [];
      for await (const state of replayStreams(store, streamIds)) replayed.push(state);
      checkSameStates(replayed, bareActors(await bareStreams())());

      let chronicle = 0;
      let inTurn = 0;
      let fold = 0;
      let baseline = 0;
      for (let round = 0; round < ROUNDS; round++) {
        baseline = Math.max(baseline, await eventsPerSecond(events, bareActors(await bareStreams())));
        chronicle = Math.max(chronicle, await eventsPerSecond(events, replayFromStore));
        inTurn = Math.max(inTurn, await eventsPerSecond(events, replayInTurn));
        fold = Math.max(fold, await eventsPerSecond(events, foldOnly(await readAllStreams())));
      }
      const streams = `${streamIds.length} streams`;
      return [
        { name: `replay: replayStreams (read ahead on a thread) + fold, ${streams}`, events, chroniclePerSec: chronicle, rawPerSec: baseline, goal: GOAL },
        { name: 'replay: readStream + fold, one stream after another, one thread', events, chroniclePerSec: inTurn, rawPerSec: baseline },
        { name: 'replay: fold only, events pre-read', events, chroniclePerSec: fold, rawPerSec: baseline },
      ];
    } finally {
      await store.close();
    }
  } finally {
    scratch.dispose();
  }
}

/**
 * The sessions the replay reads, written by the real runtime in a process of its own (`replayFill.ts`), as a store
 * `chronicle replay` reads was written by other processes. Filled in this one, the replay would run after the
 * runtime's own use of the same functions (the machines' steps, the record decoder) on live objects, and be timed
 * in a process no replay runs in.
 */
async function fillStore(path: string): Promise<string[]> {
  const fill = new URL('./replayFill.ts', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [fill, path, String(SESSIONS), String(TURNS), String(FILL_CONCURRENCY)], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as string[];
}

/** Both sides must have folded the same events to the same state, or the comparison means nothing. */
function checkSameStates(replayed: ActorStateAt[], bare: PlainState[]): void {
  if (replayed.length !== bare.length) throw new Error(`replay folded ${replayed.length} streams, the baseline ${bare.length}`);
  replayed.forEach((state, i) => {
    const expected = JSON.stringify({ value: state.value, context: state.context, status: state.status });
    const actual = JSON.stringify(bare[i]);
    if (expected !== actual) throw new Error(`${state.streamId}: replay and bare actor disagree:\n  replay ${expected}\n  bare   ${actual}`);
  });
}
