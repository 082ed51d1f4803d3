import { z } from 'zod';
import { createEventRegistry } from '../events/catalogue.ts';
import { eventIdSchema, recordedMetadataSchema, streamCategory, type EventToAppend, type RecordedEvent } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import { EventSchemaError } from '../events/eventSchemaError.ts';
import { verifyChain } from '../events/hashChain.ts';
import { EMPTY_HEAD, planAppend } from './appendPlan.ts';
import { StreamNotFoundError } from './errors.ts';
import { collect, type EventStore, type StreamAppend } from './eventStore.ts';

/** A file that cannot be imported as it is, or a target that cannot take it. Nothing has been written. */
export class ImportRefusedError extends Error {
  override readonly name = 'ImportRefusedError';
}

const decimal = z.string().regex(/^\d+$/, 'expected a non-negative integer as a decimal string, e.g. "42"');

/** One line of `chronicle events <sessionId> --json`: the event as recorded, with its place in the source store. */
const exportLineSchema = z.strictObject({
  eventId: eventIdSchema,
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  metadata: recordedMetadataSchema,
  streamId: z.string().regex(/^[a-z][a-zA-Z0-9]*-.+$/, 'expected a stream name "<category>-<id>"'),
  revision: decimal,
  position: decimal,
});

export interface ExportedEvent extends RecordedEvent {
  /** 1-based line of the file, for error messages. */
  line: number;
}

const LINE_FORMAT = 'Each line must be one event exactly as `chronicle events <sessionId> --json` prints it, in the order it prints them.';
const MAX_PROBLEMS = 10;

/** Parses and validates every line (blank lines are skipped); refuses the file naming each bad line and field. */
export function parseExportLines(text: string): ExportedEvent[] {
  const events: ExportedEvent[] = [];
  const problems: string[] = [];
  const firstLineOf = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || problems.length >= MAX_PROBLEMS) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      problems.push(`line ${line}: not JSON (${(error as Error).message})`);
      return;
    }
    const parsed = exportLineSchema.safeParse(json);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `line ${line}: ${issue.path.map(String).join('.') || '(the line)'}: ${issue.message}`));
      return;
    }
    const { revision, position, ...event } = parsed.data;
    const previous = events.at(-1);
    if (previous !== undefined && BigInt(position) <= previous.position) {
      problems.push(`line ${line}: position: ${position} is not after line ${previous.line}'s ${previous.position} (lines must be in global order)`);
    }
    const seen = firstLineOf.get(event.eventId);
    if (seen !== undefined) problems.push(`line ${line}: eventId: ${event.eventId} was already used on line ${seen}`);
    firstLineOf.set(event.eventId, line);
    events.push({ ...event, revision: BigInt(revision), position: BigInt(position), line });
  });
  if (problems.length > 0) throw new ImportRefusedError(`${problems.slice(0, MAX_PROBLEMS).join('\n')}\n${LINE_FORMAT} Nothing was written.`);
  return events;
}

/**
 * Checks every stream's hash chain as the file gives it, so an edited, deleted, inserted or reordered line is refused
 * naming its line, stream and revision. Actor and ledger streams must start at their first event: the target seals
 * them from the genesis hash. (A checkpoint stream may start later: retention drops old checkpoints.)
 */
export function verifyExportedChains(events: readonly ExportedEvent[]): void {
  const lineOf = (streamId: string, revision: bigint) => events.find((e) => e.streamId === streamId && e.revision === revision)?.line;
  const result = verifyChain(events);
  if (!result.ok) throw new ImportRefusedError(`line ${lineOf(result.streamId, result.revision)}: ${result.message}. Nothing was written.`);
  const started = new Set<string>();
  for (const event of events) {
    if (started.has(event.streamId)) continue;
    started.add(event.streamId);
    if (event.revision !== 0n && !isCheckpointStream(event.streamId)) {
      throw new ImportRefusedError(`line ${event.line}: stream "${event.streamId}" starts at revision ${event.revision}: every stream must be given from its first event (export the whole session). Nothing was written.`);
    }
  }
}

export function isCheckpointStream(streamId: string): boolean {
  return streamCategory(streamId) === 'checkpoint';
}

/** One event of a copy into a store, in the global order it is to be written. */
export interface PlannedEvent {
  streamId: string;
  event: EventToAppend;
}

/** The event as an append gives it: the store seals `prevHash` and `hash` itself. */
export function unsealed(event: RecordedEvent): EventToAppend {
  const { prevHash: _prevHash, hash: _hash, ...metadata } = event.metadata;
  return { eventId: event.eventId, type: event.type, data: event.data, metadata };
}

/**
 * The hash each planned event will have once written to new streams: the store's own validation and sealing
 * (`planAppend`), run ahead. Throws what the store would throw (`EventSchemaError` naming stream and revision).
 */
export function predictHashes(planned: readonly PlannedEvent[], registry: EventRegistry = createEventRegistry()): string[] {
  const byStream = Map.groupBy(planned.map((p, index) => ({ ...p, index })), (p) => p.streamId);
  const hashes: string[] = new Array<string>(planned.length);
  for (const [streamId, items] of byStream) {
    const plan = planAppend({ streamId, head: EMPTY_HEAD, expectedState: 'no_stream', events: items.map((i) => i.event), registry, findExisting: () => new Map() });
    if (plan.kind !== 'write') throw new Error(`planning stream "${streamId}" from empty gave no write`);
    plan.events.forEach((sealed, i) => { hashes[items[i]!.index] = sealed.metadata.hash; });
  }
  return hashes;
}

/** How much of a copy a store already holds: a prefix (in global order) left by an interrupted run, or a conflict. */
export type CopyProgress = { written: number } | { conflict: string };

/**
 * Compares what the target holds in the copy's streams with the copy. Only an exact prefix of the copy, in global
 * order (what an interrupted run leaves, since it writes in that order), counts as progress; anything else is a
 * conflict. A hash left undefined is not compared (an event whose content differs between runs, such as a time).
 */
export function copyProgress(planned: readonly PlannedEvent[], hashes: readonly (string | undefined)[], existing: ReadonlyMap<string, readonly RecordedEvent[]>): CopyProgress {
  const revisions = new Map<string, number>();
  let firstMissing: PlannedEvent | undefined;
  let written = 0;
  for (const [index, item] of planned.entries()) {
    const revision = revisions.get(item.streamId) ?? 0;
    revisions.set(item.streamId, revision + 1);
    const held = existing.get(item.streamId)?.[revision];
    if (held === undefined) {
      firstMissing ??= item;
      continue;
    }
    const hash = hashes[index];
    if (held.eventId !== item.event.eventId || (hash !== undefined && held.metadata.hash !== hash)) {
      return { conflict: `stream "${item.streamId}" already exists in the store with other events (its revision ${revision} is ${held.type} ${held.eventId})` };
    }
    if (firstMissing !== undefined) {
      return { conflict: `the store holds stream "${item.streamId}" revision ${revision} but not "${firstMissing.streamId}"'s ${firstMissing.event.type} written before it: it is not what an interrupted copy leaves` };
    }
    written++;
  }
  for (const [streamId, events] of existing) {
    const copied = revisions.get(streamId) ?? 0;
    if (events.length > copied) return { conflict: `stream "${streamId}" already exists in the store with ${events.length} events, more than the ${copied} of this copy` };
  }
  return { written };
}

/** Every readable event of the given streams (absent streams are left out). */
export async function readStreams(store: EventStore, streamIds: Iterable<string>): Promise<Map<string, RecordedEvent[]>> {
  const found = new Map<string, RecordedEvent[]>();
  for (const streamId of new Set(streamIds)) {
    try {
      found.set(streamId, await collect(store.readStream(streamId)));
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
  }
  return found;
}

/**
 * Writes events to new streams so that they get positions in exactly the given order: each append takes the
 * longest run in which every stream's events are contiguous (one `appendToStreams`, all-or-nothing), because one
 * append gives its streams positions part by part. A copy written otherwise would fold in another order, and the
 * tiered session state is order-sensitive. Starts after `from` events already written (an interrupted run).
 */
export async function appendInOrder(store: EventStore, planned: readonly PlannedEvent[], from = 0): Promise<{ appends: number; firstPosition: bigint | null; lastPosition: bigint | null }> {
  const lastRevision = new Map<string, bigint>();
  for (const { streamId } of planned.slice(0, from)) lastRevision.set(streamId, (lastRevision.get(streamId) ?? -1n) + 1n);
  let appends = 0;
  let firstPosition: bigint | null = null;
  let lastPosition: bigint | null = null;
  for (const segment of contiguousRuns(planned.slice(from))) {
    const parts: StreamAppend[] = segment.map(({ streamId, events }) => {
      const revision = lastRevision.get(streamId) ?? -1n;
      lastRevision.set(streamId, revision + BigInt(events.length));
      return { streamId, events, expectedState: revision < 0n ? 'no_stream' : revision };
    });
    const results = await store.appendToStreams(parts);
    appends++;
    firstPosition ??= results[0]?.recorded?.[0]?.position ?? null;
    for (const result of results) if (lastPosition === null || result.position > lastPosition) lastPosition = result.position;
  }
  return { appends, firstPosition, lastPosition };
}

function contiguousRuns(events: readonly PlannedEvent[]): { streamId: string; events: EventToAppend[] }[][] {
  const runs: Map<string, EventToAppend[]>[] = [];
  let current = new Map<string, EventToAppend[]>();
  let lastStream: string | undefined;
  for (const { streamId, event } of events) {
    // A stream met again after another one: its next events would get positions before that other stream's.
    if (streamId !== lastStream && current.has(streamId)) {
      runs.push(current);
      current = new Map();
    }
    const part = current.get(streamId);
    if (part) part.push(event);
    else current.set(streamId, [event]);
    lastStream = streamId;
  }
  if (current.size > 0) runs.push(current);
  return runs.map((run) => [...run].map(([streamId, part]) => ({ streamId, events: part })));
}

export interface ImportReport {
  sessions: string[];
  streams: string[];
  /** Events written now. */
  events: number;
  /** Events an earlier, interrupted import of the same file had written. */
  alreadyWritten: number;
  /** Market facts the file carries that the target already held (imported with another session that traded there). */
  sharedHeld: number;
  /** Checkpoint events verified and not written (their positions are the source's). */
  checkpointEvents: number;
  appends: number;
  firstPosition: bigint | null;
  lastPosition: bigint | null;
}

/**
 * Imports an export (JSON lines) into a store: every line validated, every chain verified, the target's seals
 * predicted equal to the file's hashes, the target checked for the streams and event ids — all before the first
 * write. Then each stream's events are appended as recorded (same ids, data, metadata), in the file's global order.
 * Checkpoints are verified and left out: they name the source's positions, which the target does not share.
 */
export async function importEvents(store: EventStore, text: string, registry: EventRegistry = createEventRegistry()): Promise<ImportReport> {
  return importPrepared(store, prepareImport(text, registry));
}

/** An export verified on its own (lines, chains, seals), before any store is opened: what is left to check is the target. */
export interface PreparedImport {
  lines: ExportedEvent[];
  events: ExportedEvent[];
  planned: PlannedEvent[];
}

/** Everything about an import that the file alone decides, so a refused file never touches (or creates) a store. */
export function prepareImport(text: string, registry: EventRegistry = createEventRegistry()): PreparedImport {
  const lines = parseExportLines(text);
  verifyExportedChains(lines);
  const events = lines.filter((e) => !isCheckpointStream(e.streamId));
  if (events.length === 0) throw new ImportRefusedError(`nothing to import: the file holds ${lines.length === 0 ? 'no events' : 'only checkpoints'}. ${LINE_FORMAT}`);
  const planned = events.map((e) => ({ streamId: e.streamId, event: unsealed(e) }));
  checkSeals(events, planned, registry);
  return { lines, events, planned };
}

export async function importPrepared(store: EventStore, { lines, events, planned }: PreparedImport): Promise<ImportReport> {
  const existing = await scanTarget(store, events);
  const tails = sharedTails(events, existing);
  const own = events.flatMap((e, i) => (isSharedStream(e.streamId) ? [] : [{ event: e, planned: planned[i]! }]));
  const ownPlanned = own.map((o) => o.planned);
  const progress = copyProgress(ownPlanned, own.map((o) => o.event.metadata.hash), new Map([...existing].filter(([streamId]) => !isSharedStream(streamId))));
  if ('conflict' in progress) throw new ImportRefusedError(`refused: ${progress.conflict}. A session is imported once, into a store that does not hold it. Nothing was written.`);
  const sharedToWrite = tails.reduce((n, tail) => n + tail.events.length, 0);
  if (progress.written === ownPlanned.length && sharedToWrite === 0) throw new ImportRefusedError('refused: every event of this file is already in the target (it was imported before). Nothing was written.');
  // The market facts first, in one append: each continues its book where the target's ends, and the ledger entries
  // they caused are written after them, as in the source.
  const shared = sharedToWrite === 0 ? [] : await store.appendToStreams(tails.filter((t) => t.events.length > 0).map((t) => ({ streamId: t.streamId, events: t.events.map(unsealed), expectedState: t.held === 0 ? 'no_stream' as const : BigInt(t.held - 1) })));
  const written = await appendInOrder(store, ownPlanned, progress.written);
  const streams = [...new Set(events.map((e) => e.streamId))];
  const sharedPositions = shared.flatMap((result) => result.recorded?.map((e) => e.position) ?? []);
  return {
    sessions: streams.filter((s) => streamCategory(s) === 'session').map((s) => s.slice('session-'.length)),
    streams, events: ownPlanned.length - progress.written + sharedToWrite, alreadyWritten: progress.written, sharedHeld: events.length - own.length - sharedToWrite, checkpointEvents: lines.length - events.length,
    appends: written.appends + (shared.length > 0 ? 1 : 0),
    firstPosition: sharedPositions[0] ?? written.firstPosition,
    lastPosition: written.lastPosition ?? sharedPositions.at(-1) ?? null,
  };
}

/** Streams several exports may carry: a market's book, shared by every session that traded on it. */
function isSharedStream(streamId: string): boolean {
  return streamCategory(streamId) === 'market';
}

/**
 * Of each shared stream in the file, what the target lacks: what it already holds must be the file's first events
 * (same ids, same hashes: the same book), and the file's events after those are to be written. A target holding
 * more of the book (another trading session imported first) is no conflict.
 */
function sharedTails(events: readonly ExportedEvent[], existing: ReadonlyMap<string, readonly RecordedEvent[]>): { streamId: string; held: number; events: ExportedEvent[] }[] {
  const byStream = Map.groupBy(events.filter((e) => isSharedStream(e.streamId)), (e) => e.streamId);
  return [...byStream].map(([streamId, copy]) => {
    const held = existing.get(streamId) ?? [];
    for (let i = 0; i < Math.min(held.length, copy.length); i++) {
      if (held[i]!.eventId !== copy[i]!.eventId || held[i]!.metadata.hash !== copy[i]!.metadata.hash) {
        throw new ImportRefusedError(`line ${copy[i]!.line}: refused: stream "${streamId}" is in the target with another history (its revision ${i} is ${held[i]!.type} ${held[i]!.eventId}, the file's ${copy[i]!.type} ${copy[i]!.eventId}): the session traded on another market. Nothing was written.`);
      }
    }
    return { streamId, held: held.length, events: copy.slice(held.length) };
  });
}

/** The target must seal every event exactly as the source did, or the copy would not verify against the file. */
function checkSeals(events: readonly ExportedEvent[], planned: readonly PlannedEvent[], registry: EventRegistry): void {
  let hashes: string[];
  try {
    hashes = predictHashes(planned, registry);
  } catch (error) {
    if (!(error instanceof EventSchemaError)) throw error;
    const line = events.find((e) => e.streamId === error.place.streamId && e.revision === error.place.revision)?.line;
    throw new ImportRefusedError(`line ${line}: ${error.message} Nothing was written.`);
  }
  const differs = events.findIndex((e, i) => e.metadata.hash !== hashes[i]);
  if (differs >= 0) {
    const e = events[differs]!;
    throw new ImportRefusedError(`line ${e.line}: stream "${e.streamId}" revision ${e.revision}: the target would seal it with hash ${hashes[differs]}, not the file's ${e.metadata.hash} ` +
      '(its data is not in the form this build writes, e.g. recorded under an older schema version). Nothing was written.');
  }
}

/**
 * Reads the whole target once: the events it already holds in the file's streams, and any of the file's event ids
 * used elsewhere (ids are unique in a store; finding that out mid-import would leave it half done).
 */
async function scanTarget(store: EventStore, events: readonly ExportedEvent[]): Promise<Map<string, RecordedEvent[]>> {
  const streams = new Set(events.map((e) => e.streamId));
  const lineOf = new Map(events.map((e) => [e.eventId, e.line]));
  const existing = new Map<string, RecordedEvent[]>();
  for await (const event of store.readAll()) {
    if (streams.has(event.streamId)) {
      const held = existing.get(event.streamId);
      if (held) held.push(event);
      else existing.set(event.streamId, [event]);
    } else if (lineOf.has(event.eventId)) {
      throw new ImportRefusedError(`line ${lineOf.get(event.eventId)}: event id ${event.eventId} is already in the target, in stream "${event.streamId}" at revision ${event.revision}; ` +
        'event ids are unique in a store. Nothing was written.');
    }
  }
  return existing;
}
