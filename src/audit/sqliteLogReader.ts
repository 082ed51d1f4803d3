import { DatabaseSync } from 'node:sqlite';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { firstReadableRevision } from '../store/streamMetadata.ts';
import type { LogReader } from './logReader.ts';
import { decodeStoredRow, type StoredRow } from './recordDecoding.ts';
import { actorStreamPrefixes, messageTargets, namedStreams, type SessionLog, type StreamRecords } from './sessionLog.ts';

interface HeadRow {
  last_revision: bigint;
  last_hash: string;
  last_position: bigint;
  max_count: bigint | null;
  truncate_before: bigint | null;
}

/**
 * Reads a SQLite store's rows directly, through a read-only connection of its own: a store read stops at the first
 * record it cannot trust, while an audit must see past it (to list every break, and to report the edited record's
 * consequences), and it compares the `streams` table's heads with the rows, which no store read exposes.
 */
export function sqliteLogReader(path: string, registry: EventRegistry): LogReader {
  const db = new DatabaseSync(path, { readOnly: true });
  const prepare = (sql: string) => {
    const statement = db.prepare(sql);
    statement.setReadBigInts(true);
    return statement;
  };
  const rows = prepare('SELECT position, stream_id, revision, event_id, type, data, metadata FROM events WHERE stream_id = ? ORDER BY revision, position');
  const head = prepare('SELECT last_revision, last_hash, last_position, max_count, truncate_before FROM streams WHERE stream_id = ?');
  // A range on the primary keys rather than LIKE: `_` in a session id is a LIKE wildcard, and the range uses the index.
  const inRange = prepare(`SELECT stream_id FROM streams WHERE stream_id >= ? AND stream_id < ?
    UNION SELECT DISTINCT stream_id FROM events WHERE stream_id >= ? AND stream_id < ?`);
  const sessions = prepare(`SELECT stream_id, MIN(position) AS first FROM events WHERE stream_id >= 'session-' AND stream_id < 'session.' GROUP BY stream_id
    UNION ALL SELECT stream_id, NULL FROM streams WHERE stream_id >= 'session-' AND stream_id < 'session.' AND last_revision >= 0`);
  const existing = prepare('SELECT event_id FROM events WHERE event_id IN (SELECT value FROM json_each(?))');

  const withPrefix = (prefix: string): string[] => {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return (inRange.all(prefix, end, prefix, end) as { stream_id: string }[]).map((r) => r.stream_id);
  };

  function readStream(streamId: string): StreamRecords {
    const records = (rows.all(streamId) as Record<string, unknown>[]).map((r) => decodeStoredRow(toStoredRow(r), registry));
    const h = head.get(streamId) as HeadRow | undefined;
    const lastRevision = h?.last_revision ?? records.at(-1)?.revision ?? -1n;
    const metadata = { ...(h?.max_count == null ? {} : { maxCount: Number(h.max_count) }), ...(h?.truncate_before == null ? {} : { truncateBefore: h.truncate_before }) };
    return {
      streamId, records, firstReadable: firstReadableRevision(lastRevision, metadata), verifiedByStore: false, refusals: [],
      ...(h && h.last_revision >= 0n ? { head: { revision: h.last_revision, hash: h.last_hash, position: h.last_position } } : {}),
    };
  }

  return {
    async sessionIds() {
      const found = sessions.all() as { stream_id: string; first: bigint | null }[];
      const ordered = found.filter((r) => r.first !== null).sort((a, b) => (a.first! < b.first! ? -1 : 1)).map((r) => r.stream_id);
      for (const r of found) if (!ordered.includes(r.stream_id)) ordered.push(r.stream_id);
      return ordered.map((streamId) => streamId.slice('session-'.length));
    },
    async read(sessionId) {
      const streams = new Map<string, StreamRecords>();
      const pending = [...namedStreams(sessionId), ...actorStreamPrefixes(sessionId).flatMap(withPrefix)];
      while (pending.length > 0) {
        const streamId = pending.shift()!;
        if (streams.has(streamId)) continue;
        const stream = readStream(streamId);
        if (stream.records.length === 0 && !stream.head) continue;
        streams.set(streamId, stream);
        pending.push(...messageTargets(stream.records));
      }
      const log: SessionLog = {
        sessionId, source: 'sqlite-rows', streams,
        existingElsewhere: async (ids) => new Set((existing.all(JSON.stringify(ids)) as { event_id: string }[]).map((r) => r.event_id)),
      };
      return log;
    },
    close() {
      db.close();
    },
  };
}

function toStoredRow(r: Record<string, unknown>): StoredRow {
  return {
    position: r.position as bigint, streamId: r.stream_id as string, revision: r.revision as bigint, eventId: r.event_id as string,
    type: r.type as string, data: r.data as string, metadata: r.metadata as string,
  };
}
