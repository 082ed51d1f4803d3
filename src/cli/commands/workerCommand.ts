import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { systemClock } from '../../runtime/clock.ts';
import { randomIds } from '../../runtime/ids.ts';
import { openEventStore, parseStoreUri } from '../../store/openEventStore.ts';
import type { PinnedAssignments } from '../../worker/pinnedAssignments.ts';
import { SessionWorker } from '../../worker/sessionWorker.ts';
import { createCliRuntime } from '../cliRuntime.ts';
import { cliStoreUri } from '../cliConfig.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';

const ms = (flag: string, min: number) => z.coerce.number().int().min(min, `${flag} takes a whole number of milliseconds, at least ${min}`);
const schema = z.strictObject({
  store: z.string().optional(),
  group: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." or "-"').optional(),
  id: z.string().regex(/^[A-Za-z0-9_.:]+$/, 'letters, digits, "_", "." or ":"').optional(),
  'lease-ttl': ms('--lease-ttl', 200).optional(),
  heartbeat: ms('--heartbeat', 50).optional(),
  drain: ms('--drain', 0).optional(),
}).refine((v) => v.heartbeat === undefined || v['lease-ttl'] === undefined || v.heartbeat * 2 <= v['lease-ttl'], { message: '--heartbeat must be at most half of --lease-ttl, or one late heartbeat loses every lease', path: ['heartbeat'] });

export const workerUsage = 'worker [--store <uri>] [--group <name>] [--id <workerId>] [--lease-ttl <ms>] [--heartbeat <ms>] [--drain <ms>]';

const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * Runs sessions for a group of workers sharing one store until SIGTERM or SIGINT: on KurrentDB the sessions come
 * from a pinned persistent subscription on `$ce-session`; on SQLite from the work board, several processes on one
 * file. Either way a session is held through a lease recorded as an event.
 */
export async function workerCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('worker', args, {
    store: { type: 'string' }, group: { type: 'string' }, id: { type: 'string' }, 'lease-ttl': { type: 'string' }, heartbeat: { type: 'string' }, drain: { type: 'string' },
  }, schema);
  const leaseTtlMs = values['lease-ttl'] ?? DEFAULT_LEASE_TTL_MS;
  const heartbeatMs = values.heartbeat ?? Math.max(50, Math.floor(leaseTtlMs / 4));
  const group = values.group ?? 'chronicle';
  const workerId = values.id ?? `w${randomUUID().slice(0, 8)}`;
  const storeUri = cliStoreUri(values.store);
  const store = await openEventStore(storeUri, { warn: io.warn });
  let worker: SessionWorker | undefined;
  const runtime = createCliRuntime(store, {
    onBackgroundFailure: (error, sessionId) => worker?.onSessionFailure(error, sessionId) ?? false,
    fence: (sessionId) => worker?.fenceOf(sessionId),
  });
  const log = (line: string) => io.warn(`chronicle: ${line}`);
  try {
    let assignments: PinnedAssignments | undefined;
    // The KurrentDB client (~0.2 s to load) only for a KurrentDB store, as `openEventStore` loads it.
    const location = parseStoreUri(storeUri);
    if (location.kind === 'kurrentdb') {
      const { PinnedAssignments } = await import('../../worker/pinnedAssignments.ts');
      assignments = new PinnedAssignments(location.connectionString, group, log);
      await assignments.ensureGroup();
    }
    worker = new SessionWorker({ store, runtime, clock: systemClock, ids: randomIds, workerId, group, leaseTtlMs, heartbeatMs, graceMs: leaseTtlMs, assignments, log });
    await worker.start();
    io.out(`chronicle: worker ${workerId} joined group ${group} (lease ${leaseTtlMs} ms, heartbeat ${heartbeatMs} ms, ${assignments ? 'pinned persistent subscription on $ce-session' : 'leases on the work board'}); stop with SIGTERM or Ctrl-C`);
    const running = worker;
    const stop = (signal: string) => void running.stop(`${signal} received`, values.drain ?? 5_000);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    await running.done;
    io.out(`chronicle: worker ${workerId} left group ${group}`);
    return 0;
  } finally {
    runtime.stop();
    await store.close();
  }
}
