import { z } from 'zod';
import { CheckpointedFold } from '../../runtime/checkpointedFold.ts';
import { workBoardDefinition } from '../../worker/sessionWorker.ts';
import { workerListing } from '../../worker/workerListing.ts';
import { randomIds } from '../../runtime/ids.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { recordUnparked } from '../../worker/workerRecords.ts';
import { cliStoreUri } from '../cliConfig.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { UsageError } from '../usageError.ts';

const schema = z.strictObject({ store: z.string().optional(), json: z.boolean().optional(), unpark: z.string().min(1).optional(), note: z.string().optional() });

export const workersUsage = 'workers [--json] [--store <uri>] | workers --unpark <sessionId> [--note <text>]';

/**
 * The work board as any machine sees it (read from its newest checkpoint and the tail after it): workers alive or
 * not, who holds which session, sessions with work nobody holds, and parked sessions with their reasons.
 */
export async function workersCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('workers', args, { store: { type: 'string' }, json: { type: 'boolean' }, unpark: { type: 'string' }, note: { type: 'string' } }, schema);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    // Folded even when no worker ever joined: the sessions with work waiting for one are what an operator checks.
    const board = (await CheckpointedFold.load(store, workBoardDefinition)).state;
    if (values.unpark !== undefined) {
      const lease = board.leases[values.unpark];
      if (!lease?.parked) throw new UsageError(`workers: session ${values.unpark} is not parked (see \`chronicle workers\`)`);
      await recordUnparked(store, randomIds, Date.now(), values.unpark, values.note, BigInt(lease.revision));
      io.out(`chronicle: session ${values.unpark} unparked; a worker will take it`);
      return 0;
    }
    const listing = workerListing(board, Date.now());
    if (values.json) {
      io.out(toJson(listing));
      return 0;
    }
    const { workers, unheld, parked } = listing;
    if (workers.length === 0) io.out('no worker has joined this store (start one with `chronicle worker`)');
    for (const w of workers) io.out(`${w.id.padEnd(12)} ${w.status.padEnd(6)} group ${w.group}, ${w.host} pid ${w.pid}, ${w.sessions} session(s), last seen ${w.lastSeen}`);
    io.out(`sessions with work: ${listing.openSessions}, held by no live worker: ${unheld.length}${unheld.length ? ` (${unheld.slice(0, 10).join(', ')}${unheld.length > 10 ? ', …' : ''})` : ''}`);
    for (const p of parked) io.out(`parked ${p.sessionId}: ${p.reason}`);
    return 0;
  } finally {
    await store.close();
  }
}
