import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { runLoad } from '../support/loadSessions.ts';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A bounded run here; `npm run load -- 1000` runs the full size (bench/load.ts).
describe('load: many concurrent sessions in one process', () => {
  it('200 sessions at once on SQLite all complete, no ledger overspent, no event lost, one outcome per request', async () => {
    const store = new SqliteEventStore(join(dir, 'load.db'));
    try {
      const report = await runLoad(store, 200);
      console.info(`load: ${report.sessions} sessions, ${report.events} events in ${Math.round(report.ms)} ms, RSS ${report.rssMiB} MiB`);
      expect(report.problems).toEqual([]);
      expect(report.answered).toBe(200);
    } finally {
      await store.close();
    }
  }, 120_000);
});
