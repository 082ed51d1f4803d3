import { replaySession } from '../../runtime/replay.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { sessionPointArgs } from '../sessionPointArgs.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { describePoint } from '../pointFlag.ts';

export const replayUsage = 'replay <sessionId> [--at <position | ISO time>] [--json] [--store <uri>]';

/** Each actor of a session as of a point in the log, folded from its stream; no model is called. */
export async function replayCommand(args: string[], io: CommandIo): Promise<number> {
  const { sessionId, at, json, store: storeUri } = sessionPointArgs('replay', args);
  const store = await openEventStore(storeUri, { existing: true });
  try {
    const actors = await replaySession(store, sessionId, at);
    if (json) {
      io.out(toJson({ sessionId, at: at ?? 'now', actors }));
      return 0;
    }
    io.out(`session ${sessionId} as of ${describePoint(at)}`);
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
