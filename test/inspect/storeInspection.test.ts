import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStoreInspection } from '../../src/inspect/storeInspection.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';
import { connectInspectionClient, ofType } from './inspectionClient.ts';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-store-inspection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dashboard --inspect: the store followed into the Stately inspector', () => {
  it('streams every actor event another writer appends, each actor announced in the state its stream gives, snapshots equal to the fold', async () => {
    const path = join(dir, 'followed.db');
    const writerStore = new SqliteEventStore(path, { pollMs: 20 });
    const writer = simulatedSystem({ store: writerStore, seed: 'followed' });
    await writer.start('s1', { model: 'scripted:latency=10,seed=3' });
    await writer.ask('s1', query('Which mangroves protect coasts best?'));
    await writer.runUntilAnswered(['s1'], 1);

    // The dashboard's own store handle on the same file: it sees the other writer's appends by polling.
    const reader = new SqliteEventStore(path, { pollMs: 20 });
    const inspection = await startStoreInspection({ store: reader, port: 0, warn: (line) => { throw new Error(line); } });
    const client = await connectInspectionClient(inspection.server.socketUrl);
    const before = (await readSessionEvents(writerStore, 's1')).at(-1)!.position;
    await writer.ask('s1', query('And how fast do they grow?'));
    await writer.runUntilAnswered(['s1'], 2);
    const appended = (await readSessionEvents(writerStore, 's1')).filter((e) => e.position > before && !e.streamId.startsWith('ledger-') && !e.streamId.startsWith('checkpoint-'));
    for (let waited = 0; ofType(client.received, '@xstate.event').length < appended.length && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await inspection.close();
    const received = await client.closed;

    const events = ofType(received, '@xstate.event');
    expect(events.map((e) => e.event.type)).toEqual(appended.map((e) => e.type));
    // Actors already running are announced as their streams had them, not in their initial state.
    const actors = ofType(received, '@xstate.actor');
    expect(actors.map((a) => a.sessionId).sort()).toEqual(['agent-s1.express.0', 'session-s1']);
    const session = actors.find((a) => a.sessionId === 'session-s1')!;
    expect((session.snapshot as unknown as { context: { turn: number } }).context.turn).toBe(1);
    // The last snapshot of each actor is its stream folded to the end.
    for (const streamId of ['session-s1', 'agent-s1.express.0']) {
      const kind = actorKindOf(streamId);
      const last = ofType(received, '@xstate.snapshot').filter((s) => s.sessionId === streamId).at(-1)!;
      expect((last.snapshot as unknown as { value: unknown }).value).toEqual(persistedState(kind, foldActor(kind, await collect(writerStore.readStream(streamId)))).value);
    }
    writer.runtime.stop();
    await reader.close();
    await writerStore.close();
  });
});
