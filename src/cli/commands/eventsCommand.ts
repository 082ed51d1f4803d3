import { z } from 'zod';
import type { RecordedEvent } from '../../events/envelope.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import { describeEvent, toJson } from '../output.ts';
import type { CommandIo } from '../commandIo.ts';
import { readSessionEvents } from '../../runtime/sessionStreams.ts';
import { marketFactsOf } from '../../runtime/marketFactsOf.ts';
import type { EventStore } from '../../store/eventStore.ts';
import { readStreams } from '../../store/importEvents.ts';
import { checkpointStream } from '../../runtime/checkpoints.ts';
import { byPosition } from '../../runtime/stateAt.ts';
import { UsageError } from '../usageError.ts';
import { filterPredicate } from '../../store/readSelection.ts';
import { cliStoreUri } from '../cliConfig.ts';

const position = z.string().regex(/^\d+$/, 'expected a non-negative integer');

const schema = z.strictObject({
  store: z.string().optional(),
  json: z.boolean().optional(),
  backwards: z.boolean().optional(),
  from: position.optional(),
  limit: position.optional(),
  'stream-prefix': z.string().min(1).optional(),
  stream: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  'with-checkpoints': z.boolean().optional(),
});

export const eventsUsage = 'events [<sessionId>] [--stream <stream>] [--from <revision|position>] [--limit <n>] [--backwards] [--stream-prefix <p>] [--type <prefix>] [--with-checkpoints] [--json] [--store <uri>]';

/**
 * Prints a session's events (every actor's, and the market facts its ledger settled, in global order), one stream,
 * or the whole log, as lines for people
 * or as JSON lines for machines. A session's JSON lines are its export (`chronicle import` reads them): each carries
 * its full metadata with `prevHash` and `hash`; `--with-checkpoints` adds the session's checkpoints, for an auditor
 * who compares them with re-folds.
 */
export async function eventsCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('events', args, {
    store: { type: 'string' }, json: { type: 'boolean' }, backwards: { type: 'boolean' }, from: { type: 'string' },
    limit: { type: 'string' }, 'stream-prefix': { type: 'string' }, type: { type: 'string' }, stream: { type: 'string' },
    'with-checkpoints': { type: 'boolean' },
  }, schema);
  const [sessionId, ...extra] = positionals;
  const streamId = values.stream;
  if (extra.length > 0) io.warn(`events: ignoring extra arguments ${extra.join(' ')}`);
  if (values['with-checkpoints'] && !sessionId) throw new UsageError('events: --with-checkpoints adds a session\'s checkpoints; give the session id');
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const direction = values.backwards ? 'backwards' : 'forwards';
    const maxCount = values.limit === undefined ? undefined : Number(values.limit);
    const from = values.from === undefined ? undefined : BigInt(values.from);
    const events: AsyncIterable<RecordedEvent> = sessionId
      ? sessionEvents(store, sessionId, values['with-checkpoints'] ?? false, { direction, maxCount, from, typePrefix: values.type, streamPrefix: values['stream-prefix'], streamId })
      : streamId
      ? store.readStream(streamId, { direction, maxCount, fromRevision: from })
      : store.readAll({
        direction, maxCount, fromPosition: from,
        filter: values['stream-prefix'] || values.type ? { streamNamePrefix: values['stream-prefix'], eventTypePrefix: values.type } : undefined,
      });
    for await (const event of events) io.out(values.json ? toJson(event) : describeEvent(event));
    return 0;
  } finally {
    await store.close();
  }
}

/** How a session's events are selected, as a read of the whole log selects them: `from` is a global position, inclusive. */
interface SessionSelection {
  direction: 'forwards' | 'backwards';
  maxCount: number | undefined;
  from: bigint | undefined;
  typePrefix: string | undefined;
  streamPrefix: string | undefined;
  streamId: string | undefined;
}

async function* sessionEvents(store: EventStore, sessionId: string, withCheckpoints: boolean, selection: SessionSelection): AsyncGenerator<RecordedEvent> {
  const events = await readSessionEvents(store, sessionId);
  // The market facts its ledger settled: an export carries the causes of its trades, so an import audits clean.
  events.push(...await marketFactsOf(store, events));
  // The retained checkpoints (the oldest may have been dropped: their stream then starts past revision 0).
  if (withCheckpoints) events.push(...(await readStreams(store, [checkpointStream(sessionId)])).get(checkpointStream(sessionId)) ?? []);
  events.sort(byPosition);
  if (selection.direction === 'backwards') events.reverse();
  const { from, streamId } = selection;
  // The prefixes match as the whole log's filter matches them.
  const matches = filterPredicate({ streamNamePrefix: selection.streamPrefix, eventTypePrefix: selection.typePrefix });
  let left = selection.maxCount ?? Infinity;
  for (const event of events) {
    if (left <= 0) return;
    if (from !== undefined && (selection.direction === 'forwards' ? event.position < from : event.position > from)) continue;
    if (!matches(event.streamId, event.type) || (streamId !== undefined && event.streamId !== streamId)) continue;
    left--;
    yield event;
  }
}
