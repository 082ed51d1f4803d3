import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import type { AuditProblem } from './auditProblem.ts';
import { causalityAudit } from './causalityAudit.ts';
import type { SessionLog, StreamRecords } from './sessionLog.ts';

/**
 * The causality audit over an export's own events, before any of it is written: an export cut inside a write (a
 * `head`, a broken pipe) still has every hash chain intact, yet ends, say, with a model request whose reservation
 * was the next line, and imported it fails its audit and `resume` fails its turn. Causes outside the file (another
 * session's, an emergency) are not the file's to hold, and count as present: the audit in the target checks them.
 */
export async function exportCausalityProblems(events: readonly RecordedEvent[]): Promise<AuditProblem[]> {
  const streams = new Map<string, StreamRecords>();
  for (const event of events) {
    if (streamCategory(event.streamId) === 'checkpoint') continue;
    let stream = streams.get(event.streamId);
    if (!stream) streams.set(event.streamId, stream = { streamId: event.streamId, records: [], firstReadable: 0n, verifiedByStore: true, refusals: [] });
    stream.records.push({ streamId: event.streamId, revision: event.revision, position: event.position, eventId: event.eventId, type: event.type, event });
  }
  const sessions = [...streams.keys()].filter((s) => streamCategory(s) === 'session').map((s) => s.slice('session-'.length));
  // A file may hold several sessions (exports joined, a whole log): each is audited with its own streams and those
  // no session owns (a market's book), as an audit in the store reads it.
  const ownerOf = (streamId: string) => sessions.find((id) => streamId.endsWith(`-${id}`) || streamId.includes(`-${id}.`));
  const problems: AuditProblem[] = [];
  for (const sessionId of sessions.length > 0 ? sessions : ['']) {
    const own = new Map([...streams].filter(([streamId]) => { const owner = ownerOf(streamId); return owner === undefined || owner === sessionId; }));
    const log: SessionLog = { sessionId, source: 'store-reads', streams: own, existingElsewhere: async (ids) => new Set(ids) };
    problems.push(...(await causalityAudit(log)).problems);
  }
  return problems;
}
