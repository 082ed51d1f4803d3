import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { ImportRefusedError, importPrepared, prepareImport, type PreparedImport } from '../../store/importEvents.ts';
import { exportCausalityProblems } from '../../audit/exportCausality.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { collect, type EventStore } from '../../store/eventStore.ts';
import { streamCategory } from '../../events/envelope.ts';
import { replayStream } from '../../runtime/replay.ts';
import { assertSessionExists } from '../../runtime/sessionStreams.ts';
import type { MarketContext } from '../../../machines/marketMachine.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({ store: z.string().optional(), json: z.boolean().optional() });

export const importUsage = 'import <file.jsonl | -> [--json] [--store <uri>]';

/**
 * Imports a session exported with `chronicle events <sessionId> --json [--with-checkpoints]` into a store: verified
 * line by line and chain by chain before anything is written, then appended as recorded, so the target holds the
 * same events with the same hash chains.
 */
export async function importCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('import', args, { store: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const [file, ...extra] = positionals;
  if (!file) throw new UsageError('import: give the file to import (JSON lines from `chronicle events <sessionId> --json`), or - for standard input');
  if (extra.length > 0) throw new UsageError(`import: unexpected arguments ${extra.join(' ')}`);
  const input = await readInput(file);
  const refused = (error: unknown) => {
    if (!(error instanceof ImportRefusedError)) throw error;
    io.warn(values.json ? toJson({ ok: false, error: error.message }) : `chronicle import: ${error.message}`);
    return 1;
  };
  // The file is checked whole before the store is opened: a refused file leaves no store behind where there was none.
  let prepared: PreparedImport;
  try {
    prepared = prepareImport(input);
    const [problem, ...more] = await exportCausalityProblems(prepared.lines);
    if (problem !== undefined) {
      const line = prepared.lines.find((e) => e.streamId === problem.streamId && e.revision === problem.revision)?.line;
      throw new ImportRefusedError(`line ${line ?? '?'}: ${problem.message}${more.length > 0 ? ` (and ${more.length} more)` : ''}. The file's events do not hold together, as an export cut inside a write does (by \`head\` or a broken pipe): export the session again. Nothing was written.`);
    }
  } catch (error) {
    return refused(error);
  }
  const store = await openEventStore(cliStoreUri(values.store), { warn: io.warn });
  try {
    const report = await importPrepared(store, prepared);
    if (values.json) {
      io.out(toJson({ ok: true, ...report }));
      return 0;
    }
    io.out(`imported session ${report.sessions.join(', ') || '(none)'}: ${report.events} events in ${report.streams.length} streams, ` +
      `at positions ${report.firstPosition ?? '?'}–${report.lastPosition} in ${report.appends} append(s); every hash as in the file`);
    if (report.alreadyWritten > 0) io.out(`  finished an interrupted import of this file: ${report.alreadyWritten} event(s) were already written`);
    if (report.sharedHeld > 0) io.out(`  ${report.sharedHeld} market fact(s) its trades settled were already in the store (imported with another session that traded there)`);
    if (report.checkpointEvents > 0) io.out(`  ${report.checkpointEvents} checkpoint event(s) verified and not imported: they name the source's positions; the target records its own`);
    for (const line of await foreignOrders(store, report.streams)) io.warn(line);
    return 0;
  } catch (error) {
    return refused(error);
  } finally {
    await store.close();
  }
}

async function readInput(file: string): Promise<string> {
  if (file === '-') return text(process.stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`import: cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * Open orders in a market book the import carried whose sessions are not in the target (the other side of a trade,
 * imported without it): a clearing that matches one cannot settle it in a ledger the store does not have, and fails
 * until the order expires. Said, so the user can import that session too.
 */
async function foreignOrders(store: EventStore, streams: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const streamId of streams.filter((s) => streamCategory(s) === 'market')) {
    const { book } = replayStream(streamId, await collect(store.readStream(streamId))).context as MarketContext;
    const absent = new Map<string, boolean>();
    const isAbsent = async (sessionId: string) => {
      if (!absent.has(sessionId)) absent.set(sessionId, await assertSessionExists(store, sessionId).then(() => false, () => true));
      return absent.get(sessionId)!;
    };
    const orders = [
      ...book.offers.filter((o) => o.remaining > 0).map((o) => ({ id: o.offerId, sessionId: o.sessionId, what: `offer of ${o.remaining} tokens until ${o.expiresAt}` })),
      ...book.bids.filter((b) => b.remaining > 0).map((b) => ({ id: b.bidId, sessionId: b.sessionId, what: `bid for ${b.remaining} tokens` })),
    ];
    for (const order of orders) {
      if (await isAbsent(order.sessionId)) lines.push(`chronicle import: warning: ${streamId} holds session ${order.sessionId}'s open ${order.what} (${order.id}), and that session is not in this store: a clearing that matches it fails until it expires. Import session ${order.sessionId} too.`);
    }
  }
  return lines;
}
