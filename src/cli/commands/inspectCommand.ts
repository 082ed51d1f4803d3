import { z } from 'zod';
import { DEFAULT_INSPECT_PORT, InspectPortError, startInspectionServer } from '../../inspect/inspectionServer.ts';
import { ActorSystemInspection } from '../../inspect/inspectionStream.ts';
import { rangeShowsEvents, replayIntoInspection } from '../../inspect/recordedInspection.ts';
import { assertSessionExists } from '../../runtime/sessionStreams.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { describePoint, pointFlag } from '../pointFlag.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const inspectUsage = 'inspect <sessionId> [--from <position | ISO time>] [--to <position | ISO time>] [--speed <x | max>] [--max-wait <seconds>] [--port <n>] [--wait <seconds>] [--store <uri>]';

/** Seconds to wait for a viewer before giving up, and the longest single pause between two events, by default. */
const DEFAULT_VIEWER_WAIT_S = 120;
const DEFAULT_MAX_WAIT_S = 10;

export const portSchema = z.coerce.number<string>().int().min(0, '0 (any free port) to 65535').max(65535, '0 (any free port) to 65535');
const seconds = z.coerce.number<string>().positive('a number of seconds above 0').finite();

const schema = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
  speed: z.union([z.literal('max').transform(() => 0), z.coerce.number<string>().min(0).finite()], { error: () => 'a factor (1 = as recorded, 10 = ten times faster) or max (0 also means as fast as possible)' }).optional(),
  'max-wait': seconds.optional(),
  port: portSchema.optional(),
  wait: seconds.optional(),
  store: z.string().optional(),
});

/**
 * Replays a recorded session into the Stately inspector: once a viewer has connected, every actor of the session
 * appears, and every recorded event is sent in global order with the snapshot it led to, paced by the recorded
 * gaps. Nothing is called or written.
 */
export async function inspectCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('inspect', args, {
    from: { type: 'string' }, to: { type: 'string' }, speed: { type: 'string' }, 'max-wait': { type: 'string' },
    port: { type: 'string' }, wait: { type: 'string' }, store: { type: 'string' },
  }, schema);
  const [sessionId] = positionals;
  if (!sessionId || positionals.length > 1) throw new UsageError('inspect: give one session id');
  const from = pointFlag('inspect', values.from);
  const to = pointFlag('inspect', values.to);
  // Checked before a server is started and a viewer awaited: an empty range would be found only after that wait.
  if (from !== undefined && to !== undefined && 'position' in from && 'position' in to && from.position > to.position) throw new UsageError(`inspect: --from ${from.position} is after --to ${to.position}`);
  if (from !== undefined && to !== undefined && 'time' in from && 'time' in to && from.time > to.time) throw new UsageError(`inspect: --from ${from.time} is after --to ${to.time}`);
  const waitS = values.wait ?? DEFAULT_VIEWER_WAIT_S;
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    await assertSessionExists(store, sessionId);
    if (from !== undefined && !await rangeShowsEvents(store, sessionId, { from, to })) {
      throw new UsageError(`inspect: session ${sessionId} has no event from ${describePoint(from)} to ${describePoint(to)}; nothing would be replayed`);
    }
    const server = await startInspectionServer(values.port ?? DEFAULT_INSPECT_PORT).catch((error: unknown) => {
      throw error instanceof InspectPortError ? new UsageError(`inspect: --port ${error.message}`) : error;
    });
    try {
      io.out(`Stately inspector: open ${server.pageUrl} (inspection events on ${server.socketUrl})`);
      io.out(`waiting up to ${waitS} s for it to connect…`);
      if (!await server.waitForViewer(waitS * 1000)) {
        io.warn(`chronicle inspect: no inspector connected to ${server.pageUrl} within ${waitS} s; nothing was replayed`);
        return 1;
      }
      const speed = values.speed ?? 1;
      const inspection = new ActorSystemInspection(server.adapter);
      const summary = await replayIntoInspection(store, sessionId, inspection, { from, to }, { speed, maxWaitMs: (values['max-wait'] ?? DEFAULT_MAX_WAIT_S) * 1000 });
      io.out(`replayed session ${sessionId} from ${from === undefined ? 'its start' : describePoint(from)} to ${describePoint(to)}: ` +
        `${summary.events} events of ${summary.actors} actors, ${speed === 0 ? 'as fast as possible' : `at ${speed}×`}, ${(summary.waitedMs / 1000).toFixed(1)} s of pauses`);
      return 0;
    } finally {
      await server.close();
    }
  } finally {
    await store.close();
  }
}
