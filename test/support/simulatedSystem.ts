import type { CheckpointRetention } from '../../src/runtime/checkpoints.ts';
import type { AnyMachineSnapshot } from 'xstate';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { EventToAppend } from '../../src/events/envelope.ts';
import { persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, startSession, type Query, type SessionSettings } from '../../src/runtime/sessionService.ts';
import { sessionStream } from '../../src/runtime/sessionStreams.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

export interface LiveStep {
  streamId: string;
  eventId: string;
  type: string;
  state: ReturnType<typeof persistedState>;
}

/** A runtime on a simulated clock and seeded ids that remembers every live step, for determinism checks. */
export function simulatedSystem(options: { store?: EventStore; seed?: string; checkpointEveryTokens?: number; checkpointRetention?: CheckpointRetention } = {}) {
  const store = options.store ?? new MemoryEventStore();
  const clock = new SimulatedClock('2026-11-24T09:00:00.000Z');
  const steps: LiveStep[] = [];
  const resolve = modelResolver(clock);
  const runtime = new ActorRuntime({
    store, clock, ids: seededIds(options.seed ?? 'test'), models: resolve, checkpointEveryTokens: options.checkpointEveryTokens ?? 0, checkpointRetention: options.checkpointRetention,
    onStep: (streamId: string, event: EventToAppend, snapshot: AnyMachineSnapshot) => {
      steps.push({ streamId, eventId: event.eventId, type: event.type, state: persistedState(actorKindOf(streamId), snapshot) });
    },
  });

  async function start(sessionId: string, settings: SessionSettings): Promise<void> {
    await startSession(runtime, sessionId, agentConfigFor(settings, resolve));
  }

  async function ask(sessionId: string, query: Query): Promise<void> {
    await runtime.deliver(sessionStream(sessionId), { type: 'query.received', data: query, causationId: null });
  }

  /** Advances simulated time until every given session has answered `turns` queries (or gives up loudly). */
  async function runUntilAnswered(sessionIds: string[], turns: number, maxMs = 600_000): Promise<void> {
    for (let elapsed = 0; elapsed <= maxMs; elapsed += 250) {
      const done = await Promise.all(sessionIds.map(async (id) => ((await runtime.snapshotOf(sessionStream(id))).context as SessionContext).turn >= turns));
      if (done.every(Boolean)) return runtime.settled();
      await clock.advance(250);
    }
    throw new Error(`sessions ${sessionIds.join(', ')} did not finish ${turns} turn(s) within ${maxMs} simulated ms`);
  }

  return { store, clock, runtime, steps, start, ask, runUntilAnswered };
}

export const query = (text: string, region = 'KE', purpose = 'climate_adaptation'): Query => ({ text, region, purpose });
