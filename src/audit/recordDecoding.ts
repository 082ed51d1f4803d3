import { recordedMetadataSchema } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import type { AuditRecord } from './sessionLog.ts';

/** A row as a store keeps it: data and metadata as the JSON texts that were hashed. */
export interface StoredRow {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  type: string;
  data: string;
  metadata: string;
}

/**
 * Decodes a stored row without trusting its hash, which is the chain audit's to judge: an edited record is still
 * decoded, so the other checks can say what the edit changed, where a store read would refuse it. A record whose
 * JSON or envelope cannot be read, or whose data fails its schema, is kept with the reason.
 */
export function decodeStoredRow(row: StoredRow, registry: EventRegistry): AuditRecord {
  const record: AuditRecord = { streamId: row.streamId, revision: row.revision, position: row.position, eventId: row.eventId, type: row.type };
  let data: unknown;
  let metadata: unknown;
  try {
    data = JSON.parse(row.data);
    metadata = JSON.parse(row.metadata);
  } catch (error) {
    return { ...record, unreadable: `not JSON: ${(error as Error).message}` };
  }
  const envelope = recordedMetadataSchema.safeParse(metadata);
  if (!envelope.success) {
    return { ...record, unreadable: `metadata is not a Chronicle envelope: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  }
  const stored = { streamId: row.streamId, revision: row.revision, position: row.position, eventId: row.eventId, type: row.type, data, metadata: envelope.data };
  const place = { streamId: row.streamId, revision: row.revision, position: row.position };
  try {
    const decoded = registry.parseRecorded(row.type, envelope.data.schemaVersion, data, place);
    return { ...record, stored, event: { ...stored, data: decoded } };
  } catch (error) {
    return { ...record, stored, unreadable: (error as Error).message };
  }
}
