import { ChainFollower, computeEventHash, type ChainBreak } from '../events/hashChain.ts';
import { describePlace, type AuditProblem } from './auditProblem.ts';
import type { AuditRecord, SessionLog, StreamRecords } from './sessionLog.ts';

export interface ChainSummary {
  ok: boolean;
  streams: number;
  records: number;
}

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Every stream's hash chain, recomputed from the stored records (`ChainFollower`), plus what a chain alone cannot
 * see: records the store refused or that cannot be decoded, positions that do not rise with revisions, a stream
 * that starts after the first revision its retention keeps, and a head in the store's bookkeeping that is not the
 * last record. A link break is explained by what the record does link to: a record it skips was inserted, a later
 * one means reordering, none means the record it followed was deleted (or edited and re-hashed).
 */
export function chainAudit(log: SessionLog): { summary: ChainSummary; problems: AuditProblem[] } {
  const problems: AuditProblem[] = [];
  let records = 0;
  for (const stream of log.streams.values()) {
    records += stream.records.length;
    problems.push(...streamProblems(stream));
  }
  return { summary: { ok: problems.length === 0, streams: log.streams.size, records }, problems };
}

function streamProblems(stream: StreamRecords): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const problem = (record: Pick<AuditRecord, 'streamId' | 'revision' | 'position' | 'type'>, kind: string, text: string, expected?: unknown, found?: unknown) => {
    const place = { streamId: record.streamId, revision: record.revision, position: record.position, eventType: record.type };
    problems.push({ check: 'chain', kind, ...place, message: `${describePlace(place)}: ${text}`, ...(expected === undefined ? {} : { expected, found }) });
  };
  for (const refused of stream.refusals) {
    problems.push({
      check: 'chain', kind: refused.reason, streamId: stream.streamId, revision: refused.revision, position: refused.position, eventType: null,
      message: `${describePlace({ streamId: stream.streamId, revision: refused.revision, position: refused.position, eventType: null })}: the store refuses it: ${refused.message}`,
    });
  }
  const first = stream.records[0];
  if (first && first.revision > stream.firstReadable) {
    problem(first, 'missing-start', `the stream starts here, but revisions ${stream.firstReadable}–${first.revision - 1n} should be readable (nothing its retention removes): they were deleted`, String(stream.firstReadable), String(first.revision));
  }
  const byHash = new Map<string, AuditRecord>();
  for (const record of stream.records) if (record.stored) byHash.set(record.stored.metadata.hash, record);
  // Hashes are checked apart from links, so an edited record does not also read as a gap: the links then follow the
  // hashes as recorded (which is what the next record was chained to).
  const newLinks = () => new ChainFollower({ recomputeHashes: false });
  let links = newLinks();
  const reordered = new Set<bigint>();
  for (const [i, record] of stream.records.entries()) {
    const previous = stream.records[i - 1];
    if (previous && record.position <= previous.position) {
      // Blame the record out of line with both neighbours: a forged row appended at the end sits before older ones.
      const beforePrevious = stream.records[i - 2];
      const outlier = !beforePrevious || beforePrevious.position < record.position ? previous : record;
      const other = outlier === previous ? record : previous;
      problem(outlier, 'position-order', `is at position ${outlier.position}, out of order with revision ${other.revision} at position ${other.position}: positions must rise with revisions (the record was moved or forged)`, `position ${outlier === previous ? 'before' : 'after'} ${other.position}`, String(outlier.position));
    }
    if (record.unreadable !== undefined) problem(record, 'unreadable', `cannot be read: ${record.unreadable}`);
    if (!record.stored) {
      // Nothing to hash: the unreadable record is the finding, and the chain restarts after it.
      links = newLinks();
      continue;
    }
    if (record.resumed) links = newLinks();
    if (!stream.verifiedByStore) {
      const hash = computeEventHash(record.stored);
      if (hash !== record.stored.metadata.hash) {
        problem(record, 'hash-mismatch', `its content does not match its hash (edited after it was written): it hashes to ${short(hash)}, the record says ${short(record.stored.metadata.hash)}`, hash, record.stored.metadata.hash);
      }
    }
    const broken = links.check(record.stored);
    if (broken) problems.push(explainBreak(broken, record, stream, byHash, reordered));
  }
  const last = stream.records.at(-1);
  const head = stream.head;
  if (head && (!last || last.revision !== head.revision || last.position !== head.position || last.stored?.metadata.hash !== head.hash)) {
    const place = last ? { streamId: stream.streamId, revision: last.revision, position: last.position, eventType: last.type } : { streamId: stream.streamId, revision: null, position: null, eventType: null };
    const missing = !last || head.revision > last.revision ? `; revisions ${(last?.revision ?? -1n) + 1n}–${head.revision} are missing` : '';
    problems.push({
      check: 'chain', kind: 'head-mismatch', ...place,
      message: `${describePlace(place)}: the store's head of the stream is revision ${head.revision} at position ${head.position} (hash ${short(head.hash)}), not the last record${missing}`,
      expected: { revision: String(head.revision), position: String(head.position), hash: head.hash },
      found: last ? { revision: String(last.revision), position: String(last.position), hash: last.stored?.metadata.hash ?? null } : null,
    });
  }
  return problems;
}

function explainBreak(broken: ChainBreak, record: AuditRecord, stream: StreamRecords, byHash: Map<string, AuditRecord>, reordered: Set<bigint>): AuditProblem {
  const at = (r: AuditRecord, kind: string, text: string): AuditProblem => {
    const place = { streamId: r.streamId, revision: r.revision, position: r.position, eventType: r.type };
    return { check: 'chain', kind, ...place, message: `${describePlace(place)}: ${text}`, expected: broken.expected, found: broken.actual };
  };
  switch (broken.reason) {
    case 'hash-mismatch': // links are followed with the recorded hashes, which the caller checks itself
      return at(record, 'hash-mismatch', `its content does not match its hash: it hashes to ${short(broken.expected)}, the record says ${short(broken.actual)}`);
    case 'not-genesis':
      return at(record, 'not-genesis', `the first record of a stream must link to the genesis hash (0…0), but links to ${short(broken.actual)}`);
    case 'revision-gap': {
      const expected = BigInt(broken.expected);
      const gone = record.revision - 1n === expected ? `revision ${expected} is missing` : `revisions ${expected}–${record.revision - 1n} are missing`;
      const text = record.revision > expected ? `${gone}: this record follows revision ${expected - 1n} (records were deleted)` : `follows revision ${expected - 1n}, but has revision ${record.revision}: a duplicate or reordered revision`;
      return { ...at(record, 'revision-gap', text), detail: { expectedRevision: broken.expected } };
    }
    case 'broken-link': {
      const linked = byHash.get(broken.actual);
      const before = record.revision - 1n;
      if (linked && linked.revision > record.revision) {
        reordered.add(record.revision).add(linked.revision);
        return at(record, 'reordered', `links to revision ${linked.revision}, which comes after it: the records were reordered; expected a link to revision ${before} (${short(broken.expected)}), found ${short(broken.actual)}`);
      }
      if (linked && linked.revision < before) {
        const skipped = stream.records.filter((r) => r.revision > linked.revision && r.revision < record.revision);
        const span = linked.revision + 1n === before ? `revision ${before}` : `revisions ${linked.revision + 1n}–${before}`;
        if (skipped.some((r) => reordered.has(r.revision))) {
          reordered.add(record.revision);
          return at(record, 'reordered', `links to revision ${linked.revision}, past ${span}, which was moved: part of the reordering above`);
        }
        // It links past the records between: those were inserted after the chain was written.
        return at(skipped[0] ?? record, 'inserted', `was inserted: revision ${record.revision} links to revision ${linked.revision}, past ${span}; expected a link to ${short(broken.expected)}, found ${short(broken.actual)}`);
      }
      return at(record, 'broken-link', `does not link to revision ${before}: expected ${short(broken.expected)}, found ${short(broken.actual)}, the hash of no record of the stream (the record it followed was deleted, or edited and re-hashed)`);
    }
  }
}
