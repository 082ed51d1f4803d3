import { replaySession } from '../../runtime/replay.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { sessionPointArgs } from '../sessionPointArgs.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint } from '../pointFlag.ts';
import { sessionScope } from '../../runtime/consistentCut.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const replayUsage = 'replay <sessionId> [--at <position | ISO time>] [--json] [--store <uri>]';

/** Each actor of a session as of a point in the log, folded from its stream; no model is called. */
export async function replayCommand(args: string[], io: CommandIo): Promise<number> {
  const { sessionId, at: asked, json, store: storeUri } = sessionPointArgs('replay', args);
  const store = await openEventStore(cliStoreUri(storeUri), { existing: true });
  try {
    const point = await answeredPoint(store, asked, sessionScope(sessionId));
    const actors = await replaySession(store, sessionId, point.at);
    if (json) {
      io.out(toJson({ sessionId, ...point.json, actors }));
      return 0;
    }
    io.out(`session ${sessionId} as of ${point.described}`);
    for (const actor of actors) {
      io.out('');
      io.out(`${actor.streamId}  [${actor.revision === null ? 'not yet created' : `revision ${actor.revision}, position ${actor.position}`}]`);
      io.out(`  state:   ${toJson(actor.value)} (${actor.status})`);
      io.out(`  context: ${toJson(actor.context)}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
