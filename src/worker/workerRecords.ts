import type { EventToAppend } from '../events/envelope.ts';
import type { EventStore, ExpectedState } from '../store/eventStore.ts';
import type { IdSource } from '../runtime/ids.ts';
import { leaseStream, workerStream } from './workerEvents.ts';

/** Who writes worker-layer facts, and with which clock and ids. */
export interface WorkerIdentity {
  store: EventStore;
  ids: IdSource;
  now: () => number;
  workerId: string;
  group: string;
}

const LEASE_FORMAT = 'lease@1';
const WORKER_FORMAT = 'worker@1';

/** A fact on the worker's own stream (`worker-<id>`); its heartbeats are what keeps its leases alive. */
export function recordWorkerFact(who: WorkerIdentity, type: 'worker.joined' | 'worker.heartbeat' | 'worker.left', data: Record<string, unknown>, expectedState: ExpectedState = 'any') {
  const stream = workerStream(who.workerId);
  return who.store.appendToStream(stream, [envelope(who, stream, 'worker', stream, type, data, WORKER_FORMAT)], { expectedState });
}

/**
 * A fact on a session's lease stream, appended with exactly the revision the writer last saw: of two workers
 * claiming the same lease from the same state, the store lets one through and refuses the other.
 */
export function recordLeaseFact(who: WorkerIdentity, sessionId: string, type: 'lease.acquired' | 'lease.released' | 'session.parked', data: Record<string, unknown>, expectedState: ExpectedState) {
  const stream = leaseStream(sessionId);
  return who.store.appendToStream(stream, [envelope(who, stream, 'lease', sessionId, type, { sessionId, workerId: who.workerId, ...data }, LEASE_FORMAT)], { expectedState });
}

/** An operator hands a parked session back to the workers (`chronicle workers --unpark`). */
export function recordUnparked(store: EventStore, ids: IdSource, now: number, sessionId: string, note: string | undefined, expectedState: bigint) {
  const who = { store, ids, now: () => now, workerId: 'operator', group: 'operator' };
  const stream = leaseStream(sessionId);
  return store.appendToStream(stream, [envelope(who, stream, 'lease', sessionId, 'session.unparked', { sessionId, ...(note ? { note } : {}) }, LEASE_FORMAT)], { expectedState });
}

function envelope(who: WorkerIdentity, stream: string, kind: string, sessionId: string, type: string, data: Record<string, unknown>, format: string): EventToAppend {
  return {
    eventId: who.ids.next(),
    type,
    data,
    metadata: { actorId: stream, actorKind: kind, sessionId, correlationId: sessionId, causationId: null, recordedAt: new Date(who.now()).toISOString(), machineVersion: format },
  };
}
