import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsCommand } from '../../src/cli/commands/eventsCommand.ts';
import { importCommand } from '../../src/cli/commands/importCommand.ts';
import { verifyCommand } from '../../src/cli/commands/verifyCommand.ts';
import { sessionProjections } from '../../src/cli/sessionProjections.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { byPosition, foldSession, sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { appendInOrder, unsealed } from '../../src/store/importEvents.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { capturingIo, content, recordSession, scratch } from './forkSupport.ts';

const files = scratch();
const SESSION = 'exp1';
let source: { path: string; uri: string };
let withCheckpoints: { path: string; uri: string };
let exported: string[];
let exportedWithCheckpoints: string[];

async function exportLines(uri: string, ...flags: string[]): Promise<string[]> {
  const { io, out } = capturingIo();
  expect(await eventsCommand([SESSION, '--json', ...flags, '--store', uri], io)).toBe(0);
  return out;
}

function writeLines(name: string, lines: readonly string[]): string {
  const file = join(files.dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function importInto(uri: string, file: string) {
  const captured = capturingIo();
  const code = await importCommand([file, '--store', uri], captured.io);
  return { code, out: captured.out.join('\n'), warn: captured.warn.join('\n') };
}

async function withStore<T>(path: string, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = new SqliteEventStore(path);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const everything = (path: string) => withStore(path, (store) => collect(store.readAll()));

beforeAll(async () => {
  source = files.db();
  withCheckpoints = files.db();
  await recordSession(source.path, SESSION);
  await recordSession(withCheckpoints.path, SESSION, { checkpointEveryTokens: 400 });
  exported = await exportLines(source.uri);
  exportedWithCheckpoints = await exportLines(withCheckpoints.uri, '--with-checkpoints');
});

afterAll(() => files.cleanUp());

describe('export', () => {
  it('prints every stream of the session, each event with its full metadata and hash chain, and checkpoints on request', async () => {
    const lines = exportedWithCheckpoints.map((line) => JSON.parse(line) as { streamId: string; metadata: Record<string, unknown> });
    const streams = new Set(lines.map((l) => l.streamId));
    expect([...streams].some((s) => s.startsWith('agent-exp1.'))).toBe(true);
    expect(streams).toContain('session-exp1');
    expect(streams).toContain('ledger-exp1');
    expect(streams).toContain('checkpoint-exp1');
    for (const line of lines) expect(Object.keys(line.metadata)).toEqual(expect.arrayContaining(['prevHash', 'hash', 'causationId', 'recordedAt', 'schemaVersion', 'machineVersion']));
    // Without the flag, the session's actors and ledger only.
    expect(exported.some((line) => line.includes('"streamId":"checkpoint-'))).toBe(false);
    expect((await withStore(withCheckpoints.path, (store) => readSessionEvents(store, SESSION))).length).toBe(lines.filter((l) => !l.streamId.startsWith('checkpoint-')).length);
  });
});

describe('import', () => {
  it('round-trips a session between two SQLite files: same events, same hashes, a clean verify, the same state at every point', async () => {
    const target = files.db();
    const result = await importInto(target.uri, writeLines('round-trip.jsonl', exported));
    expect(result.code, result.warn).toBe(0);
    expect(result.out).toMatch(/^imported session exp1: \d+ events in \d+ streams/);

    // The source holds only this session, so even the positions are the same.
    const [before, after] = [await everything(source.path), await everything(target.path)];
    expect(after).toEqual(before);
    const { io, out } = capturingIo();
    expect(await verifyCommand(['--store', target.uri], io)).toBe(0);
    expect(out.join('')).toMatch(/^ok: \d+ events in \d+ streams/);

    const projections = sessionProjections();
    const points = [undefined, ...[5n, 20n, before.at(-1)!.position / 2n].map((position) => ({ position }))];
    for (const at of points) {
      const [expected, actual] = await Promise.all([
        withStore(source.path, (store) => sessionStateAt(store, SESSION, at, projections)),
        withStore(target.path, (store) => sessionStateAt(store, SESSION, at, projections)),
      ]);
      expect(actual).toEqual(expected);
    }
  });

  it('verifies checkpoints and leaves them out; the copy keeps the global order, so every fold gives the same state', async () => {
    const target = files.db();
    const result = await importInto(target.uri, writeLines('checkpoints.jsonl', exportedWithCheckpoints));
    expect(result.code, result.warn).toBe(0);
    const skipped = exportedWithCheckpoints.filter((line) => line.includes('"streamId":"checkpoint-')).length;
    expect(skipped).toBeGreaterThan(0);
    expect(result.out).toContain(`${skipped} checkpoint event(s) verified and not imported`);

    const sourceEvents = await withStore(withCheckpoints.path, (store) => readSessionEvents(store, SESSION));
    const copied = await withStore(target.path, (store) => readSessionEvents(store, SESSION));
    expect((await everything(target.path)).some((e) => e.streamId.startsWith('checkpoint-'))).toBe(false);
    // Same events, streams, revisions and hashes, in the same global order (the positions moved up: no checkpoints).
    expect(copied.map(content)).toEqual(sourceEvents.map(content));
    expect(copied.some((e, i) => e.position !== sourceEvents[i]!.position)).toBe(true);

    // The source's events at the target's positions fold to exactly the target's state (the projections name positions).
    const positionOf = new Map(copied.map((e) => [e.eventId, e.position]));
    const moved = sourceEvents.map((e) => ({ ...e, position: positionOf.get(e.eventId)! })).sort(byPosition);
    const expected = foldSession(SESSION, moved, sessionProjections());
    const actual = await withStore(target.path, (store) => sessionStateAt(store, SESSION, undefined, sessionProjections()));
    expect(actual).toEqual(expected);
    // And the source answers from its checkpoints what the target folds from the start (positions aside).
    const fromCheckpoint = await withStore(withCheckpoints.path, (store) => sessionStateAt(store, SESSION, undefined, sessionProjections()));
    expect(actual.actors.map(({ position: _, ...a }) => a)).toEqual(fromCheckpoint.actors.map(({ position: _, ...a }) => a));
    expect(actual.ledger.balances).toEqual(fromCheckpoint.ledger.balances);
    expect(actual.ledger.usage).toEqual(fromCheckpoint.ledger.usage);
  });

  it('refuses a line whose data was edited, naming the line, stream and revision, and writes nothing', async () => {
    const index = exported.findIndex((line) => line.includes('"type":"model.responded"'));
    const line = JSON.parse(exported[index]!) as { streamId: string; revision: string; data: { text: string } };
    line.data.text = `${line.data.text} (and seawalls are always better)`;
    const tampered = exported.with(index, JSON.stringify(line));
    const target = files.db();
    const result = await importInto(target.uri, writeLines('tampered.jsonl', tampered));
    expect(result.code).toBe(1);
    expect(result.warn).toContain(`line ${index + 1}: stream "${line.streamId}" revision ${line.revision}`);
    expect(result.warn).toContain('does not match its hash');
    expect(result.warn).toContain('Nothing was written');
    expect(await everything(target.path)).toEqual([]);
  });

  it('refuses a deleted line: the next event of its stream no longer follows', async () => {
    const index = exported.findIndex((line) => line.includes('"type":"tokens.reserved"'));
    const removed = JSON.parse(exported[index]!) as { streamId: string; revision: string };
    const next = exported.findIndex((line, i) => i > index && line.includes(`"streamId":"${removed.streamId}"`));
    const target = files.db();
    const result = await importInto(target.uri, writeLines('deleted.jsonl', exported.toSpliced(index, 1)));
    expect(result.code).toBe(1);
    // The file's lines shifted up by one after the removed line.
    expect(result.warn).toContain(`line ${next}: stream "${removed.streamId}" revision ${BigInt(removed.revision) + 1n}`);
    expect(result.warn).toContain(`revision ${removed.revision} is missing`);
    expect(await everything(target.path)).toEqual([]);
  });

  it('refuses a file cut inside a write (every chain intact, but a request without its reservation), naming the line', async () => {
    const request = exported.findIndex((line) => line.includes('"type":"model.requested"'));
    const reserved = exported.findIndex((line, i) => i > request && line.includes('"type":"tokens.reserved"'));
    expect(reserved).toBeGreaterThan(request);
    const target = files.db();
    const result = await importInto(target.uri, writeLines('cut.jsonl', exported.slice(0, reserved)));
    expect(result.code).toBe(1);
    expect(result.warn).toMatch(new RegExp(`^chronicle import: line ${request + 1}: .*model\\.requested.*has no tokens\\.reserved .*export the session again\\. Nothing was written\\.`, 's'));
    expect(existsSync(target.path)).toBe(false);
    // Cut where a write ends, it is a session as it stood then, and imports.
    const whole = exported.findIndex((line, i) => i > reserved && line.includes('"type":"model.responded"'));
    expect((await importInto(files.db().uri, writeLines('whole-writes.jsonl', exported.slice(0, whole)))).code).toBe(0);
  });

  it('imports a file of several sessions (exports joined), each audited with its own streams', async () => {
    const other = files.db();
    await recordSession(other.path, 'exp2');
    const { io, out } = capturingIo();
    expect(await eventsCommand(['exp2', '--json', '--store', other.uri], io)).toBe(0);
    // Positions must rise through the file: the second session's lines follow the first's, as a whole-log export orders them.
    const last = BigInt((JSON.parse(exported.at(-1)!) as { position: string }).position);
    const shifted = out.map((line) => { const e = JSON.parse(line) as { position: string }; return JSON.stringify({ ...e, position: String(BigInt(e.position) + last) }); });
    const target = files.db();
    const result = await importInto(target.uri, writeLines('two-sessions.jsonl', [...exported, ...shifted]));
    expect(result.code, result.warn).toBe(0);
    expect(result.out).toMatch(/^imported session exp1, exp2: /);
  });

  it('refuses malformed JSON and missing fields with their line numbers, and writes nothing', async () => {
    const noHash = JSON.parse(exported[1]!) as { metadata: Record<string, unknown> };
    delete noHash.metadata.hash;
    const noData = JSON.parse(exported[3]!) as Record<string, unknown>;
    delete noData.data;
    const broken = [exported[0]!, JSON.stringify(noHash), '{"eventId": "oops",', JSON.stringify(noData), ...exported.slice(4)];
    const target = files.db();
    const result = await importInto(target.uri, writeLines('malformed.jsonl', broken));
    expect(result.code).toBe(1);
    expect(result.warn).toMatch(/line 2: metadata\.hash: .*undefined/);
    expect(result.warn).toContain('line 3: not JSON');
    expect(result.warn).toMatch(/line 4: data: .*record/);
    expect(result.warn).toContain('chronicle events <sessionId> --json');
    expect(await everything(target.path)).toEqual([]);
  });

  it('refuses lines out of global order', async () => {
    const swapped = [exported[1]!, exported[0]!, ...exported.slice(2)];
    const target = files.db();
    const result = await importInto(target.uri, writeLines('swapped.jsonl', swapped));
    expect(result.code).toBe(1);
    expect(result.warn).toContain('line 2: position: 1 is not after line 1\'s 2');
    expect(await everything(target.path)).toEqual([]);
  });

  it('refuses a store where the session exists, whether imported before or a different session of the same id', async () => {
    const file = writeLines('again.jsonl', exported);
    const before = await everything(source.path);
    const again = await importInto(source.uri, file);
    expect(again.code).toBe(1);
    expect(again.warn).toContain('already in the target');
    expect(await everything(source.path)).toEqual(before);

    const other = files.db();
    await recordSession(other.path, SESSION, { seed: 'another-run' });
    const otherBefore = await everything(other.path);
    const clash = await importInto(other.uri, file);
    expect(clash.code).toBe(1);
    expect(clash.warn).toContain('stream "session-exp1" already exists in the store with other events');
    expect(await everything(other.path)).toEqual(otherBefore);
  });

  it('refuses an event id the target already holds in another stream, before writing anything', async () => {
    const line = JSON.parse(exported[2]!) as Parameters<typeof unsealed>[0] & { revision: string; position: string };
    const target = files.db();
    await withStore(target.path, (store) => store.appendToStream('ledger-elsewhere', [unsealed({ ...line, revision: 0n, position: 0n })]));
    const result = await importInto(target.uri, writeLines('collision.jsonl', exported));
    expect(result.code).toBe(1);
    expect(result.warn).toContain(`line 3: event id ${line.eventId} is already in the target, in stream "ledger-elsewhere"`);
    expect((await everything(target.path)).length).toBe(1);
  });

  it('finishes an import that was interrupted after some of its appends', async () => {
    const events = await everything(source.path);
    const target = files.db();
    // What a killed import leaves: its first appends, in global order.
    await withStore(target.path, (store) => appendInOrder(store, events.slice(0, 30).map((e) => ({ streamId: e.streamId, event: unsealed(e) }))));
    const result = await importInto(target.uri, writeLines('resumed.jsonl', exported));
    expect(result.code, result.warn).toBe(0);
    expect(result.out).toContain('finished an interrupted import of this file: 30 event(s) were already written');
    expect(await everything(target.path)).toEqual(events);
  });
});
