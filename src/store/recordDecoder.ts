import { recordedMetadataSchema, type RecordedEvent, type RecordedMetadata } from '../events/envelope.ts';
import { zodProblems, type EventPlace } from '../events/eventSchemaError.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { looksLikeRecordedMetadata, readEnvelopeText } from '../events/envelopeText.ts';
import { computeEventHash, hashOfCanonicalParts, storedTextMatchesHash } from '../events/hashChain.ts';
import { CorruptEventError } from './errors.ts';
import { BufferedRead } from './eventStore.ts';

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
export function decodeRecord(record: StoredRecord, registry: EventRegistry, options: { hashChecked?: boolean } = {}): RecordedEvent {
  const place: EventPlace = { streamId: record.streamId, revision: record.revision, position: record.position };
  // The common case, text as this build's stores write it: the envelope parsed, checked and split in one pass, and
  // the hash verified over the stored bytes. Equal to a computed hash, the recorded one is 64 hex digits, which
  // `readEnvelopeText` leaves to this comparison. Anything else goes the general way, which names what is wrong.
  // `hashChecked`: a read-ahead thread has made this very comparison over these texts (see `readAheadWorker.ts`);
  // it counts only where the envelope is canonical, as the thread's check assumed.
  const sealed = typeof record.data === 'string' && typeof record.metadata === 'string' ? readEnvelopeText(record.metadata) : undefined;
  const verified = sealed !== undefined
    && (options.hashChecked === true || hashOfCanonicalParts(record.type, record.data as string, sealed.withoutHash, sealed.metadata.prevHash) === sealed.metadata.hash);
  const metadata = verified ? sealed.metadata : envelopeOf(record, place);
  const data = parseJson(record.data, 'data', place);
  const hash = verified ? metadata.hash : verifiedHash(record, data, metadata);
  if (hash !== metadata.hash) {
    throw new CorruptEventError(place, 'hash-mismatch', `${record.type}: content hashes to ${hash} but the record says ${metadata.hash} (edited after it was written)`);
  }
  return {
    eventId: record.eventId,
    type: record.type,
    data: registry.parseRecorded(record.type, metadata.schemaVersion, data, place, { owned: typeof record.data === 'string' }),
    metadata,
    streamId: record.streamId,
    revision: record.revision,
    position: record.position,
  };
}

/** The general way for an envelope: `JSON.parse`, the hand-written check, and zod to explain a refusal. */
function envelopeOf(record: StoredRecord, place: EventPlace): RecordedMetadata {
  const raw = parseJson(record.metadata, 'metadata', place);
  if (looksLikeRecordedMetadata(raw)) return raw;
  const metadata = recordedMetadataSchema.safeParse(raw);
  if (!metadata.success) {
    const problems = zodProblems('metadata', metadata.error).map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new CorruptEventError(place, 'invalid-metadata', `${record.type}: ${problems}`);
  }
  return metadata.data;
}

/** The hash over the stored texts when they are canonical, else over the content re-serialised. */
function verifiedHash(record: StoredRecord, data: unknown, metadata: RecordedMetadata): string {
  const verified = typeof record.data === 'string' && typeof record.metadata === 'string'
    && storedTextMatchesHash(record.type, record.data, record.metadata, metadata.prevHash, metadata.hash);
  return verified ? metadata.hash : computeEventHash({ type: record.type, data, metadata });
}

function parseJson(value: unknown, field: string, place: EventPlace): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new CorruptEventError(place, 'invalid-json', `${field} is not JSON (${(error as Error).message})`);
  }
}

/** A stream read of records a store fetches in one go: each decoded, and checked to link to the one before it. */
export function verifiedStreamRead(fetch: () => readonly StoredRecord[], direction: 'forwards' | 'backwards', registry: EventRegistry): BufferedRead<StoredRecord> {
  return new BufferedRead(fetch, () => {
    const checkLink = linkChecker(direction);
    return (record) => {
      const event = decodeRecord(record, registry);
      checkLink(event);
      return event;
    };
  });
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
      const earlier = direction === 'forwards' ? neighbour : event;
      const later = direction === 'forwards' ? event : neighbour;
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
