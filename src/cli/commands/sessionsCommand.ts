import { z } from 'zod';
import type { SessionContext } from '../../../machines/sessionMachine.ts';
import { replayStream } from '../../runtime/replay.ts';
import { MachineVersionError } from '../../runtime/actorFold.ts';
import { actorKindOf, sessionIdOf } from '../../runtime/actorKinds.ts';
import { loadActor } from '../../runtime/actorLoad.ts';
import { listSessionIds, sessionStream } from '../../runtime/sessionStreams.ts';
import { readWholeStreams, type EventStore } from '../../store/eventStore.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({ store: z.string().optional(), json: z.boolean().optional() });

export const sessionsUsage = 'sessions [--json] [--store <uri>]';

/** Lists sessions with their status, folded from each session's stream. */
export async function sessionsCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('sessions', args, { store: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const sessionIds = await listSessionIds(store);
    // Said, where the listing would be empty: an empty screen reads as a command that did nothing. (--json lists none.)
    if (sessionIds.length === 0 && !values.json) io.out('no sessions in this store yet: `chronicle run` or `chronicle submit` starts one');
    // One read of every session's stream: a store that can reads them ahead while each is folded.
    for await (const { streamId, events } of readWholeStreams(store, sessionIds.map(sessionStream))) {
      const sessionId = sessionIdOf(streamId);
      let state;
      try {
        state = replayStream(streamId, events);
      } catch (error) {
        if (!(error instanceof MachineVersionError)) throw error;
        const summary = { sessionId, status: 'incompatible', reason: `written by ${events[0]!.metadata.machineVersion}` };
        io.out(values.json ? toJson(summary) : `${sessionId}  incompatible (${summary.reason}; this build cannot replay it)`);
        continue;
      }
      const context = state.context as SessionContext;
      const status = state.status === 'done' ? 'closed' : typeof state.value === 'object' ? 'running' : String(state.value);
      const last = context.recentOutcomes.at(-1);
      // The newest turn's triage: its mode and the request's priority and region/purpose, as recorded.
      const triaged = events.findLast((e) => e.type === 'triage.decided')?.data as { decision: { mode: string } } | undefined;
      const priority = events.findLast((e) => e.type === 'priority.assigned')?.data as { priority: { priority: number; region: string; purpose: string } } | undefined;
      const summary = {
        sessionId, status, turns: context.turn, queued: context.queued.length,
        mode: triaged?.decision.mode ?? null, priority: priority?.priority.priority ?? null,
        region: priority?.priority.region ?? null, purpose: priority?.priority.purpose ?? null,
        agents: Object.values(context.agents), handOffs: context.transitions ?? 0,
        startedAt: events[0]!.metadata.recordedAt, lastEventAt: events.at(-1)!.metadata.recordedAt,
        lastOutcome: last ? { turn: last.turn, status: last.status, mode: last.mode, model: last.model } : null,
      };
      // A turn under way whose agents' timers all should have fired by now: no process is running it.
      const stalledSince = status === 'running' ? await overdueSince(store, summary.agents, Date.now()) : null;
      const detail = summary.mode === null ? '' : `  ${summary.mode.padEnd(9)} ${summary.region} ${summary.purpose} priority ${summary.priority}`;
      const stalled = stalledSince === null ? '' : `  stalled since ${stalledSince} (the process running it stopped: \`chronicle resume\` finishes it)`;
      io.out(values.json ? toJson({ ...summary, ...(stalledSince === null ? {} : { stalledSince }) }) : `${sessionId}  ${status.padEnd(10)} ${String(summary.turns).padStart(3)} turn(s)${detail}  started ${summary.startedAt}${last ? `  last: ${last.status}` : ''}${summary.handOffs > 0 ? `  ${summary.handOffs} hand-off(s)` : ''}${stalled}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * When a running turn's agents have a timer (a model call's timeout, a retry's backoff) that came due more than a
 * moment ago and was never fired, the time the first came due: a live process would have fired it. Null otherwise.
 */
async function overdueSince(store: EventStore, agentStreams: readonly string[], now: number): Promise<string | null> {
  let earliest: number | null = null;
  for (const streamId of agentStreams) {
    const { tracking } = await loadActor(store, actorKindOf(streamId), streamId);
    for (const { dueAt } of tracking.activeTimers.values()) if (dueAt < now - STALL_GRACE_MS && (earliest === null || dueAt < earliest)) earliest = dueAt;
  }
  return earliest === null ? null : new Date(earliest).toISOString();
}

/** Longer than a live process takes to fire a due timer and record it, even a busy one. */
const STALL_GRACE_MS = 5_000;
