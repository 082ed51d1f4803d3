import { describePlace, type EventPlace } from '../events/eventSchemaError.ts';
import type { ExpectedState } from './eventStore.ts';

/** Errors mirror KurrentDB's so code written against one store behaves the same on another. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  readonly streamId: string;
  readonly expectedState: ExpectedState;
  /** The stream's last revision, or `no_stream`. */
  readonly actualState: bigint | 'no_stream';

  constructor(streamId: string, expectedState: ExpectedState, actualState: bigint | 'no_stream') {
    super(`Append to stream "${streamId}" expected ${String(expectedState)} but the stream is at ${String(actualState)}. ` +
      'Another writer got there first: re-read the stream and decide again.');
    this.streamId = streamId;
    this.expectedState = expectedState;
    this.actualState = actualState;
  }
}

export class StreamNotFoundError extends Error {
  override readonly name = 'StreamNotFoundError';
  readonly streamId: string;
  constructor(streamId: string) {
    super(`Stream "${streamId}" does not exist (it was never written or it was deleted).`);
    this.streamId = streamId;
  }
}

/** The stream was tombstoned (hard-deleted): it can never be read or written again. */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  readonly streamId: string;
  constructor(streamId: string) {
    super(`Stream "${streamId}" is tombstoned: it can never be read or written again.`);
    this.streamId = streamId;
  }
}

/** An event id that already exists somewhere else than the place this append puts it. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  readonly eventId: string;
  /** Where the id is recorded, when the store said: a caller can tell its own fact, already written, from a clash. */
  readonly recorded: { streamId: string; revision: bigint } | undefined;
  constructor(eventId: string, streamId: string, where: string, recorded?: { streamId: string; revision: bigint }) {
    super(`Append to stream "${streamId}": event id ${eventId} is already recorded ${where}. ` +
      'Event ids are idempotency keys: generate a new id for a new event, or re-send the whole original batch at its original place.');
    this.eventId = eventId;
    this.recorded = recorded;
  }
}

export type CorruptionReason = 'invalid-json' | 'invalid-metadata' | 'hash-mismatch' | 'broken-link' | 'missing-event';

/** A stored record that cannot be trusted. Reads stop at it; nothing is skipped silently. */
export class CorruptEventError extends Error {
  override readonly name = 'CorruptEventError';
  readonly place: EventPlace;
  readonly reason: CorruptionReason;
  constructor(place: EventPlace, reason: CorruptionReason, detail: string) {
    super(`Corrupt event at ${describePlace(place)}: ${reason}: ${detail}`);
    this.place = place;
    this.reason = reason;
  }
}

/** Why a store is unavailable, when the adapter can tell: callers may wait (locked) or ask someone to act (the rest). */
export type StoreUnavailableReason = 'locked' | 'read-only' | 'full' | 'io' | 'unopenable';

/** The store cannot be reached or written (file locked, read-only, disk full, server down). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly reason: StoreUnavailableReason | undefined;
  /** The embedded store's file, for a file store. */
  readonly storePath: string | undefined;
  constructor(message: string, options: { cause?: unknown; reason?: StoreUnavailableReason; storePath?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    this.storePath = options.storePath;
  }
}
