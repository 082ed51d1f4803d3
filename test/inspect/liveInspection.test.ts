import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { startLiveInspection } from '../../src/inspect/liveInspection.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf, actorKinds } from '../../src/runtime/actorKinds.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { askInSession } from '../../src/runtime/sessionService.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { openEventStore } from '../../src/store/openEventStore.ts';
import { query } from '../support/simulatedSystem.ts';
import { connectInspectionClient, ofType, type InspectionClient } from './inspectionClient.ts';
import { recordSessionWithEveryActorKind } from './recordedSession.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** Per actor stream, what the inspector was shown live: event types in order, and the last snapshot. */
function shownPerStream(received: StatelyInspectionEvent[]) {
  const shown = new Map<string, { types: string[]; last: unknown }>();
  for (const e of received) {
    if (e.type === '@xstate.actor') continue;
    const entry = shown.get(e.sessionId) ?? { types: [], last: undefined };
    shown.set(e.sessionId, entry);
    if (e.type === '@xstate.event') entry.types.push(e.event.type);
    else entry.last = e.snapshot;
  }
  return shown;
}

/** Every actor stream of the session was announced once, shown event by event in its order, ending in the fold's state. */
function expectShownAsRecorded(received: StatelyInspectionEvent[], events: RecordedEvent[]): void {
  const streams = Map.groupBy(events.filter((e) => e.streamId.split('-')[0]! in actorKinds), (e) => e.streamId);
  expect(ofType(received, '@xstate.actor').map((a) => a.sessionId).sort()).toEqual([...streams.keys()].sort());
  const shown = shownPerStream(received);
  for (const [streamId, stream] of streams) {
    const kind = actorKindOf(streamId);
    expect(shown.get(streamId)?.types, streamId).toEqual(stream.map((e) => e.type));
    expect(shown.get(streamId)?.last, streamId).toEqual(plain(persistedState(kind, foldActor(kind, stream))));
  }
}

describe('live inspection: a running actor system streamed to the Stately inspector', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'chronicle-live-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('chronicle run --inspect prints the inspector URL, waits for a viewer and streams the session and its agents as they step', async () => {
    const storeUri = `sqlite:${join(dir, 'run.db')}`;
    const child = spawn(process.execPath, [main, 'run', 'Which mangroves protect coasts best?', '--region', 'KE', '--purpose', 'climate_adaptation', '--json', '--inspect', '--inspect-port', '0', '--store', storeUri],
      { cwd: dir, env: { ...process.env, CHRONICLE_STORE: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += String(chunk); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const client = await new Promise<InspectionClient>((resolve, reject) => {
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk);
        const url = /Stately inspector: open http:\/\/127\.0\.0\.1:\d+\/ \(inspection events on (ws:\S+)\)/.exec(stderr)?.[1];
        if (url && !stderr.includes('connecting')) {
          stderr += 'connecting';
          connectInspectionClient(url).then(resolve, reject);
        }
      });
      void exited.then(() => reject(new Error(`the run ended before announcing the inspector:\n${stderr}`)));
    });
    expect(await exited, stderr).toBe(0);
    expect(stderr).not.toMatch(/no inspector connected/);
    const received = await client.closed;
    const { sessionId, status } = JSON.parse(stdout) as { sessionId: string; status: string };
    expect(status).toBe('answered');

    const store = await openEventStore(storeUri);
    const events = await readSessionEvents(store, sessionId);
    await store.close();
    expectShownAsRecorded(received, events);
    const agent = `agent-${sessionId}.express.0`;
    const task = ofType(received, '@xstate.event').find((e) => e.sessionId === agent && e.event.type === 'task.assigned')!;
    expect(task.sourceId).toBe(`session-${sessionId}`);
    expect(ofType(received, '@xstate.event').find((e) => e.sessionId === `session-${sessionId}` && e.event.type === 'agent.answered')!.sourceId).toBe(agent);
    const agentActor = ofType(received, '@xstate.actor').find((a) => a.sessionId === agent)!;
    expect(agentActor).toMatchObject({ parentId: `session-${sessionId}`, rootId: `session-${sessionId}`, snapshot: { value: 'unassigned' } });
    expect(JSON.parse(agentActor.definition!)).toMatchObject({ id: 'agent', initial: 'unassigned' });
  });

  it('actors that existed before this process are announced with their folded state, not their initial one', async () => {
    const { store, sessionId } = await recordSessionWithEveryActorKind();
    const before = await readSessionEvents(store, sessionId);
    const live = await startLiveInspection({ store, port: 0, warn: (line) => { throw new Error(line); } });
    const client = await connectInspectionClient(live.server.socketUrl);
    const clock = new SimulatedClock('2026-11-25T09:00:00.000Z');
    const runtime = new ActorRuntime({ store, clock, ids: seededIds('later'), models: modelResolver(clock), checkpointEveryTokens: 0, onStep: live.onStep });
    let answered = false;
    const asked = askInSession(runtime, sessionId, query('And which of these should come first?')).then((outcome) => { answered = true; return outcome; });
    while (!answered) await clock.advance(250);
    expect((await asked).status).toBe('answered');
    await runtime.settled();
    runtime.stop();
    await live.close();
    const received = await client.closed;

    const session = ofType(received, '@xstate.actor').find((a) => a.sessionId === `session-${sessionId}`)!;
    const kind = actorKindOf(`session-${sessionId}`);
    expect(session.snapshot).toEqual(plain(persistedState(kind, foldActor(kind, before.filter((e) => e.streamId === `session-${sessionId}`)))));
    expect(session.snapshot).toMatchObject({ value: 'ready' });
    // Only what this process stepped is shown, each stream from where it stood.
    const after = (await readSessionEvents(store, sessionId)).filter((e) => !before.some((b) => b.eventId === e.eventId));
    const shown = shownPerStream(received);
    for (const [streamId, stream] of Map.groupBy(after.filter((e) => e.streamId.split('-')[0]! in actorKinds), (e) => e.streamId)) {
      expect(shown.get(streamId)?.types, streamId).toEqual(stream.map((e) => e.type));
    }
  });
});
