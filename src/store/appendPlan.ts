import { ASK_ZOD, compileSchema } from '../events/compiledSchema.ts';
import { appendMetadataSchema, eventIdSchema, type AppendMetadata, type EventToAppend, type RecordedMetadata } from '../events/envelope.ts';
import { EventSchemaError, zodProblems } from '../events/eventSchemaError.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { GENESIS_HASH, sealEvent } from '../events/hashChain.ts';
import { DuplicateEventIdError, StreamDeletedError, WrongExpectedVersionError } from './errors.ts';
import type { AppendResult, ExpectedState } from './eventStore.ts';

/** What a store knows about a stream when an append starts. */
export interface StreamHead {
  /** Revision of the last event ever written, -1n when none. */
  lastRevision: bigint;
  /** Hash of that event, the genesis hash when none. */
  lastHash: string;
  /** Position of that event, -1n when none. */
  lastPosition: bigint;
  status: 'live' | 'soft-deleted' | 'tombstoned';
}

export const EMPTY_HEAD: StreamHead = { lastRevision: -1n, lastHash: GENESIS_HASH, lastPosition: -1n, status: 'live' };

/** Where an event id is already recorded. */
export interface ExistingEvent {
  streamId: string;
  revision: bigint;
  position: bigint;
}

/** One event ready to be written: validated, placed and sealed. The store assigns its position. */
export interface SealedEvent {
  eventId: string;
  type: string;
  revision: bigint;
  data: unknown;
  metadata: RecordedMetadata;
  /** Canonical JSON texts, as stores keep them (see docs/hash-chain.md). */
  dataJson: string;
  metadataJson: string;
}

export type AppendPlan =
  | { kind: 'noop'; result: AppendResult }
  | { kind: 'write'; events: SealedEvent[]; nextExpectedRevision: bigint };

/**
 * The arguments of an append as plain JavaScript may pass them: a stream id that is not a string would be stored
 * under another name (SQLite binds 42 as "42.0"), and an expected state of `0` rather than `0n` would be reported as
 * a conflict that no retry resolves.
 */
function checkAppendArguments(streamId: unknown, expectedState: unknown): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError(`streamId must be a non-empty string, not ${typeof streamId === 'string' ? 'an empty one' : String(streamId)}`);
  const state = expectedState;
  if (state === 'any' || state === 'no_stream' || state === 'stream_exists' || (typeof state === 'bigint' && state >= 0n)) return;
  throw new TypeError(`expectedState for stream "${streamId}" must be 'any', 'no_stream', 'stream_exists' or a revision as a non-negative bigint (e.g. 0n), not ${typeof state === 'string' ? JSON.stringify(state) : `${String(state)} (${typeof state})`}`);
}

/**
 * Validates every event of a batch and checks it against the stream's head first, so an adapter can apply the
 * plan inside one transaction with nothing left to fail but the write itself (all-or-nothing).
 * Pure: the same head, batch and lookup give the same plan.
 */
export function planAppend(input: {
  streamId: string;
  head: StreamHead;
  expectedState: ExpectedState;
  events: readonly EventToAppend[];
  registry: EventRegistry;
  /** Finds where an event id is already recorded, if anywhere. */
  findExisting: (eventIds: string[]) => Map<string, ExistingEvent>;
}): AppendPlan {
  const { streamId, head, expectedState, events, registry } = input;
  checkAppendArguments(streamId, expectedState);
  if (head.status === 'tombstoned') throw new StreamDeletedError(streamId);
  const validated = validateBatch(streamId, head, events, registry);

  const existing = input.findExisting(validated.map((e) => e.eventId));
  if (existing.size > 0) return idempotentReplay(streamId, head, expectedState, validated.map((e) => e.eventId), existing);

  checkExpectedState(streamId, head, expectedState);
  let prevHash = head.lastHash;
  const sealed = validated.map((event, i) => {
    const { metadata, dataJson, metadataJson } = sealEvent(event, prevHash);
    prevHash = metadata.hash;
    return { eventId: event.eventId, type: event.type, revision: head.lastRevision + 1n + BigInt(i), data: event.data, metadata, dataJson, metadataJson };
  });
  return { kind: 'write', events: sealed, nextExpectedRevision: head.lastRevision + BigInt(sealed.length) };
}

/** The envelope's schemas through the same fast path as event data (zod decides whatever it does not accept). */
const fastEventId = compileSchema(eventIdSchema);
const fastMetadata = compileSchema(appendMetadataSchema);

function validEventId(eventId: unknown): boolean {
  return (fastEventId !== undefined && fastEventId(eventId) !== ASK_ZOD) || eventIdSchema.safeParse(eventId).success;
}

function parseMetadata(metadata: unknown): ReturnType<typeof appendMetadataSchema.safeParse> {
  const fast = fastMetadata === undefined ? ASK_ZOD : fastMetadata(metadata);
  return fast === ASK_ZOD ? appendMetadataSchema.safeParse(metadata) : { success: true, data: fast as AppendMetadata };
}

function validateBatch(streamId: string, head: StreamHead, events: readonly EventToAppend[], registry: EventRegistry) {
  const seen = new Set<string>();
  return events.map((event, batchIndex) => {
    const place = { streamId, revision: head.lastRevision + 1n + BigInt(batchIndex), batchIndex };
    const type = typeof event?.type === 'string' ? event.type : String(event?.type);
    if (!validEventId(event?.eventId)) {
      throw new EventSchemaError({ place, eventType: type, problems: [{ path: 'eventId', message: `must be a uuid, got ${JSON.stringify(event?.eventId)}` }], fix: 'Generate it once, when the event is decided (a time-ordered UUIDv7 keeps the store\'s id index compact; crypto.randomUUID() also works).' });
    }
    if (seen.has(event.eventId)) throw new DuplicateEventIdError(event.eventId, streamId, 'earlier in the same batch');
    seen.add(event.eventId);
    const metadata = parseMetadata(event.metadata);
    if (!metadata.success) {
      throw new EventSchemaError({ place, eventType: type, problems: zodProblems('metadata', metadata.error), fix: 'Every event needs the full envelope metadata (ARCHITECTURE.md §2).' });
    }
    const { data, schemaVersion } = registry.parseForAppend(type, metadata.data.schemaVersion, event.data, place);
    return { eventId: event.eventId, type, data, metadata: { ...metadata.data, schemaVersion } };
  });
}

function checkExpectedState(streamId: string, head: StreamHead, expected: ExpectedState): void {
  // A soft-deleted stream counts as absent for `no_stream` and `stream_exists`, and keeps its last revision, so
  // a writer that still holds it can recreate it (revisions continue where they stopped, as in KurrentDB).
  const exists = head.lastRevision >= 0n && head.status === 'live';
  const actual = head.lastRevision >= 0n ? head.lastRevision : 'no_stream';
  if (expected === 'any') return;
  if (expected === 'no_stream' && !exists) return;
  if (expected === 'stream_exists' && exists) return;
  if (typeof expected === 'bigint' && head.lastRevision >= 0n && expected === head.lastRevision) return;
  throw new WrongExpectedVersionError(streamId, expected, exists ? actual : 'no_stream');
}

/**
 * A batch whose ids are already recorded is a no-op when the whole batch sits, in order, at the place this append
 * would have put it (KurrentDB's idempotent write). Anything else is a conflict, never a duplicate.
 */
function idempotentReplay(streamId: string, head: StreamHead, expected: ExpectedState, ids: string[], existing: Map<string, ExistingEvent>): AppendPlan {
  const first = existing.get(ids[0]!);
  const placed = ids.map((id) => existing.get(id));
  const contiguous = first !== undefined && placed.every((e, i) => e !== undefined && e.streamId === streamId && e.revision === first.revision + BigInt(i));
  const expectedStart = typeof expected === 'bigint' ? expected + 1n : expected === 'no_stream' ? 0n : first?.revision;
  if (contiguous && first.revision === expectedStart) {
    const last = placed[placed.length - 1]!;
    return { kind: 'noop', result: { nextExpectedRevision: last.revision, position: last.position } };
  }
  const clash = ids.find((id) => existing.has(id))!;
  const where = existing.get(clash)!;
  if (!contiguous && where.streamId === streamId && placed.some((e) => e === undefined)) {
    // Part of the batch is recorded and part is not: re-sending it would write half an append twice.
    throw new DuplicateEventIdError(clash, streamId, `at revision ${where.revision} while other events of the batch are not`, { streamId, revision: where.revision });
  }
  if (where.streamId !== streamId) throw new DuplicateEventIdError(clash, streamId, `in stream "${where.streamId}" at revision ${where.revision}`, { streamId: where.streamId, revision: where.revision });
  throw new WrongExpectedVersionError(streamId, expected, head.lastRevision >= 0n ? head.lastRevision : 'no_stream');
}
