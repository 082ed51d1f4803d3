import type { ActorKind } from '../runtime/actorKinds.ts';
import { sessionStream, UnknownSessionError } from '../runtime/sessionStreams.ts';
import type { EventStore } from '../store/eventStore.ts';
import { byReportOrder, type AuditProblem } from './auditProblem.ts';
import { causalityAudit, type CausalitySummary } from './causalityAudit.ts';
import { chainAudit, type ChainSummary } from './chainAudit.ts';
import { determinismAudit, type DeterminismSummary } from './determinismAudit.ts';
import { logReaderFor, type LogReader } from './logReader.ts';
import { projectionAudit, type ProjectionSummary } from './projectionAudit.ts';
import type { SessionLog } from './sessionLog.ts';

export interface AuditOptions {
  /** The machines to re-fold actor streams with, by stream category (default: this build's). */
  kinds?: Record<string, ActorKind>;
}

export interface SessionAudit {
  sessionId: string;
  ok: boolean;
  checks: { chain: ChainSummary; determinism: DeterminismSummary; projections: ProjectionSummary; causality: CausalitySummary };
  /** Every finding, in report order: the first is the one to fix first. */
  problems: AuditProblem[];
}

export interface StoreAudit {
  ok: boolean;
  sessions: SessionAudit[];
}

/** The four checks over one session's log, read once. */
export async function auditSessionLog(log: SessionLog, options: AuditOptions = {}): Promise<SessionAudit> {
  const chain = chainAudit(log);
  const determinism = determinismAudit(log, options.kinds);
  const projections = projectionAudit(log);
  const causality = await causalityAudit(log);
  const problems = [...chain.problems, ...determinism.problems, ...projections.problems, ...causality.problems].sort(byReportOrder);
  return {
    sessionId: log.sessionId, ok: problems.length === 0,
    checks: { chain: chain.summary, determinism: determinism.summary, projections: projections.summary, causality: causality.summary },
    problems,
  };
}

/** Audits one session of a store. Throws `UnknownSessionError` when the store has no such session. */
export async function auditSession(store: EventStore, sessionId: string, options: AuditOptions = {}): Promise<SessionAudit> {
  return withReader(store, async (reader) => auditSessionLog(await readSession(reader, sessionId), options));
}

/** Audits the given sessions, or every session of the store. */
export async function auditStore(store: EventStore, sessionIds: readonly string[] | 'all', options: AuditOptions = {}): Promise<StoreAudit> {
  return withReader(store, async (reader) => {
    const ids = sessionIds === 'all' ? await reader.sessionIds() : sessionIds;
    const sessions: SessionAudit[] = [];
    for (const id of ids) sessions.push(await auditSessionLog(await readSession(reader, id), options));
    return { ok: sessions.every((s) => s.ok), sessions };
  });
}

export async function readSession(reader: LogReader, sessionId: string): Promise<SessionLog> {
  const log = await reader.read(sessionId);
  if (!log.streams.has(sessionStream(sessionId))) throw new UnknownSessionError(sessionId);
  return log;
}

export async function withReader<T>(store: EventStore, work: (reader: LogReader) => Promise<T>): Promise<T> {
  const reader = logReaderFor(store);
  try {
    return await work(reader);
  } finally {
    reader.close();
  }
}
