import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { runLoad } from '../test/support/loadSessions.ts';

/**
 * `npm run load [-- <sessions>]` (default 1 000): that many sessions started and asked at once in one process on
 * the scripted model and SQLite, then checked from the log; prints the time and the process's RSS (goal ≤ 1 GiB).
 */
const sessions = Number(process.argv[2] ?? 1_000);
if (!Number.isSafeInteger(sessions) || sessions < 1) throw new Error(`give a number of sessions, not "${process.argv[2]}"`);
const dir = mkdtempSync(join(tmpdir(), 'chronicle-load-'));
const store = new SqliteEventStore(join(dir, 'load.db'));
try {
  const report = await runLoad(store, sessions);
  console.log(`${report.answered} of ${report.sessions} sessions answered; ${report.events} events in ${(report.ms / 1000).toFixed(1)} s; RSS ${report.rssMiB} MiB (goal ≤ 1024 MiB: ${report.rssMiB <= 1024 ? 'met' : 'MISSED'})`);
  if (report.problems.length > 0) {
    console.log(`PROBLEMS:\n  ${report.problems.slice(0, 20).join('\n  ')}`);
    process.exitCode = 1;
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
