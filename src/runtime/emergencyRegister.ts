import type { EventData } from '../events/catalogue.ts';
import type { EventToAppend } from '../events/envelope.ts';
import type { ActiveEmergency, EmergencyKind } from '../policy/triage/index.ts';
import { sameRegion } from '../policy/triage/index.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import type { EventStore } from '../store/eventStore.ts';

/** Every declaration and lift, in one stream: triage reads what is in force with one short read. */
export const EMERGENCY_STREAM = 'emergency-register';
export const EMERGENCY_VERSION = 'emergency@1';

/** The emergencies in force after folding the register's events in order. */
export function emergenciesInForce(events: Iterable<{ type: string; data: unknown; metadata: { recordedAt: string } }>): ActiveEmergency[] {
  const active = new Map<string, ActiveEmergency>();
  for (const event of events) {
    if (event.type === 'emergency.declared') {
      const d = event.data as EventData<'emergency.declared'>;
      active.set(d.emergencyId, { emergencyId: d.emergencyId, region: d.region, kind: d.kind, declaredAt: event.metadata.recordedAt });
    } else if (event.type === 'emergency.lifted') {
      active.delete((event.data as EventData<'emergency.lifted'>).emergencyId);
    }
  }
  return [...active.values()];
}

/**
 * The register as this process knows it, caught up from the store before each triage (a read of the events after
 * the last one seen, usually none), so an emergency declared by another process (`chronicle emergency declare`)
 * reaches the next turn triaged here.
 */
export class EmergencyRegister {
  private readonly store: EventStore;
  private readonly events: { type: string; data: unknown; metadata: { recordedAt: string } }[] = [];
  private revision = -1n;
  private active: ActiveEmergency[] = [];

  constructor(store: EventStore) {
    this.store = store;
  }

  async refresh(): Promise<ActiveEmergency[]> {
    if (this.store.locateInStream) {
      const last = await this.store.locateInStream(EMERGENCY_STREAM, 'end');
      if (last === undefined || last.revision <= this.revision) return this.active;
    }
    try {
      for await (const event of this.store.readStream(EMERGENCY_STREAM, { fromRevision: this.revision + 1n })) {
        this.events.push(event);
        this.revision = event.revision;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    this.active = emergenciesInForce(this.events);
    return this.active;
  }

  /** What is in force as of the last refresh. */
  get inForce(): readonly ActiveEmergency[] {
    return this.active;
  }
}

/** The register's events for a declaration or a lift, ready to append (the CLI's `emergency` command). */
export function emergencyEvent(
  type: 'emergency.declared' | 'emergency.lifted',
  data: { emergencyId: string; region: string; kind?: EmergencyKind; note?: string },
  options: { eventId: string; recordedAt: string },
): EventToAppend {
  return {
    eventId: options.eventId, type, data,
    metadata: {
      actorId: EMERGENCY_STREAM, actorKind: 'emergency', sessionId: EMERGENCY_STREAM, correlationId: data.emergencyId, causationId: null,
      recordedAt: options.recordedAt, machineVersion: EMERGENCY_VERSION,
    },
  };
}

/** Emergencies in force for a region (alpha-2 or alpha-3). */
export function inForceFor(active: readonly ActiveEmergency[], region: string): ActiveEmergency[] {
  return active.filter((e) => sameRegion(e.region, region));
}
