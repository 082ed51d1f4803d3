import { z } from 'zod';

/**
 * Facts of the worker layer, as data schemas for the event catalogue: workers announce themselves and their
 * heartbeats on `worker-<workerId>`, and a session's ownership is a lease recorded on `lease-<sessionId>` with an
 * exact expected revision, so two workers can never both hold it. Projections running as catch-up subscribers
 * checkpoint their state and position on `projection-<name>`.
 */
const id = z.string().min(1);
const workerId = z.string().regex(/^[A-Za-z0-9_.:]+$/, 'letters, digits, "_", "." or ":" (it is part of a stream name)');

export const workerCatalogue = {
  /** A worker started taking sessions for `group`; it is alive while its heartbeats are younger than `leaseTtlMs`. */
  // processSpace: the boot and pid namespace its pid belongs to (endedOnThisHost), where the host says.
  'worker.joined': z.strictObject({ workerId, group: id, pid: z.number().int().nonnegative(), host: z.string(), leaseTtlMs: z.number().int().positive(), processSpace: z.string().min(1).optional() }),
  /** Says all that joining did, so a reader of a worker stream kept short (`$maxCount`) still knows the worker. */
  'worker.heartbeat': z.strictObject({ workerId, group: id, pid: z.number().int().nonnegative(), host: z.string(), leaseTtlMs: z.number().int().positive(), sessions: z.number().int().nonnegative(), processSpace: z.string().min(1).optional() }),
  'worker.left': z.strictObject({ workerId, reason: z.string().min(1) }),

  /** `from`: the worker it took the session from (its lease expired, or it released it), if any. */
  'lease.acquired': z.strictObject({ sessionId: id, workerId, group: id, from: workerId.nullable(), reason: z.string().min(1) }),
  'lease.released': z.strictObject({ sessionId: id, workerId, reason: z.string().min(1) }),
  /** A poison session: taking it failed for a reason retrying will not fix; no worker takes it until it is unparked. */
  'session.parked': z.strictObject({ sessionId: id, workerId, reason: z.string().min(1) }),
  'session.unparked': z.strictObject({ sessionId: id, note: z.string().optional() }),

  /** A projection's state as of `position` (the last event it folded), under fold `version`. */
  'projection.checkpointed': z.strictObject({ name: id, version: id, position: z.string().regex(/^-?\d+$/), events: z.number().int().nonnegative(), state: z.unknown() }),
} as const;

export function workerStream(workerId: string): string {
  return `worker-${workerId}`;
}

export function leaseStream(sessionId: string): string {
  return `lease-${sessionId}`;
}

export function projectionStream(name: string): string {
  return `projection-${name}`;
}
