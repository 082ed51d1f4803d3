import { recordedMetadataSchema, type RecordedEvent, type RecordedMetadata } from '../events/envelope.ts';
import { zodProblems, type EventPlace } from '../events/eventSchemaError.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { computeEventHash, storedTextMatchesHash } from '../events/hashChain.ts';
import { CorruptEventError } from './errors.ts';

/** A record as an adapter stores it: data and metadata as JSON text (sqlite, memory) or already parsed (KurrentDB). */
export interface StoredRecord {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  type: string;
  data: string | unknown;
  metadata: string | unknown;
}

/**
 * Turns a stored record into a trusted event, or says exactly why it cannot: unreadable JSON, an envelope that
 * is not ours, content that does not match its hash (checked on the stored form, before upcasting), data that
 * fails its schema. Every error names the record's stream, revision and position.
 */
export function decodeRecord(record: StoredRecord, registry: EventRegistry): RecordedEvent {
  const place: EventPlace = { streamId: record.streamId, revision: record.revision, position: record.position };
  const data = parseJson(record.data, 'data', place);
  const rawMetadata = parseJson(record.metadata, 'metadata', place);
  // Every read checks the envelope; the hand-written check is the fast path, zod only runs to explain a failure.
  const metadata = looksLikeRecordedMetadata(rawMetadata) ? { success: true as const, data: rawMetadata } : recordedMetadataSchema.safeParse(rawMetadata);
  if (!metadata.success) {
    const problems = zodProblems('metadata', metadata.error).map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new CorruptEventError(place, 'invalid-metadata', `${record.type}: ${problems}`);
  }
  const verified = typeof record.data === 'string' && typeof record.metadata === 'string'
    && storedTextMatchesHash(record.type, record.data, record.metadata, metadata.data.prevHash, metadata.data.hash);
  const hash = verified ? metadata.data.hash : computeEventHash({ type: record.type, data, metadata: metadata.data });
  if (hash !== metadata.data.hash) {
    throw new CorruptEventError(place, 'hash-mismatch', `${record.type}: content hashes to ${hash} but the record says ${metadata.data.hash} (edited after it was written)`);
  }
  return {
    eventId: record.eventId,
    type: record.type,
    data: registry.parseRecorded(record.type, metadata.data.schemaVersion, data, place),
    metadata: metadata.data,
    streamId: record.streamId,
    revision: record.revision,
    position: record.position,
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const METADATA_KEYS = new Set(['actorId', 'actorKind', 'sessionId', 'correlationId', 'causationId', 'recordedAt', 'schemaVersion', 'machineVersion', 'prevHash', 'hash']);

/** The same rules as `recordedMetadataSchema`, written out for the read path; anything it refuses goes to zod. */
function looksLikeRecordedMetadata(value: unknown): value is RecordedMetadata {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  for (const key in m) if (!METADATA_KEYS.has(key)) return false;
  const text = (v: unknown) => typeof v === 'string' && v.length > 0;
  return text(m.actorId) && typeof m.actorKind === 'string' && /^[a-z][a-zA-Z0-9]*$/.test(m.actorKind) && text(m.sessionId)
    && text(m.correlationId) && (m.causationId === null || text(m.causationId)) && typeof m.recordedAt === 'string'
    && ISO_INSTANT.test(m.recordedAt) && Number.isInteger(m.schemaVersion) && (m.schemaVersion as number) > 0 && text(m.machineVersion)
    && isSha256Hex(m.prevHash) && isSha256Hex(m.hash);
}

/** `/^[0-9a-f]{64}$/.test`, written out: it runs twice per event read, and the regular expression cost more than the rest of the check. */
function isSha256Hex(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function parseJson(value: unknown, field: string, place: EventPlace): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new CorruptEventError(place, 'invalid-json', `${field} is not JSON (${(error as Error).message})`);
  }
}

/**
 * Checks, while a stream is read in either direction, that neighbouring events link (the decoder has already
 * checked each event's own hash): a missing revision or a `prevHash` that does not match the neighbour's hash
 * means an event was deleted, inserted or reordered. The break is reported at the event read second.
 */
export function linkChecker(direction: 'forwards' | 'backwards'): (event: RecordedEvent) => void {
  let neighbour: RecordedEvent | undefined;
  return (event) => {
    if (neighbour !== undefined) {
      const [earlier, later] = direction === 'forwards' ? [neighbour, event] : [event, neighbour];
      const place = { streamId: event.streamId, revision: event.revision, position: event.position };
      if (later.revision !== earlier.revision + 1n) {
        throw new CorruptEventError(place, 'missing-event', `revisions ${earlier.revision} and ${later.revision} are neighbours in the stream; the events between them are missing`);
      }
      if (later.metadata.prevHash !== earlier.metadata.hash) {
        throw new CorruptEventError(place, 'broken-link', `revision ${later.revision} does not link to revision ${earlier.revision} (an event was deleted, inserted or reordered)`);
      }
    }
    neighbour = event;
  };
}
