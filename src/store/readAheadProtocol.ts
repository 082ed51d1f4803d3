/** Messages between `ReadAhead` and its thread (`readAheadWorker.ts`). */

/** An events row as the thread reads it: position, revision, event id, type, data text, metadata text. */
export type ReadAheadRow = [position: bigint, revision: bigint, eventId: string, type: string, data: string, metadata: string];

export type ReadAheadRequest =
  | { kind: 'open'; read: number; streamIds: readonly string[] }
  /** Send the next chunk of this read, of at most `rows` rows. */
  | { kind: 'more'; read: number; rows: number }
  /** The reader stopped early: release the read's connection. */
  | { kind: 'end'; read: number };

/** Consecutive rows of one stream; `last` when the stream ends with them (a stream may span chunks). */
export interface ReadAheadSegment {
  streamId: string;
  rows: ReadAheadRow[];
  /** Per row: its hash verified over its stored texts (see `hashChecked` in the thread). */
  hashChecked: boolean[];
  last: boolean;
}

export type ReadAheadChunk =
  | { read: number; segments: ReadAheadSegment[]; done: boolean }
  | { read: number; error: string };
