import { hash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.ts';
import type { AppendMetadata, RecordedMetadata } from './envelope.ts';

/** The `prevHash` of a stream's first event (revision 0): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

export interface HashableEvent {
  type: string;
  data: unknown;
  metadata: Omit<RecordedMetadata, 'hash'> & { hash?: string };
}

/**
 * `hash = sha256_hex(canonicalJson({ type, data, metadata without hash }) + prevHash)`, over the event as
 * stored (its recorded schema version, before any upcast). UTF-8 bytes; lower-case hex.
 */
export function computeEventHash(event: HashableEvent): string {
  const { hash: _ignored, ...metadata } = event.metadata;
  return hash('sha256', canonicalJson({ type: event.type, data: event.data, metadata }) + metadata.prevHash, 'hex');
}

/**
 * Adds `prevHash` and `hash` to one event that follows `prevHash` in its stream, and returns the canonical JSON
 * texts a store keeps, so a reader can check the hash over the stored bytes without re-serialising them.
 */
export function sealEvent(
  event: { type: string; data: unknown; metadata: AppendMetadata & { schemaVersion: number } },
  prevHash: string,
): { metadata: RecordedMetadata; dataJson: string; metadataJson: string } {
  const unsealed = { ...event.metadata, prevHash };
  const dataJson = canonicalJson(event.data);
  const unsealedJson = canonicalEnvelope(unsealed) ?? canonicalJson(unsealed);
  const hash = hashOfCanonicalParts(event.type, dataJson, unsealedJson, prevHash);
  const metadata = { ...unsealed, hash };
  return { metadata, dataJson, metadataJson: withHashMember(unsealedJson, hash) ?? canonicalJson(metadata) };
}

/** The unsealed envelope's members in canonical (sorted) order: every append writes exactly these. */
const ENVELOPE_MEMBERS = ['actorId', 'actorKind', 'causationId', 'correlationId', 'machineVersion', 'prevHash', 'recordedAt', 'schemaVersion', 'sessionId'] as const;

/**
 * `canonicalJson` of an envelope of exactly those members (strings, a null cause, a finite version), written
 * directly: the general path copies each object whose keys are out of order, for every event appended. Anything
 * else returns undefined and goes the general way.
 */
function canonicalEnvelope(metadata: Record<string, unknown>): string | undefined {
  let count = 0;
  for (const _key in metadata) count++;
  if (count !== ENVELOPE_MEMBERS.length) return undefined;
  let text = '{';
  for (const name of ENVELOPE_MEMBERS) {
    if (!Object.hasOwn(metadata, name)) return undefined;
    const value = metadata[name];
    const ok = typeof value === 'string' || (value === null && name === 'causationId') || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) return undefined;
    text += `${text.length === 1 ? '' : ','}"${name}":${JSON.stringify(value)}`;
  }
  return `${text}}`;
}

/**
 * The sealed metadata's canonical text from the unsealed one: `hash` sorts between `correlationId` and
 * `machineVersion` (the envelope's keys are fixed), so it is spliced in there rather than serialised again. A
 * quote inside a JSON string is escaped, so `,"machineVersion":` can only be that member's start.
 */
function withHashMember(unsealedJson: string, hash: string): string | undefined {
  const at = unsealedJson.indexOf(',"machineVersion":');
  if (at < 0 || !unsealedJson.includes('"correlationId":')) return undefined;
  return `${unsealedJson.slice(0, at)},"hash":"${hash}"${unsealedJson.slice(at)}`;
}

/** The hash from canonical texts: keys sort as data < metadata < type, so this is canonicalJson of the whole. */
export function hashOfCanonicalParts(type: string, dataJson: string, metadataJsonWithoutHash: string, prevHash: string): string {
  return hash('sha256', `{"data":${dataJson},"metadata":${metadataJsonWithoutHash},"type":${JSON.stringify(type)}}${prevHash}`, 'hex');
}

/** `"hash":"…"` never opens canonical metadata (`actorId` sorts first), and cannot occur inside a JSON string. */
const HASH_MEMBER = ',"hash":"';

/**
 * Checks a stored event's hash over its stored texts. True means verified; false means the texts are not in
 * canonical form or do not match, and the caller must decide by re-serialising (`computeEventHash`). The hash
 * member is found by its opening (a quote inside a JSON string is escaped, so the first one is the member) and must
 * hold `expected` itself; a search, not a regular expression, because this runs for every event read.
 */
export function storedTextMatchesHash(type: string, dataJson: string, metadataJson: string, prevHash: string, expected: string): boolean {
  const at = metadataJson.indexOf(HASH_MEMBER);
  const end = at + HASH_MEMBER.length + 64;
  if (at < 0 || expected.length !== 64 || metadataJson.charCodeAt(end) !== 34 || !metadataJson.startsWith(expected, at + HASH_MEMBER.length)) return false;
  const withoutHash = metadataJson.slice(0, at) + metadataJson.slice(end + 1);
  return hashOfCanonicalParts(type, dataJson, withoutHash, prevHash) === expected;
}

const PREV_HASH_MEMBER = '"prevHash":"';

/**
 * `storedTextMatchesHash` with `hash` and `prevHash` read from the metadata text itself, at their members' first
 * occurrences: for a reader that has not parsed the envelope (the store's read-ahead thread). In canonical text
 * without a backslash those occurrences are the members themselves (a quote inside a JSON string is escaped), so
 * there it is exactly the check `decodeRecord` makes on the parsed envelope; a caller trusts it only there.
 */
export function storedTextVerifiesItself(type: string, dataJson: string, metadataJson: string): boolean {
  const at = metadataJson.indexOf(HASH_MEMBER);
  const prevAt = metadataJson.indexOf(PREV_HASH_MEMBER);
  if (at < 0 || prevAt < 0) return false;
  const expected = metadataJson.slice(at + HASH_MEMBER.length, at + HASH_MEMBER.length + 64);
  const prevHash = metadataJson.slice(prevAt + PREV_HASH_MEMBER.length, prevAt + PREV_HASH_MEMBER.length + 64);
  return storedTextMatchesHash(type, dataJson, metadataJson, prevHash, expected);
}

export type ChainBreak = {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  reason: 'hash-mismatch' | 'broken-link' | 'not-genesis' | 'revision-gap';
  expected: string;
  actual: string;
  message: string;
};

export interface ChainLink {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  type: string;
  data: unknown;
  metadata: RecordedMetadata;
}

/**
 * Follows several streams' chains at once. For each event it checks the event's own hash and, when the
 * previous event of the same stream was seen, that this event links to it (which is what exposes a deleted,
 * inserted or reordered event). A stream seen from revision 0 must start at the genesis hash; one seen from
 * later (a truncated stream, a read from the middle) starts trusting the first event's `prevHash`.
 */
export class ChainFollower {
  private readonly heads = new Map<string, { revision: bigint; hash: string }>();
  private readonly recomputeHashes: boolean;

  /** `recomputeHashes: false` when the caller has already checked each event's own hash (a store read has). */
  constructor(options: { recomputeHashes?: boolean } = {}) {
    this.recomputeHashes = options.recomputeHashes ?? true;
  }

  check(event: ChainLink): ChainBreak | undefined {
    const where = { streamId: event.streamId, revision: event.revision, position: event.position, eventId: event.eventId };
    const recomputed = this.recomputeHashes ? computeEventHash(event) : event.metadata.hash;
    if (recomputed !== event.metadata.hash) {
      return { ...where, reason: 'hash-mismatch', expected: recomputed, actual: event.metadata.hash,
        message: `${describe(event)}: its content does not match its hash (edited after it was written)` };
    }
    const head = this.heads.get(event.streamId);
    this.heads.set(event.streamId, { revision: event.revision, hash: event.metadata.hash });
    if (head === undefined) {
      if (event.revision === 0n && event.metadata.prevHash !== GENESIS_HASH) {
        return { ...where, reason: 'not-genesis', expected: GENESIS_HASH, actual: event.metadata.prevHash,
          message: `${describe(event)}: the first event of a stream must link to the genesis hash` };
      }
      return undefined;
    }
    if (event.revision !== head.revision + 1n) {
      return { ...where, reason: 'revision-gap', expected: String(head.revision + 1n), actual: String(event.revision),
        message: `${describe(event)}: follows revision ${head.revision}; revision ${head.revision + 1n} is missing or out of order` };
    }
    if (event.metadata.prevHash !== head.hash) {
      return { ...where, reason: 'broken-link', expected: head.hash, actual: event.metadata.prevHash,
        message: `${describe(event)}: does not link to revision ${head.revision} (an event was deleted, inserted or reordered)` };
    }
    return undefined;
  }
}

function describe(event: ChainLink): string {
  return `stream "${event.streamId}" revision ${event.revision} (position ${event.position}, ${event.type})`;
}

/** Verifies the chains of every stream in `events`, which must be each stream's events in revision order. */
export function verifyChain(events: Iterable<ChainLink>): { ok: true; checked: number } | ({ ok: false; checked: number } & ChainBreak) {
  const follower = new ChainFollower();
  let checked = 0;
  for (const event of events) {
    const broken = follower.check(event);
    if (broken) return { ok: false, checked, ...broken };
    checked++;
  }
  return { ok: true, checked };
}
