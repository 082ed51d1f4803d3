import type { AnyMachineSnapshot } from 'xstate';
import type { EventToAppend } from '../events/envelope.ts';
import { foldActor, persistedState } from '../runtime/actorFold.ts';
import { actorKindOf } from '../runtime/actorKinds.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { firstDifference } from './difference.ts';

/** An actor's state right after one of its events, as the live runtime had it. */
export interface LiveStep {
  eventId: string;
  type: string;
  state: { value: unknown; context: unknown; status: string };
}

export class ReplayMismatchError extends Error {
  override readonly name = 'ReplayMismatchError';
}

/**
 * What the runtime's `onStep` saw: every event each hosted actor processed, with its state right after. Replay is
 * checked against it, and a step of a path is looked up in it.
 */
export class LiveSteps {
  readonly #byStream = new Map<string, LiveStep[]>();
  readonly #byEvent = new Map<string, LiveStep>();

  record(streamId: string, event: EventToAppend, snapshot: AnyMachineSnapshot): void {
    const step = { eventId: event.eventId, type: event.type, state: persistedState(actorKindOf(streamId), snapshot) };
    let steps = this.#byStream.get(streamId);
    if (!steps) this.#byStream.set(streamId, steps = []);
    steps.push(step);
    this.#byEvent.set(event.eventId, step);
  }

  of(streamId: string): readonly LiveStep[] {
    return this.#byStream.get(streamId) ?? [];
  }

  after(eventId: string): LiveStep | undefined {
    return this.#byEvent.get(eventId);
  }

  streams(): string[] {
    return [...this.#byStream.keys()].sort();
  }

  /**
   * Refolds every stream the runtime hosted from the store, through its machine with the pure `transition()`, and
   * checks the state after every event equals the live state after it. Throws naming the first divergent event.
   */
  async replayMatchesLive(store: EventStore): Promise<{ streams: number; events: number }> {
    let events = 0;
    for (const streamId of this.streams()) {
      const live = this.of(streamId);
      const kind = actorKindOf(streamId);
      const recorded = await collect(store.readStream(streamId));
      if (recorded.length !== live.length || recorded.some((e, i) => e.eventId !== live[i]!.eventId)) {
        const at = recorded.findIndex((e, i) => e.eventId !== live[i]?.eventId);
        throw new ReplayMismatchError(`${streamId}: the store holds ${recorded.length} events, the live actor processed ${live.length}; ` +
          `they part at revision ${at < 0 ? Math.min(recorded.length, live.length) : at} (${recorded[at]?.type ?? 'nothing recorded'} recorded, ${live[at < 0 ? recorded.length : at]?.type ?? 'nothing processed'} live)`);
      }
      let i = 0;
      foldActor(kind, recorded, (event, snapshot) => {
        const difference = firstDifference(persistedState(kind, snapshot), live[i]!.state);
        if (difference) {
          throw new ReplayMismatchError(`${streamId}: after revision ${event.revision} (${event.type}) the replayed state differs from the live one at ${difference} (replayed ≠ live)`);
        }
        i++;
      });
      events += recorded.length;
    }
    return { streams: this.#byStream.size, events };
  }
}
