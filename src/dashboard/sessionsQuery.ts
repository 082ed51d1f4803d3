import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { MachineVersionError } from '../runtime/actorFold.ts';
import type { PointInTime } from '../runtime/pointInTime.ts';
import { replayStream } from '../runtime/replay.ts';
import { storeStateAt } from '../runtime/stateAt.ts';
import type { EventStore } from '../store/eventStore.ts';
import { logUpTo } from './logAt.ts';
import { sessionOrigin } from './sessionOrigin.ts';

export interface SessionRow {
  sessionId: string;
  status: string;
  mode: string | null;
  region: string | null;
  purpose: string | null;
  priority: number | null;
  turns: number;
  tokens: number;
  handOffs: number;
  startedAt: string | null;
  lastEventAt: string | null;
}

/**
 * Every session started by the point, folded as `chronicle sessions` folds it (its own stream through the session
 * machine), but cut at the point; tokens are its ledger's input + output as of the same point.
 */
export async function sessionsAt(store: EventStore, at: PointInTime | undefined): Promise<SessionRow[]> {
  const states = await storeStateAt(store, at);
  const own = Map.groupBy((await logUpTo(store, at)).filter((e) => e.streamId.startsWith('session-')), (e) => e.streamId);
  return states.map((state) => {
    const usage = state.ledger.usage.total;
    return sessionRow(state.sessionId, own.get(`session-${state.sessionId}`) ?? [], usage.inputTokens + usage.outputTokens);
  });
}

function sessionRow(sessionId: string, events: readonly RecordedEvent[], tokens: number): SessionRow {
  const origin = sessionOrigin(events);
  const triaged = events.findLast((e) => e.type === 'triage.decided')?.data as { decision: { mode: string } } | undefined;
  const base = {
    sessionId, mode: triaged?.decision.mode ?? null, ...origin, tokens,
    startedAt: events[0]?.metadata.recordedAt ?? null, lastEventAt: events.at(-1)?.metadata.recordedAt ?? null,
  };
  try {
    const state = replayStream(`session-${sessionId}`, events);
    const context = state.context as SessionContext;
    // The machine's top-level state: a turn in progress is a compound state, shown as running.
    const status = state.status === 'done' ? 'closed' : typeof state.value === 'object' ? 'running' : String(state.value);
    return { ...base, status, turns: context.turn, handOffs: context.transitions ?? 0 };
  } catch (error) {
    if (!(error instanceof MachineVersionError)) throw error;
    return { ...base, status: 'incompatible', turns: 0, handOffs: 0 };
  }
}
