import { z } from 'zod';
import { ForkRefusedError, forkSession, SESSION_ID } from '../../runtime/forkSession.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { pointFlag } from '../pointFlag.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({
  at: z.string({ error: 'required: where to cut the source, a position (e.g. 42) or an ISO time' }),
  as: z.string().regex(SESSION_ID, 'letters, digits and _ only (the new session id)').optional(),
  store: z.string().optional(),
  json: z.boolean().optional(),
});

export const forkUsage = 'fork <sessionId> --at <position | ISO time> [--as <newSessionId>] [--json] [--store <uri>]';

/** Copies a session's history up to a point into a new session, which then goes on on its own ("what if"). */
export async function forkCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('fork', args, { at: { type: 'string' }, as: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const [sessionId, ...extra] = positionals;
  if (!sessionId) throw new UsageError('fork: give the id of the session to fork');
  if (extra.length > 0) throw new UsageError(`fork: unexpected arguments ${extra.join(' ')}`);
  const at = pointFlag('fork', values.at)!;
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const fork = await forkSession(store, { sessionId, at, as: values.as });
    if (values.json) {
      io.out(toJson(fork));
      return 0;
    }
    const asked = 'position' in at ? `position ${at.position}` : at.time;
    io.out(`forked session ${sessionId} at ${asked} as ${fork.sessionId}: ${fork.events} events in ${fork.streams.length} streams copied ` +
      `(source position ${fork.atPosition}, ${fork.atTime}), then session.forked at position ${fork.lastPosition}`);
    if (fork.extended > 0) io.out(`  ${fork.extended} event(s) after ${asked} came along: they were written in the same append as events before it, and a fork never splits an append`);
    if (fork.alreadyWritten > 0) io.out(`  finished an interrupted run of this fork: ${fork.alreadyWritten} event(s) were already written`);
    const storeFlag = values.store === undefined ? '' : ` --store ${values.store}`;
    if (toJson(fork.sessionState) !== '"ready"') io.out(`  the fork stopped mid-turn (${toJson(fork.sessionState)}): \`chronicle resume${storeFlag}\` finishes it, re-issuing model requests that had no outcome`);
    io.out(`  ask it more: chronicle run "<query>" --session ${fork.sessionId} --region <code> --purpose <purpose>${storeFlag}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ForkRefusedError)) throw error;
    io.warn(`chronicle fork: ${error.message}`);
    return 1;
  } finally {
    await store.close();
  }
}
