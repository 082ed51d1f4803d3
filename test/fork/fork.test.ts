import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { forkCommand } from '../../src/cli/commands/forkCommand.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import { verifyCommand } from '../../src/cli/commands/verifyCommand.ts';
import { UsageError } from '../../src/cli/usageError.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { summaryAt } from '../../src/dashboard/summaryQuery.ts';
import { sessionListing, storeListing } from '../../src/runtime/climateListings.ts';
import { LEARNING_INPUTS, forkedHistoryEnds } from '../../src/runtime/forkSession.ts';
import { derivedId } from '../../src/runtime/ids.ts';
import { resumeUnfinishedSessions } from '../../src/runtime/resumeSessions.ts';
import { readSessionEvents, sessionStream } from '../../src/runtime/sessionStreams.ts';
import { sessionStateAt, storeStateAt } from '../../src/runtime/stateAt.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';
import { capturingIo, recordSession, scratch } from './forkSupport.ts';

const files = scratch();
const SOURCE = 'src1';
const FORK = 'whatif1';
let db: { path: string; uri: string };
let source: RecordedEvent[];
let forked: RecordedEvent[];
let report: { sessionId: string; atPosition: string; atTime: string; events: number; extended: number; sessionState: unknown };
/** The position asked for: the first model request of the council turn, in the middle of the write that made it. */
let asked: bigint;

async function withStore<T>(work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = new SqliteEventStore(db.path);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function fork(...args: string[]) {
  const { io, out, warn } = capturingIo();
  const code = await forkCommand([...args, '--store', db.uri], io);
  return { code, out: out.join('\n'), warn: warn.join('\n') };
}

/**
 * The renaming a fork promises, written independently of the implementation: stream names and `sessionId`s of the
 * source, and the source's event ids (request, timer and message ids are event ids) wherever they occur.
 */
function renamed(value: unknown, ids: ReadonlyMap<string, string>, key?: string): unknown {
  if (typeof value === 'string') {
    if (key === 'sessionId' && value === SOURCE) return FORK;
    // A stream name, or a ledger account named after one (`quota:agent-src1.express.0`).
    const stream = /^((?:[a-z]+:)?[a-z]+)-src1(\..+)?$/.exec(value);
    if (stream) return `${stream[1]}-${FORK}${stream[2] ?? ''}`;
    return value.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => ids.get(id) ?? id);
  }
  if (Array.isArray(value)) return value.map((v) => renamed(v, ids));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [renamed(k, ids), renamed(v, ids, k)]));
  return value;
}

beforeAll(async () => {
  db = files.db();
  await recordSession(db.path, SOURCE);
  source = await withStore((store) => readSessionEvents(store, SOURCE));
  const council = source.findIndex((e) => e.type === 'triage.decided' && (e.data as { decision: { mode: string } }).decision.mode === 'council');
  asked = source.find((e, i) => i > council && e.type === 'model.requested')!.position;
  const result = await fork(SOURCE, '--at', String(asked), '--as', FORK, '--json');
  expect(result.code, result.warn).toBe(0);
  report = JSON.parse(result.out) as typeof report;
  forked = await withStore((store) => readSessionEvents(store, FORK));
});

afterAll(() => files.cleanUp());

describe('fork', () => {
  it('copies the source up to the point, never splitting a write, and ends with session.forked', async () => {
    const at = BigInt(report.atPosition);
    // The asked position is a model request: its timer, its siblings' requests and the ledger's reservations were
    // written in the same append, so the cut moves to that append's end.
    expect(at).toBeGreaterThan(asked);
    expect(report.extended).toBe(source.filter((e) => e.position > asked && e.position <= at).length);
    const copied = source.filter((e) => e.position <= at);
    expect(report.events).toBe(copied.length);
    expect(forked.length).toBe(copied.length + 1);
    const marker = forked.at(-1)!;
    expect(marker.type).toBe('session.forked');
    expect(marker.streamId).toBe(sessionStream(FORK));
    expect(marker.data).toEqual({ fromSession: SOURCE, atPosition: String(at), atTime: copied.at(-1)!.metadata.recordedAt, events: copied.length });
    // Store-wide tallies can tell the copies from new facts: everything of the fork up to its marker.
    expect(await withStore(forkedHistoryEnds)).toEqual(new Map([[FORK, marker.position]]));
    // Every copied model request has its reservation: a fork never holds a request the ledger did not grant.
    const requests = forked.filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
    const reserved = new Set(forked.filter((e) => e.type === 'tokens.reserved').map((e) => (e.data as { requestId: string }).requestId));
    expect(requests.length).toBeGreaterThan(1);
    for (const requestId of requests) expect(reserved.has(requestId)).toBe(true);
  });

  it('renames streams, session ids and every id the session made; keeps times, order and causality', () => {
    const copied = source.filter((e) => e.position <= BigInt(report.atPosition));
    const ids = new Map(copied.map((e, i) => [e.eventId, forked[i]!.eventId]));
    const sourceIds = new Set(source.map((e) => e.eventId));
    for (const [i, original] of copied.entries()) {
      const copy = forked[i]!;
      expect(sourceIds.has(copy.eventId)).toBe(false);
      expect(copy.type).toBe(original.type);
      expect(copy.streamId).toBe(renamed(original.streamId, ids));
      expect(copy.revision).toBe(original.revision);
      // A copied reconciliation leaves out what budget learning reads: the source's turn is not new evidence.
      const originalData = original.type === 'budget.reconciled'
        ? Object.fromEntries(Object.entries(original.data as object).filter(([key]) => !(LEARNING_INPUTS as readonly string[]).includes(key)))
        : original.data;
      expect(copy.data).toEqual(renamed(originalData, ids));
      const { prevHash: _p, hash: _h, ...metadata } = original.metadata;
      expect(copy.metadata).toMatchObject({ ...metadata, actorId: renamed(metadata.actorId, ids), sessionId: FORK, correlationId: FORK, causationId: renamed(metadata.causationId, ids) });
    }
    // Ids derived from others (a delivered message from its `message.sent`) are derived again from the new ones,
    // as the runtime derives them, so a resumed fork recognises what is already delivered.
    const delivered = forked.filter((e) => e.type === 'agent.assigned');
    expect(delivered.length).toBeGreaterThan(0);
    for (const event of delivered) expect(event.eventId).toBe(derivedId(`${event.metadata.causationId}/delivered`));
    expect(JSON.stringify(forked.slice(0, -1).map((e) => [e.streamId, e.data, e.metadata]))).not.toMatch(/"(session|agent|ledger|transition)-src1/);
  });

  it('has its own hash chains, and the whole store verifies', async () => {
    for (const [i, event] of forked.entries()) {
      const previous = forked.slice(0, i).findLast((e) => e.streamId === event.streamId);
      expect(event.metadata.prevHash).toBe(previous?.metadata.hash ?? '0'.repeat(64));
    }
    const { io, out } = capturingIo();
    expect(await verifyCommand(['--store', db.uri], io)).toBe(0);
    expect(out.join('')).toMatch(/^ok:/);
  });

  it('is, as a state, the source at the point with the ids renamed: mid-turn', async () => {
    const at = { position: BigInt(report.atPosition) };
    // Up to its last copied event; `session.forked` after it moves the session's revision and nothing else.
    const [original, copy, now] = await withStore((store) => Promise.all([
      sessionStateAt(store, SOURCE, at), sessionStateAt(store, FORK, { position: forked.at(-2)!.position }), sessionStateAt(store, FORK),
    ]));
    expect(now.actors.map(({ position: _, revision: _r, ...actor }) => actor)).toEqual(copy.actors.map(({ position: _, revision: _r, ...actor }) => actor));
    const copied = source.filter((e) => e.position <= at.position);
    const ids = new Map(copied.map((e, i) => [e.eventId, forked[i]!.eventId]));
    expect(copy.actors.map(({ position: _, ...actor }) => actor)).toEqual(original.actors.map(({ position: _, ...actor }) => renamed(actor, ids)));
    const { position: _a, ...ledger } = copy.ledger;
    const { position: _b, ...expected } = original.ledger;
    expect(ledger).toEqual(renamed(expected, ids));
    expect(report.sessionState).toEqual({ turn: { council: 'deliberating' } });
    expect(copy.actors.find((a) => a.streamId === sessionStream(FORK))!.value).toEqual({ turn: { council: 'deliberating' } });
  });

  it('goes on by itself: resume finishes the cut turn, then it answers a further query; the source is untouched', async () => {
    const store = new SqliteEventStore(db.path);
    const system = simulatedSystem({ store, seed: 'fork-resume' });
    try {
      expect(await resumeUnfinishedSessions(system.runtime)).toEqual([FORK]);
      await system.runUntilAnswered([FORK], 2);
      await system.ask(FORK, query('And what if the seawalls were built first?', 'BD'));
      await system.runUntilAnswered([FORK], 3);
      const session = (await system.runtime.snapshotOf(sessionStream(FORK))).context as SessionContext;
      expect(session.recentOutcomes.map((o) => [o.turn, o.status])).toEqual([[1, 'answered'], [2, 'answered']]);
      const events = await readSessionEvents(store, FORK);
      // The requests cut without an outcome were re-issued (same request ids), and each task was delivered once.
      const pending = forked.filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
      for (const requestId of pending) expect(events.some((e) => e.type === 'model.responded' && e.eventId === derivedId(`${requestId}/outcome`))).toBe(true);
      const tasks = events.filter((e) => e.type === 'task.assigned' && (e.data as { turn: number }).turn === 1);
      expect(new Set(tasks.map((e) => e.streamId)).size).toBe(tasks.length);
      expect(await readSessionEvents(store, SOURCE)).toEqual(source);
      // The whole store's climate accounts the fork's own calls as the fork's listing does, origin and all: the
      // copied history (whose calls count at the source) still says whose turn they belong to.
      const whole = await storeListing(store, await collect(store.readAll()));
      const storeCalls = whole.calls.filter((c) => c.sessionId === FORK);
      const ownCalls = sessionListing(FORK, events).listing.calls;
      expect(storeCalls.length).toBeGreaterThan(0);
      expect(storeCalls.length).toBeLessThan(ownCalls.length);
      for (const call of storeCalls) expect(call).toEqual(ownCalls.find((c) => c.requestId === call.requestId));
      // The dashboard's headline counts the copied calls once too, at the source: its calls are the calls it costs.
      expect((await summaryAt(store, undefined, undefined)).calls).toBe(whole.state.totals.all.calls);
    } finally {
      system.runtime.stop();
      await store.close();
    }
    const { io } = capturingIo();
    expect(await verifyCommand(['--store', db.uri], io)).toBe(0);
  });

  it('of a session whose calls were retried after a backoff, is what its machines ask for: the fork audits clean', async () => {
    const retried = files.db();
    const store = new SqliteEventStore(retried.path);
    const system = simulatedSystem({ store, seed: 'fork-retried' });
    try {
      // Every other call fails with a retryable error: the agent waits its backoff, drawn from the failed request's id.
      await system.start('flaky', { model: 'scripted:latency=20,failRate=0.5,seed=3,failKinds=server', maxAttempts: 4 });
      for (const [turn, text] of ['Which mangroves protect coasts best?', 'And which grow fastest?'].entries()) {
        await system.ask('flaky', query(text, 'BD'));
        await system.runUntilAnswered(['flaky'], turn + 1);
      }
    } finally {
      system.runtime.stop();
    }
    try {
      const backoffs = (await readSessionEvents(store, 'flaky')).filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'retryBackoff');
      expect(backoffs.length).toBeGreaterThan(0);
      const { io, out } = capturingIo();
      expect(await forkCommand(['flaky', '--at', '999999', '--as', 'flakyfork', '--store', retried.uri], io)).toBe(0);
      expect(out.join('\n')).toContain('flakyfork');
      const audit = await auditSession(store, 'flakyfork');
      expect(audit.problems.map((p) => p.message)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('forks at an ISO time, with an id derived from the source and the cut when none is given; the same fork is made once', async () => {
    const answered = source.find((e) => e.type === 'turn.completed')!;
    const first = await fork(SOURCE, '--at', answered.metadata.recordedAt);
    expect(first.code, first.warn).toBe(0);
    expect(first.out).toMatch(/^forked session src1 at \S+ as [0-9a-f]{8}: \d+ events in \d+ streams copied/);
    expect(first.out).toContain('ask it more: chronicle run');
    const again = await fork(SOURCE, '--at', answered.metadata.recordedAt);
    expect(again.code).toBe(1);
    expect(again.warn).toMatch(/session [0-9a-f]{8} already exists: it is this same fork of src1/);
  });

  it('is absent from the store as of any point before it was made, by time as by position, though its copies keep their times', async () => {
    const forkedAt = forked.find((e) => e.type === 'session.forked')!;
    const ids = async (at: Parameters<typeof storeStateAt>[1]) => withStore(async (store) => (await storeStateAt(store, at)).map((s) => s.sessionId));
    // The copied history is stamped with the source's times, all before the fork was made.
    const copiedStart = forked.find((e) => e.type === 'session.started')!;
    expect(copiedStart.metadata.recordedAt < forkedAt.metadata.recordedAt).toBe(true);
    expect(await ids({ time: copiedStart.metadata.recordedAt })).not.toContain(FORK);
    expect(await ids({ position: forkedAt.position - 1n })).not.toContain(FORK);
    expect(await ids({ position: forkedAt.position })).toContain(FORK);
    expect(await ids({ time: forkedAt.metadata.recordedAt })).toContain(FORK);
  });

  it('refuses what it cannot do, writing nothing', async () => {
    const before = await withStore((store) => collect(store.readAll()));
    const early = await fork(SOURCE, '--at', '0', '--as', 'early');
    expect(early.code).toBe(1);
    expect(early.warn).toContain('session src1 has no events at or before position 0');
    const taken = await fork(SOURCE, '--at', String(asked), '--as', FORK);
    expect(taken.code).toBe(1);
    expect(taken.warn).toContain('already exists');
    const self = await fork(SOURCE, '--at', '10', '--as', SOURCE);
    expect(self.code).toBe(1);
    expect(self.warn).toContain('other than its source');
    const unknown = fork('nosuch', '--at', '10');
    await expect(unknown).rejects.toThrow('No session "nosuch"');
    expect(await withStore((store) => collect(store.readAll()))).toEqual(before);
    await expect(fork(SOURCE, '--at', 'yesterday')).rejects.toThrow(UsageError);
    await expect(fork(SOURCE)).rejects.toThrow('--at: required');
    await expect(fork(SOURCE, '--at', '10', '--as', 'bad-id')).rejects.toThrow('--as: letters, digits and _ only');
  });
});
