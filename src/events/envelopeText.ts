import { recordedMetadataSchema, type RecordedMetadata } from './envelope.ts';

/**
 * Reads a sealed envelope as the SQLite and memory stores keep it: the canonical JSON `sealEvent` writes, members in
 * sorted order. Every event read goes through here, and this one pass both parses and validates the envelope, where
 * `JSON.parse` and then a check would each walk it; it also hands back the text without its `hash` member, which is
 * what the event's own hash covers, so the reader need not re-serialise anything to verify it.
 *
 * Anything that is not exactly that form (a member out of order or missing, an escape sequence, a control character,
 * a value zod would refuse) returns undefined, and the caller takes the general way (`JSON.parse` and zod), which
 * either accepts the record or says exactly what is wrong with it. So this is never laxer than the schema, with one
 * duty left to the caller: `hash` is not checked to be 64 hex digits here, because the caller compares it with the
 * hash it computes, which is, and must refuse the envelope if they differ.
 */
export interface EnvelopeText {
  metadata: RecordedMetadata;
  /** The stored text minus `,"hash":"…"`: the metadata part of the hashed content. */
  withoutHash: string;
}


// zod's own patterns, so that a value this accepts is one the schema accepts.
const shape = recordedMetadataSchema.shape as unknown as Record<string, { _zod: { def: { pattern?: RegExp; checks?: { _zod: { def: { pattern?: RegExp } } }[] } } }>;
const RECORDED_AT = shape.recordedAt!._zod.def.pattern!;
const ACTOR_KIND = shape.actorKind!._zod.def.checks![0]!._zod.def.pattern!;
/** Actor kinds are a handful of words; each is tested against the pattern once. */
const knownKinds = new Set<string>();

function isActorKind(value: string): boolean {
  if (knownKinds.has(value)) return true;
  if (!ACTOR_KIND.test(value)) return false;
  knownKinds.add(value);
  return true;
}

function isRecordedAt(value: string): boolean {
  RECORDED_AT.lastIndex = 0;
  return RECORDED_AT.test(value);
}

const METADATA_KEYS = new Set(['actorId', 'actorKind', 'sessionId', 'correlationId', 'causationId', 'recordedAt', 'schemaVersion', 'machineVersion', 'prevHash', 'hash']);

/**
 * The same rules as `recordedMetadataSchema`, for an envelope already parsed (not in canonical form, or not text at
 * all, as KurrentDB hands it over); anything it refuses goes to zod, which explains the refusal.
 */
export function looksLikeRecordedMetadata(value: unknown): value is RecordedMetadata {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  for (const key in m) if (!METADATA_KEYS.has(key)) return false;
  const text = (v: unknown) => typeof v === 'string' && v.length > 0;
  return text(m.actorId) && typeof m.actorKind === 'string' && isActorKind(m.actorKind) && text(m.sessionId)
    && text(m.correlationId) && (m.causationId === null || text(m.causationId)) && typeof m.recordedAt === 'string'
    && isRecordedAt(m.recordedAt) && Number.isInteger(m.schemaVersion) && (m.schemaVersion as number) > 0 && text(m.machineVersion)
    && isSha256Hex(m.prevHash) && isSha256Hex(m.hash);
}

export function readEnvelopeText(text: string): EnvelopeText | undefined {
  // With no backslash there are no escapes, so each string ends at the next quote.
  if (text.indexOf('\\') >= 0) return undefined;
  // Each step finds the end of one member's value (-1 from the first failure on); values are sliced once all are found.
  const actorIdEnd = stringEnd(text, '{"actorId":', 0);
  const actorKindEnd = stringEnd(text, ',"actorKind":', actorIdEnd);
  const causationNull = actorKindEnd > 0 && text.startsWith(',"causationId":null', actorKindEnd);
  const causationEnd = causationNull ? actorKindEnd + 19 : stringEnd(text, ',"causationId":', actorKindEnd);
  const correlationEnd = stringEnd(text, ',"correlationId":', causationEnd);
  const hashEnd = stringEnd(text, ',"hash":', correlationEnd);
  const machineEnd = stringEnd(text, ',"machineVersion":', hashEnd);
  const prevHashEnd = stringEnd(text, ',"prevHash":', machineEnd);
  const recordedAtEnd = stringEnd(text, ',"recordedAt":', prevHashEnd);
  const versionEnd = integerEnd(text, ',"schemaVersion":', recordedAtEnd);
  const sessionEnd = stringEnd(text, ',"sessionId":', versionEnd);
  if (sessionEnd < 0 || sessionEnd !== text.length - 1 || text.charCodeAt(sessionEnd) !== 125 /* } */) return undefined;
  const actorId = valueBefore(text, '{"actorId":', 0, actorIdEnd);
  const actorKind = valueBefore(text, ',"actorKind":', actorIdEnd, actorKindEnd);
  const causationId = causationNull ? null : valueBefore(text, ',"causationId":', actorKindEnd, causationEnd);
  const correlationId = valueBefore(text, ',"correlationId":', causationEnd, correlationEnd);
  const hash = valueBefore(text, ',"hash":', correlationEnd, hashEnd);
  const machineVersion = valueBefore(text, ',"machineVersion":', hashEnd, machineEnd);
  const prevHash = valueBefore(text, ',"prevHash":', machineEnd, prevHashEnd);
  const recordedAt = valueBefore(text, ',"recordedAt":', prevHashEnd, recordedAtEnd);
  const schemaVersion = Number(text.slice(recordedAtEnd + 17, versionEnd));
  const sessionId = valueBefore(text, ',"sessionId":', versionEnd, sessionEnd);
  if (actorId === '' || correlationId === '' || sessionId === '' || machineVersion === '' || causationId === '') return undefined;
  if (hash.length !== 64 || !isSha256Hex(prevHash) || schemaVersion < 1) return undefined;
  // JSON refuses a raw control character in a string; the members with a fixed form above cannot hold one.
  if (!plainText(actorId, 0) || !plainText(sessionId, 1) || !plainText(machineVersion, 2) || !plainText(correlationId, 3)
    || (causationId !== null && !plainText(causationId, 4))) return undefined;
  if (!isActorKind(actorKind) || !isRecordedAt(recordedAt)) return undefined;
  return {
    metadata: { actorId, actorKind, causationId, correlationId, hash, machineVersion, prevHash, recordedAt, schemaVersion, sessionId },
    // `,"hash":"…"` spans from the end of correlationId's value to the end of its own.
    withoutHash: text.slice(0, correlationEnd) + text.slice(hashEnd),
  };
}

/** Where `<name>"<string>"` starting at `at` ends (just past its closing quote), or -1. */
function stringEnd(text: string, name: string, at: number): number {
  if (at < 0 || !text.startsWith(name, at)) return -1;
  const open = at + name.length;
  if (text.charCodeAt(open) !== 34 /* " */) return -1;
  const close = text.indexOf('"', open + 1);
  return close < 0 ? -1 : close + 1;
}

/** The string value of the member `name` that starts at `at` and ends at `end`. */
function valueBefore(text: string, name: string, at: number, end: number): string {
  return text.slice(at + name.length + 1, end - 1);
}

/** Where `<name><digits>` ends: a positive integer as canonical JSON writes one (no sign, leading zero, fraction or exponent). */
function integerEnd(text: string, name: string, at: number): number {
  if (at < 0 || !text.startsWith(name, at)) return -1;
  const start = at + name.length;
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end++;
  }
  return end === start || end - start > 15 || text.charCodeAt(start) === 48 ? -1 : end;
}

/**
 * The last value of each free-form member found free of control characters: the events of one stream repeat their
 * actor, session, machine version and (within a turn) correlation, so most reads check a member by one comparison.
 */
const lastPlain = ['', '', '', '', ''];

function plainText(value: string, member: number): boolean {
  if (value === lastPlain[member]) return true;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 32) return false;
  lastPlain[member] = value;
  return true;
}

/** 1 for the code units of lower-case hex digits. A table and no early exit: branching per digit cost three times more. */
const HEX_DIGIT = new Uint8Array(65536);
for (const digit of '0123456789abcdef') HEX_DIGIT[digit.charCodeAt(0)] = 1;

/** `/^[0-9a-f]{64}$/`, written out: it runs for every event read, and the regular expression cost more. */
export function isSha256Hex(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 64) return false;
  let digits = 0;
  for (let i = 0; i < 64; i++) digits += HEX_DIGIT[value.charCodeAt(i)]!;
  return digits === 64;
}
