import type { AnyMachineSnapshot } from 'xstate';
import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import { foldActor, persistedState, replayStep } from '../runtime/actorFold.ts';
import { actorKindOf, actorKinds } from '../runtime/actorKinds.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { startInspectionServer, type InspectionServer } from './inspectionServer.ts';
import { ActorSystemInspection } from './inspectionStream.ts';

export interface StoreInspection {
  server: InspectionServer;
  close(): Promise<void>;
}

/**
 * Streams to the Stately inspector every actor event appended to a store from now on, by whichever process: the
 * dashboard hosts no actors, so it follows the log (a catch-up subscription from its end) and folds each actor the
 * first time it steps, from its stream, then steps it with the same pure `transition()` the runtime and replay use.
 */
export async function startStoreInspection(options: { store: EventStore; port: number; warn: (line: string) => void }): Promise<StoreInspection> {
  const server = await startInspectionServer(options.port);
  const inspection = new ActorSystemInspection(server.adapter);
  const snapshots = new Map<string, AnyMachineSnapshot>();
  const subscription = options.store.subscribeToAll({ fromPosition: 'end' });

  const show = async (event: RecordedEvent) => {
    inspection.noteRecorded(event.eventId, event.streamId);
    if (!(streamCategory(event.streamId) in actorKinds)) return;
    const kind = actorKindOf(event.streamId);
    let snapshot = snapshots.get(event.streamId);
    if (snapshot === undefined) {
      // First seen now: its state before this event, from its own stream.
      const before = (await collect(options.store.readStream(event.streamId))).filter((e) => e.revision < event.revision);
      snapshot = foldActor(kind, before);
      inspection.announce(event.streamId, persistedState(kind, snapshot), event.metadata.recordedAt);
    }
    // Through the definition that wrote it: a worker of an earlier build may still be recording.
    snapshot = replayStep(kind, snapshot, event).snapshot;
    snapshots.set(event.streamId, snapshot);
    inspection.step(event.streamId, event, persistedState(kind, snapshot));
  };

  const following = (async () => {
    let failed = false;
    for await (const event of subscription) {
      await show(event).catch((error: unknown) => {
        if (!failed) options.warn(`chronicle: inspection stopped showing some steps: ${(error as Error).message}`);
        failed = true;
      });
    }
  })();

  return {
    server,
    async close() {
      await subscription.stop();
      await following;
      await server.close();
    },
  };
}
