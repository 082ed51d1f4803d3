import { z } from 'zod';
import { ChainFollower } from '../../events/hashChain.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({ store: z.string().optional(), json: z.boolean().optional() });

export const verifyUsage = 'verify [--json] [--store <uri>]';

/**
 * Reads the whole log and checks every stream's hash chain; exits 1 naming the first broken event. A record the
 * store itself refuses to decode (bad JSON, schema violation, edited content) is reported the same way.
 */
export async function verifyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('verify', args, { store: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  const streams = new Set<string>();
  const report = (result: Record<string, unknown>) => io.out(values.json ? toJson(result) : String(result.message));
  try {
    // Streamed, not collected: a store of millions of events verifies in constant memory per stream.
    const chains = new ChainFollower();
    let checked = 0;
    for await (const event of store.readAll()) {
      const broken = chains.check(event);
      if (broken) {
        report({ ok: false, checked, ...broken, message: `BROKEN: ${broken.message}` });
        return 1;
      }
      streams.add(event.streamId);
      checked++;
    }
    // What no read shows: the store's own structures (SQLite: the file, and each stream's recorded head).
    const damage = (await store.checkIntegrity?.()) ?? [];
    if (damage.length > 0) {
      report({ ok: false, checked, problems: damage, message: `BROKEN: every event read has an intact chain (${checked} events), but the store is damaged:\n  ${damage.join('\n  ')}` });
      return 1;
    }
    report({ ok: true, events: checked, streams: streams.size, message: `ok: ${checked} events in ${streams.size} streams, every hash chain intact` });
    return 0;
  } catch (error) {
    const place = (error as { place?: unknown }).place;
    if (place === undefined) throw error;
    report({ ok: false, place, error: (error as Error).name, message: `BROKEN: ${(error as Error).message}` });
    return 1;
  } finally {
    await store.close();
  }
}
