import type { RecordedEvent } from '../events/envelope.ts';
import { listSessionIds } from '../runtime/sessionStreams.ts';
import { CorruptEventError, StreamNotFoundError } from '../store/errors.ts';
import type { EventStore } from '../store/eventStore.ts';
import { firstReadableRevision } from '../store/streamMetadata.ts';
import type { LogReader } from './logReader.ts';
import { messageTargets, namedStreams, type AuditRecord, type SessionLog, type StreamRecords } from './sessionLog.ts';

/** Link breaks are reported at the record read second, which is itself sound: resume there, not after it. */
const REPORTED_AT_SOUND_RECORD = new Set(['missing-event', 'broken-link']);

/**
 * Reads sessions through any store's reads. A read verifies every hash and link and stops at the first record it
 * cannot trust (`CorruptEventError`): that refusal is the finding, and reading resumes right after it, so one bad
 * record neither crashes the audit nor hides the rest of the stream.
 */
export function storeLogReader(store: EventStore): LogReader {
  let allIds: Promise<Set<string>> | undefined;

  async function readStream(streamId: string): Promise<StreamRecords | undefined> {
    const records: AuditRecord[] = [];
    const refusals: StreamRecords['refusals'] = [];
    let from = 0n;
    let resumed = false;
    for (;;) {
      try {
        for await (const event of store.readStream(streamId, { fromRevision: from })) {
          records.push({ ...place(event), stored: event, event, ...(resumed ? { resumed } : {}) });
          resumed = false;
        }
        break;
      } catch (error) {
        if (error instanceof StreamNotFoundError) return undefined;
        if (!(error instanceof CorruptEventError) || error.place.revision === undefined) throw error;
        const at = error.place.revision;
        refusals.push({ revision: at, position: error.place.position ?? null, reason: error.reason, message: error.message });
        const next = REPORTED_AT_SOUND_RECORD.has(error.reason) ? at : at + 1n;
        // Never loop on one record: a resumed read that is refused at the same place again skips it.
        from = next > from ? next : from + 1n;
        resumed = true;
      }
    }
    const metadata = await store.getStreamMetadata(streamId);
    return { streamId, records, refusals, verifiedByStore: true, firstReadable: firstReadableRevision(records.at(-1)?.revision ?? -1n, metadata) };
  }

  async function everyEventId(): Promise<Set<string>> {
    const ids = new Set<string>();
    let from: bigint | 'start' = 'start';
    for (;;) {
      try {
        for await (const event of store.readAll({ fromPosition: from })) ids.add(event.eventId);
        return ids;
      } catch (error) {
        if (!(error instanceof CorruptEventError) || error.place.position === undefined) throw error;
        from = error.place.position + 1n;
      }
    }
  }

  return {
    sessionIds: () => listSessionIds(store),
    async read(sessionId) {
      const streams = new Map<string, StreamRecords>();
      const pending = namedStreams(sessionId);
      while (pending.length > 0) {
        const streamId = pending.shift()!;
        if (streams.has(streamId)) continue;
        const stream = await readStream(streamId);
        if (!stream) continue;
        streams.set(streamId, stream);
        pending.push(...messageTargets(stream.records));
      }
      const log: SessionLog = {
        sessionId, source: 'store-reads', streams,
        // Rare (a cause in another session's log), so the whole log is scanned once, and only when asked.
        existingElsewhere: async (ids) => {
          allIds ??= everyEventId();
          const all = await allIds;
          return new Set(ids.filter((id) => all.has(id)));
        },
      };
      return log;
    },
    close() {},
  };
}

function place(event: RecordedEvent): Pick<AuditRecord, 'streamId' | 'revision' | 'position' | 'eventId' | 'type'> {
  return { streamId: event.streamId, revision: event.revision, position: event.position, eventId: event.eventId, type: event.type };
}
