import type { AnyMachineSnapshot } from 'xstate';
import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import { foldActor, initialSnapshot } from '../runtime/actorFold.ts';
import { actorKindOf } from '../runtime/actorKinds.ts';
import type { RuntimeOptions } from '../runtime/actorRuntime.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { startInspectionServer, type InspectionServer } from './inspectionServer.ts';
import { ActorSystemInspection, type InspectedState } from './inspectionStream.ts';

interface Step {
  streamId: string;
  event: EventToAppend;
  snapshot: AnyMachineSnapshot;
}

export interface LiveInspection {
  server: InspectionServer;
  /** The runtime's `onStep`: every recorded event of every hosted actor, with the snapshot after it. */
  onStep: NonNullable<RuntimeOptions['onStep']>;
  /** Sends what is still queued, then closes the server (viewers keep what they were shown). */
  close(): Promise<void>;
}

/**
 * Streams a runtime's actors to the Stately inspector as they step. `onStep` is synchronous and runs while the
 * runtime adopts a written group, one actor after another, so steps are queued and sent a microtask later as one
 * batch: every event of the batch is known by then, so a message names its sender even when the receiver's part of
 * the group was adopted first. An inspection failure is reported once and never fails the run.
 */
export async function startLiveInspection(options: { store: EventStore; port: number; warn: (line: string) => void }): Promise<LiveInspection> {
  const server = await startInspectionServer(options.port);
  const inspection = new ActorSystemInspection(server.adapter);
  let queued: Step[] = [];
  let sending = Promise.resolve();
  let failed = false;

  const send = async (batch: Step[]) => {
    for (const { streamId, event } of batch) inspection.noteRecorded(event.eventId, streamId);
    for (const { streamId, event, snapshot } of batch) {
      if (!inspection.isAnnounced(streamId)) inspection.announce(streamId, await stateBefore(options.store, streamId, event.eventId), event.metadata.recordedAt);
      inspection.step(streamId, event, { value: snapshot.value, context: snapshot.context, status: snapshot.status });
    }
  };

  return {
    server,
    onStep(streamId, event, snapshot) {
      queued.push({ streamId, event, snapshot });
      if (queued.length > 1) return;
      queueMicrotask(() => {
        const batch = queued;
        queued = [];
        sending = sending.then(() => send(batch)).catch((error: unknown) => {
          if (!failed) options.warn(`chronicle: inspection stopped showing some steps: ${(error as Error).message}`);
          failed = true;
        });
      });
    },
    async close() {
      // Steps queued in this very tick are sent in the microtask already scheduled; wait for it, then for the chain.
      await Promise.resolve();
      await sending;
      await server.close();
    },
  };
}

/**
 * The state an actor had before the first step this process shows of it: its machine's initial state for a new
 * actor, otherwise its stream folded up to that event (a continued or resumed session's actors).
 */
async function stateBefore(store: EventStore, streamId: string, eventId: string): Promise<InspectedState> {
  const kind = actorKindOf(streamId);
  let events: RecordedEvent[] = [];
  try {
    events = await collect(store.readStream(streamId));
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  const before = events.findIndex((event) => event.eventId === eventId);
  const snapshot = before <= 0 ? initialSnapshot(kind) : foldActor(kind, events.slice(0, before));
  return { value: snapshot.value, context: snapshot.context, status: snapshot.status };
}
