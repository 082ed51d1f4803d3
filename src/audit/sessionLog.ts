import type { RecordedEvent } from '../events/envelope.ts';
import type { ChainLink } from '../events/hashChain.ts';
import { checkpointStream } from '../runtime/checkpoints.ts';
import { EMERGENCY_STREAM } from '../runtime/emergencyRegister.ts';
import { ledgerStream, sessionStream } from '../runtime/sessionStreams.ts';

/**
 * One record of a stream as the audit read it. Nothing about it is trusted yet: `stored` is the form its hash was
 * computed over (before any upcast), `event` the decoded form the folds use; either may be missing when the record
 * cannot be read, and `unreadable` says why.
 */
export interface AuditRecord {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  type: string;
  stored?: ChainLink;
  event?: RecordedEvent;
  unreadable?: string;
  /** Reading resumed here after the store refused an earlier record: its link to that record cannot be checked. */
  resumed?: boolean;
}

/** A stream's records in revision order, with what the store says about its head and its retention. */
export interface StreamRecords {
  streamId: string;
  records: AuditRecord[];
  /** Where the store's own bookkeeping puts the stream's head (SQLite's `streams` table), when it can tell. */
  head?: { revision: bigint; hash: string; position: bigint };
  /** The first revision retention (`$maxCount`, `$tb`) leaves readable: records before it were scavenged on purpose. */
  firstReadable: bigint;
  /** True when a store read already verified each hash and link (only the breaks it refused are findings). */
  verifiedByStore: boolean;
  /** Records the store refused to hand out (a non-SQLite store): the place and its reason. */
  refusals: { revision: bigint; position: bigint | null; reason: string; message: string }[];
}

/** Everything an audit of one session reads: its streams, the checkpoint and emergency streams included. */
export interface SessionLog {
  sessionId: string;
  /** How it was read: the SQLite file's rows directly, or through the store's reads. */
  source: 'sqlite-rows' | 'store-reads';
  streams: Map<string, StreamRecords>;
  /** Looks up event ids outside this session (a cause recorded by another session); returns the ones that exist. */
  existingElsewhere(eventIds: readonly string[]): Promise<Set<string>>;
}

/** The streams every session has or may have by name; agents and transitions are found by prefix and by messages. */
export function namedStreams(sessionId: string): string[] {
  return [sessionStream(sessionId), ledgerStream(sessionId), checkpointStream(sessionId), EMERGENCY_STREAM];
}

/** Agent and transition streams carry the session id after the category: `agent-<sessionId>.<role>.<n>`. */
export function actorStreamPrefixes(sessionId: string): string[] {
  return [`agent-${sessionId}.`, `transition-${sessionId}.`];
}

/** Streams a stream's records send messages to: the session reaches its agents and transitions this way. */
export function messageTargets(records: readonly AuditRecord[]): string[] {
  const targets: string[] = [];
  for (const record of records) {
    const data = (record.event?.data ?? record.stored?.data) as { to?: unknown } | undefined;
    if (record.type === 'message.sent' && typeof data?.to === 'string') targets.push(data.to);
  }
  return targets;
}

/** The decoded events of the session's own streams (not checkpoints, not the shared emergency register), in global order. */
export function sessionEvents(log: SessionLog): RecordedEvent[] {
  const skip = new Set([checkpointStream(log.sessionId), EMERGENCY_STREAM]);
  const events: RecordedEvent[] = [];
  for (const [streamId, stream] of log.streams) {
    if (skip.has(streamId)) continue;
    for (const record of stream.records) if (record.event) events.push(record.event);
  }
  return events.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

/** The session's decoded checkpoints, oldest first. */
export function checkpointEvents(log: SessionLog): RecordedEvent[] {
  const stream = log.streams.get(checkpointStream(log.sessionId));
  return (stream?.records ?? []).flatMap((r) => (r.event?.type === 'checkpoint.recorded' ? [r.event] : []));
}

/** The decoded events of one stream, in revision order. */
export function streamEvents(log: SessionLog, streamId: string): RecordedEvent[] {
  return (log.streams.get(streamId)?.records ?? []).flatMap((r) => (r.event ? [r.event] : []));
}
