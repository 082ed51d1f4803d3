import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { inspectCommand } from '../../src/cli/commands/inspectCommand.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { startInspectionServer } from '../../src/inspect/inspectionServer.ts';
import { ActorSystemInspection } from '../../src/inspect/inspectionStream.ts';
import { replayIntoInspection } from '../../src/inspect/recordedInspection.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf, actorKinds } from '../../src/runtime/actorKinds.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { openEventStore } from '../../src/store/openEventStore.ts';
import { connectInspectionClient, ofType, type InspectionClient } from './inspectionClient.ts';
import { recordSessionWithEveryActorKind } from './recordedSession.ts';

const isActorEvent = (e: RecordedEvent) => e.streamId.split('-')[0]! in actorKinds;
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** What the fold gives after each event of each actor stream, keyed by event id. */
function foldedStates(events: RecordedEvent[]): Map<string, unknown> {
  const states = new Map<string, unknown>();
  for (const [streamId, stream] of Map.groupBy(events, (e) => e.streamId)) {
    const kind = actorKindOf(streamId);
    foldActor(kind, stream, (event, snapshot) => states.set(event.eventId, plain(persistedState(kind, snapshot))));
  }
  return states;
}

/** The inspection events after the actor announcements, as (event, snapshot) pairs. */
function steps(received: StatelyInspectionEvent[]) {
  const rest = received.filter((e) => e.type !== '@xstate.actor');
  const pairs: { event: Extract<StatelyInspectionEvent, { type: '@xstate.event' }>; snapshot: Extract<StatelyInspectionEvent, { type: '@xstate.snapshot' }> }[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    expect(rest[i]!.type).toBe('@xstate.event');
    expect(rest[i + 1]!.type).toBe('@xstate.snapshot');
    pairs.push({ event: rest[i] as never, snapshot: rest[i + 1] as never });
  }
  return pairs;
}

describe('chronicle inspect: a recorded session replayed into the Stately inspector', () => {
  let dir: string;
  let storeUri: string;
  let sessionId: string;
  let events: RecordedEvent[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-inspect-'));
    storeUri = `sqlite:${join(dir, 'c.db')}`;
    const store = await openEventStore(storeUri);
    ({ sessionId } = await recordSessionWithEveryActorKind(store));
    events = (await readSessionEvents(store, sessionId)).filter(isActorEvent);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for a viewer, then sends one @xstate.actor per actor stream, and every event in global order with the snapshot the fold gives', async () => {
    const out: string[] = [];
    let client: Promise<InspectionClient> | undefined;
    const code = await inspectCommand([sessionId, '--port', '0', '--speed', 'max', '--store', storeUri], {
      out: (line) => {
        out.push(line);
        const url = /inspection events on (ws:\S+)\)/.exec(line)?.[1];
        if (url) client = connectInspectionClient(url);
      },
      warn: (line) => out.push(line),
    });
    expect(code, out.join('\n')).toBe(0);
    const received = await (await client!).closed;

    const streams = [...new Set(events.map((e) => e.streamId))];
    expect(streams.some((s) => s.startsWith('transition-'))).toBe(true);
    expect(streams.filter((s) => s.startsWith('agent-')).length).toBeGreaterThan(2);
    const actors = ofType(received, '@xstate.actor');
    expect(actors.map((a) => a.sessionId).sort()).toEqual([...streams].sort());
    for (const actor of actors) {
      const kind = actorKindOf(actor.sessionId);
      // The definition is the machine's config, so the inspector can draw it; agents and transitions hang off the session.
      expect(JSON.parse(actor.definition!)).toMatchObject({ id: kind.machine.id, initial: (kind.machine.config as { initial: string }).initial });
      expect(actor.name).toBe(actor.sessionId);
      expect(actor.parentId).toBe(actor.sessionId === `session-${sessionId}` ? undefined : `session-${sessionId}`);
      expect(actor.snapshot).toMatchObject({ status: 'active' });
    }
    // Each actor is announced before its first event is shown.
    for (const stream of streams) {
      expect(received.findIndex((e) => e.type === '@xstate.actor' && e.sessionId === stream))
        .toBeLessThan(received.findIndex((e) => e.type === '@xstate.event' && e.sessionId === stream));
    }

    const pairs = steps(received);
    expect(pairs.map(({ event }) => [event.sessionId, event.event.type])).toEqual(events.map((e) => [e.streamId, e.type]));
    const folded = foldedStates(events);
    const recordedBy = new Map(events.map((e) => [e.eventId, e.streamId]));
    pairs.forEach(({ event, snapshot }, i) => {
      const recorded = events[i]!;
      expect(snapshot.sessionId).toBe(recorded.streamId);
      expect(snapshot.event).toEqual(event.event);
      expect(snapshot.snapshot).toEqual(folded.get(recorded.eventId));
      expect(event.sourceId).toBe(recorded.metadata.causationId === null ? undefined : recordedBy.get(recorded.metadata.causationId));
      expect(event.createdAt).toBe(String(Date.parse(recorded.metadata.recordedAt)));
    });
    // Messages name their sender: the session tasks its agents, the agents answer the session.
    const task = pairs.find(({ event }) => event.sessionId === `agent-${sessionId}.express.0` && event.event.type === 'task.assigned')!;
    expect(task.event.sourceId).toBe(`session-${sessionId}`);
    const answer = pairs.find(({ event }) => event.sessionId === `session-${sessionId}` && event.event.type === 'agent.answered')!;
    expect(answer.event.sourceId).toMatch(new RegExp(`^agent-${sessionId}\\.`));
    expect(pairs[0]!.event.sourceId).toBeUndefined();
    expect(new Set(received.map((e) => e.rootId))).toEqual(new Set([`session-${sessionId}`]));
    expect(out.at(-1)).toMatch(new RegExp(`replayed session ${sessionId} from its start to now: ${events.length} events of ${streams.length} actors, as fast as possible`));
  });

  it('gives up with exit 1 when no viewer connects in time, having replayed nothing', async () => {
    const warnings: string[] = [];
    const code = await inspectCommand([sessionId, '--port', '0', '--wait', '0.2', '--store', storeUri], { out: () => {}, warn: (line) => warnings.push(line) });
    expect(code).toBe(1);
    expect(warnings.join('\n')).toMatch(/no inspector connected to http:\/\/127\.0\.0\.1:\d+\/ within 0\.2 s; nothing was replayed/);
  });

  it('refuses a range with nothing in it before any server starts, also when its ends are a position and a time', async () => {
    const store: EventStore = await openEventStore(storeUri);
    const events = (await collect(store.readAll())).filter((e) => e.metadata.sessionId === sessionId);
    await store.close();
    const [first, last] = [events[0]!, events.at(-1)!];
    // From the last event's position to a time before the first: the ends cannot be compared without the log.
    const before = new Date(Date.parse(first.metadata.recordedAt) - 60_000).toISOString();
    await expect(inspectCommand([sessionId, '--from', String(last.position), '--to', before, '--port', '0', '--store', storeUri], { out: () => {}, warn: () => {} }))
      .rejects.toThrow(new RegExp(`inspect: session ${sessionId} has no event from position ${last.position} to ${before.replace(/[.]/g, '\\.')}; nothing would be replayed`));
    await expect(inspectCommand([sessionId, '--from', String(last.position + 1_000n), '--port', '0', '--store', storeUri], { out: () => {}, warn: () => {} }))
      .rejects.toThrow(/has no event from position \d+ to now/);
  });

  it('--from/--to show the actors as they stood at --from, then only the events in range; pauses follow the recorded gaps, scaled and capped', async () => {
    const store: EventStore = await openEventStore(storeUri);
    const server = await startInspectionServer(0);
    try {
      const client = await connectInspectionClient(server.socketUrl);
      const from = events[Math.floor(events.length / 2)]!;
      const to = events[events.length - 10]!;
      const waits: number[] = [];
      const summary = await replayIntoInspection(store, sessionId, new ActorSystemInspection(server.adapter), { from: { position: from.position }, to: { time: to.metadata.recordedAt } },
        { speed: 4, maxWaitMs: 100, sleep: async (ms) => { waits.push(ms); } });
      await server.close();
      const received = await client.closed;

      const inRange = events.filter((e) => e.position >= from.position && Date.parse(e.metadata.recordedAt) <= Date.parse(to.metadata.recordedAt));
      expect(summary.events).toBe(inRange.length);
      expect(steps(received).map(({ event }) => event.event.type)).toEqual(inRange.map((e) => e.type));
      // The actors that existed before --from are announced with their state as of it (not their initial state).
      const before = events.filter((e) => e.position < from.position);
      const session = ofType(received, '@xstate.actor').find((a) => a.sessionId === `session-${sessionId}`)!;
      const sessionKind = actorKindOf(`session-${sessionId}`);
      const expected = plain(persistedState(sessionKind, foldActor(sessionKind, before.filter((e) => e.streamId === `session-${sessionId}`))));
      expect(session.snapshot).toEqual(expected);
      const gaps = inRange.slice(1).map((e, i) => Math.min((Date.parse(e.metadata.recordedAt) - Date.parse(inRange[i]!.metadata.recordedAt)) / 4, 100)).filter((ms) => ms > 0);
      expect(waits).toEqual(gaps);
      expect(waits.length).toBeGreaterThan(0);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
