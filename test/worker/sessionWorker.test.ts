import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { ActorRuntime, SessionFencedError } from '../../src/runtime/actorRuntime.ts';
import { CheckpointedFold } from '../../src/runtime/checkpointedFold.ts';
import { systemClock, type Clock } from '../../src/runtime/clock.ts';
import { randomIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, startSession, submitQuery } from '../../src/runtime/sessionService.ts';
import { readSessionEvents, sessionStream } from '../../src/runtime/sessionStreams.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { SessionWorker, workBoardDefinition, type SessionAssignments } from '../../src/worker/sessionWorker.ts';
import { leaseStream } from '../../src/worker/workerEvents.ts';
import { holderOf, workBoardOf } from '../../src/worker/workBoardReader.ts';
import { emptyWorkBoard, evolveWorkBoard } from '../../projections/workBoard/workBoard.ts';
import { logProblems } from '../support/logInvariants.ts';

const models = modelResolver(systemClock);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const running: SessionWorker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop('test over', 0)));
});

/** A worker in this process with its own runtime, as `chronicle worker` builds one; `clock` drives its heartbeats. */
async function startWorker(store: EventStore, workerId: string, options: { clock?: Clock; leaseTtlMs?: number; assignments?: SessionAssignments } = {}): Promise<{ worker: SessionWorker; log: string[] }> {
  const log: string[] = [];
  let worker: SessionWorker | undefined;
  const runtime = new ActorRuntime({
    store, models,
    onBackgroundFailure: (error, sessionId) => worker?.onSessionFailure(error, sessionId) ?? false,
    fence: (sessionId) => worker?.fenceOf(sessionId),
  });
  const leaseTtlMs = options.leaseTtlMs ?? 800;
  worker = new SessionWorker({ store, runtime, clock: options.clock ?? systemClock, ids: randomIds, workerId, group: 'test', leaseTtlMs, heartbeatMs: leaseTtlMs / 4, graceMs: leaseTtlMs, assignments: options.assignments, log: (line) => log.push(line) });
  await worker.start();
  running.push(worker);
  return { worker, log };
}

/** A client recording sessions for the workers, performing nothing itself. */
async function submit(store: EventStore, sessionId: string, model: string): Promise<void> {
  const client = new ActorRuntime({ store, models, effects: 'record' });
  await startSession(client, sessionId, agentConfigFor({ model, fallbackModel: null }, models));
  await submitQuery(client, sessionId, { text: `Which crops suit a drier season in ${sessionId}?`, region: 'KE', purpose: 'sustainable_agriculture' });
  await client.settled();
}

async function untilAnswered(store: EventStore, count: number, timeoutMs = 15_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await collect(store.readAll({ filter: { streamNamePrefix: 'session-', eventTypePrefix: 'turn.completed' } }));
    if (done.length >= count || Date.now() > deadline) return done;
    await sleep(50);
  }
}

describe('session workers sharing one store', () => {
  it('spread sessions over the live workers, each held by one lease, each answered once', async () => {
    const store = new SqliteEventStore(':memory:');
    const a = await startWorker(store, 'wa');
    const b = await startWorker(store, 'wb');
    const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const id of ids) await submit(store, id, 'scripted:latency=20');
    expect(await untilAnswered(store, ids.length)).toHaveLength(ids.length);
    for (const id of ids) expect(logProblems(await readSessionEvents(store, id), id, 1)).toEqual([]);
    const acquired = await collect(store.readAll({ filter: { streamNamePrefix: 'lease-', eventTypePrefix: 'lease.acquired' } }));
    // Rendezvous placement: both workers got sessions, and no session was claimed twice.
    expect(new Set(acquired.map((e) => e.metadata.sessionId)).size).toBe(ids.length);
    expect(acquired).toHaveLength(ids.length);
    expect(a.worker.sessions.length).toBeGreaterThan(0);
    expect(b.worker.sessions.length).toBeGreaterThan(0);
    expect(a.worker.sessions.length + b.worker.sessions.length).toBe(ids.length);
  });

  it('is still seen holding its sessions once its stream keeps heartbeats alone; its id joins again after it leaves, and not while it runs', async () => {
    const store = new SqliteEventStore(':memory:');
    const first = await startWorker(store, 'wk', { leaseTtlMs: 200 });
    await submit(store, 'held', 'scripted:latency=60000');
    while (first.worker.sessions.length === 0) await sleep(20);
    // The worker stream keeps its newest 20 facts: after ~20 heartbeats `worker.joined` is gone from it.
    while ((await collect(store.readStream('worker-wk')))[0]!.type === 'worker.joined') await sleep(50);
    expect(holderOf(await workBoardOf(store), 'held', Date.now())).toBe('wk');

    await expect(startWorker(store, 'wk', { leaseTtlMs: 200 })).rejects.toThrow(/^worker wk is already running \(pid \d+ on .*, last heard from at .*\); give this one another --id, or stop that one first$/);
    await first.worker.stop('restarting', 0);
    running.splice(running.indexOf(first.worker), 1);
    const again = await startWorker(store, 'wk', { leaseTtlMs: 200 });
    while (again.worker.sessions.length === 0) await sleep(20);
    expect(holderOf(await workBoardOf(store), 'held', Date.now())).toBe('wk');
  });

  it('takes over the sessions of a worker that stopped heartbeating, and that worker can no longer extend them', async () => {
    const store = new SqliteEventStore(':memory:');
    // wa's heartbeats can be stopped while its process goes on: a stalled worker, the case fencing is for.
    let stalled = false;
    const stallable: Clock = { ...systemClock, setTimer: (ms, fire) => systemClock.setTimer(ms, () => { if (!stalled) fire(); }) };
    const a = await startWorker(store, 'wa', { clock: stallable, leaseTtlMs: 600 });
    await submit(store, 'slow', 'scripted:latency=2500');
    while (a.worker.sessions.length === 0) await sleep(20);
    stalled = true;
    const b = await startWorker(store, 'wb', { leaseTtlMs: 600 });
    const [done] = await untilAnswered(store, 1);
    // Answered, by the model call wb re-issued under the same request id, not failed by wa's abandoning it.
    expect((done?.data as { status: string }).status).toBe('answered');
    const events = await readSessionEvents(store, 'slow');
    expect(logProblems(events, 'slow', 1)).toEqual([]);
    expect(b.worker.sessions).toEqual(['slow']);
    expect(a.worker.sessions).toEqual([]);
    expect(a.log.join('\n')).toMatch(/gave up session slow/);
    const leases = await collect(store.readStream(leaseStream('slow')));
    expect(leases.map((e) => [e.type, (e.data as { workerId: string }).workerId])).toEqual([['lease.acquired', 'wa'], ['lease.acquired', 'wb']]);
    expect((leases[1]!.data as { from: string }).from).toBe('wa');
  });

  it('with server assignments (a pinned persistent subscription), claims what it is given, and acknowledges each delivery once the lease is durable', async () => {
    const store = new SqliteEventStore(':memory:');
    // The server's side of the protocol, as the worker sees it: deliveries in, acknowledgements and parks out.
    const acked: { sessionId: string; leased: boolean }[] = [];
    let deliver: (sessionId: string) => void = () => undefined;
    const given = new Set<string>();
    const assignments: SessionAssignments = {
      start: (onAssigned) => { deliver = (sessionId) => { given.add(sessionId); onAssigned(sessionId); }; },
      has: (sessionId) => given.has(sessionId),
      taken: async (sessionId) => { acked.push({ sessionId, leased: (await collect(store.readAll({ filter: { streamNamePrefix: leaseStream(sessionId) } }))).length > 0 }); },
      parked: async () => undefined,
      stop: async () => undefined,
    };
    const a = await startWorker(store, 'wp', { assignments, leaseTtlMs: 60_000 });
    await submit(store, 'p1', 'scripted:latency=5');
    await submit(store, 'p2', 'scripted:latency=5');
    deliver('p1');
    expect(await untilAnswered(store, 1)).toHaveLength(1);
    // Not delivered to this worker: left for the worker it was pinned to, until the grace period (a minute) passes.
    expect(a.worker.sessions).toEqual(['p1']);
    expect(acked).toEqual([{ sessionId: 'p1', leased: true }]);
    // A later delivery of a session this worker already holds is acknowledged at once.
    deliver('p1');
    await sleep(50);
    expect(acked.map((x) => x.sessionId)).toEqual(['p1', 'p1']);
  });

  it('fences: a runtime whose lease revision is stale is refused every write of that session, and records nothing', async () => {
    const store = new SqliteEventStore(':memory:');
    await submit(store, 'f1', 'scripted:latency=0');
    const before = (await collect(store.readAll())).length;
    await store.appendToStream(leaseStream('f1'), [leaseFact('f1', 'wx')], { expectedState: 'no_stream' });
    await store.appendToStream(leaseStream('f1'), [leaseFact('f1', 'wy')], { expectedState: 0n });
    // The runtime still believes it holds the lease at revision 0; another worker acquired it at revision 1.
    const runtime = new ActorRuntime({ store, models, fence: () => ({ streamId: leaseStream('f1'), expectedState: 0n }) });
    await expect(runtime.deliver(sessionStream('f1'), { type: 'session.closed', data: { reason: 'test' }, causationId: null })).rejects.toBeInstanceOf(SessionFencedError);
    expect((await collect(store.readAll())).length).toBe(before + 2);
  });

  it('parks a poison session with its reason, goes on with the others, and takes it again once unparked', async () => {
    const store = new SqliteEventStore(':memory:');
    await submit(store, 'good', 'scripted:latency=10');
    // A session recorded by another build's session machine: this worker cannot run it, and retrying will not help.
    const config = agentConfigFor({ model: 'scripted', fallbackModel: null }, models);
    const alien = (type: string, data: unknown) => ({
      eventId: randomIds.next(), type, data,
      metadata: { actorId: sessionStream('alien'), actorKind: 'session', sessionId: 'alien', correlationId: 'alien', causationId: null, recordedAt: new Date().toISOString(), machineVersion: 'session@other-build' },
    });
    await store.appendToStream(sessionStream('alien'), [alien('session.started', { sessionId: 'alien', agent: config, budgetTokens: 20_000 }), alien('query.received', { text: 'Anyone?', region: 'KE', purpose: 'sustainable_agriculture' })], { expectedState: 'no_stream' });
    const moved = store;
    const a = await startWorker(moved, 'wa');
    expect(await untilAnswered(moved, 1)).toHaveLength(1);
    const deadline = Date.now() + 5_000;
    while (!a.worker.workBoard.leases.alien?.parked && Date.now() < deadline) await sleep(20);
    expect(a.worker.workBoard.leases.alien?.parked).toMatch(/session@other-build/);
    expect(logProblems(await readSessionEvents(moved, 'good'), 'good', 1)).toEqual([]);
  });

  it('checkpoints the work board; a reader loads the checkpoint and folds only the tail, to the same board as a full fold', async () => {
    const store = new SqliteEventStore(':memory:');
    const a = await startWorker(store, 'wa');
    for (const id of ['c1', 'c2', 'c3']) await submit(store, id, 'scripted:latency=5');
    await untilAnswered(store, 3);
    const fold = await CheckpointedFold.load(store, workBoardDefinition);
    expect(await fold.checkpoint({ ids: randomIds, recordedAt: new Date().toISOString() })).toBe(true);
    await submit(store, 'c4', 'scripted:latency=5');
    await untilAnswered(store, 4);
    await a.worker.stop('test over', 1_000);
    running.splice(0);
    const loaded = await CheckpointedFold.load(store, workBoardDefinition);
    const full = (await collect(store.readAll({ filter: workBoardDefinition.filter }))).reduce(evolveWorkBoard, emptyWorkBoard());
    expect(loaded.state).toEqual(full);
    // Only the events after the checkpoint were read: the checkpoint's count plus the tail equals the whole.
    expect(loaded.events).toBe((await collect(store.readAll({ filter: workBoardDefinition.filter }))).length);
    expect(loaded.state.sessions.c4).toEqual({ received: 1, completed: 1, handoffs: 0, closed: false });
    expect(loaded.state.workers.wa?.left).not.toBeNull();
  });
});

function leaseFact(sessionId: string, workerId: string) {
  return {
    eventId: randomIds.next(), type: 'lease.acquired', data: { sessionId, workerId, group: 'test', from: null, reason: 'test' },
    metadata: { actorId: leaseStream(sessionId), actorKind: 'lease', sessionId, correlationId: sessionId, causationId: null, recordedAt: new Date().toISOString(), machineVersion: 'lease@1' },
  };
}
