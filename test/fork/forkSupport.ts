import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandIo } from '../../src/cli/commandIo.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

/** A scratch directory for SQLite files, removed by `cleanUp`. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-fork-'));
  let n = 0;
  return {
    dir,
    /** A fresh store file: its path and its `--store` URI. */
    db: () => {
      const path = join(dir, `store-${n++}.db`);
      return { path, uri: `sqlite:${path}` };
    },
    cleanUp: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A CommandIo that keeps what a command prints. */
export function capturingIo() {
  const out: string[] = [];
  const warn: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), warn: (line) => warn.push(line) };
  return { io, out, warn };
}

export const EXPRESS_QUERY = 'Which mangroves protect coasts best?';
export const COUNCIL_QUERY = 'Compare the cost, damage avoided and community benefits of mangrove restoration versus seawalls for Dhaka and Khulna, with a budget table, risks, and a financing plan from the Green Climate Fund?';

/**
 * Runs a session of two turns (express, then council) on a simulated clock into a SQLite file, and closes it: the
 * source every test forks or exports.
 */
export async function recordSession(path: string, sessionId: string, options: { seed?: string; checkpointEveryTokens?: number } = {}): Promise<void> {
  const store = new SqliteEventStore(path);
  const system = simulatedSystem({ store, seed: options.seed ?? `source-${sessionId}`, checkpointEveryTokens: options.checkpointEveryTokens ?? 0 });
  try {
    await system.start(sessionId, { model: 'scripted:latency=40' });
    await system.ask(sessionId, query(EXPRESS_QUERY, 'BD'));
    await system.runUntilAnswered([sessionId], 1);
    await system.ask(sessionId, query(COUNCIL_QUERY, 'BD'));
    await system.runUntilAnswered([sessionId], 2);
  } finally {
    system.runtime.stop();
    await store.close();
  }
}

/** An event without its place in the store: what must be equal between a source and a faithful copy. */
export function content(event: RecordedEvent) {
  return { eventId: event.eventId, type: event.type, data: event.data, metadata: event.metadata, streamId: event.streamId, revision: event.revision };
}
