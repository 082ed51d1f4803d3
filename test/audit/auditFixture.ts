import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionAudit } from '../../src/audit/auditSession.ts';
import type { CommandIo } from '../../src/cli/commandIo.ts';
import { auditCommand } from '../../src/cli/commands/auditCommand.ts';
import { COUNCIL_QUERY, recordSessions } from './recordedSessions.ts';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-audit-'));
let recorded: Promise<string> | undefined;

/**
 * One recording shared by the tests (an express session of three turns, `ex`, and a council, `co`), copied to a
 * fresh file for each test that tampers with it.
 */
export function recordedStore(): Promise<string> {
  recorded ??= (async () => {
    const path = join(dir, 'recorded.db');
    await recordSessions(path, [
      { sessionId: 'ex', queries: ['Which mangroves protect coasts best?', 'And how fast do they grow?', 'What does planting them cost?'].map((text) => ({ text, region: 'KE', purpose: 'climate_adaptation' })) },
      { sessionId: 'co', queries: [{ text: COUNCIL_QUERY, region: 'BD', purpose: 'climate_adaptation' }] },
    ]);
    return path;
  })();
  return recorded;
}

let copies = 0;

export async function freshCopy(): Promise<string> {
  const source = await recordedStore();
  const path = join(dir, `copy-${copies++}.db`);
  copyFileSync(source, path);
  for (const suffix of ['-wal', '-shm']) if (existsSync(source + suffix)) copyFileSync(source + suffix, path + suffix);
  return path;
}

/** For `afterAll`: the recording and its copies are removed with the test file's run. */
export function removeRecordings(): void {
  rmSync(dir, { recursive: true, force: true });
}

export function tempPath(name: string): string {
  return join(dir, name);
}

export interface AuditRun {
  code: number;
  out: string[];
  err: string[];
  /** The `--json` document, when asked for. */
  json?: { ok: boolean; sessions: SessionAudit[] };
}

/** Runs `chronicle audit` in-process against a SQLite file with a capturing io. */
export async function audit(path: string, ...args: string[]): Promise<AuditRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), warn: (line) => err.push(line) };
  const code = await auditCommand([...args, '--store', `sqlite:${path}`], io);
  const run: AuditRun = { code, out, err };
  if (args.includes('--json')) run.json = JSON.parse(out.at(-1)!) as AuditRun['json'];
  return run;
}
