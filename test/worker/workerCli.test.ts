import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '../../src/cli/main.ts');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'chronicle-worker-cli-'));
const store = `sqlite:${join(dir, 'store.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function chronicle(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [main, ...args], { cwd: dir, env: { ...process.env, CHRONICLE_STORE: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('chronicle worker, submit and workers, as processes', () => {
  it('refuse bad flags with one line naming the flag, before touching the store', async () => {
    const tooSlow = await chronicle('worker', '--store', store, '--lease-ttl', '1000', '--heartbeat', '600');
    expect(tooSlow.code).toBe(2);
    expect(tooSlow.stderr.trim()).toMatch(/--heartbeat.*half of --lease-ttl/);
    const tooShort = await chronicle('worker', '--store', store, '--lease-ttl', '10');
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toMatch(/--lease-ttl.*at least 200/);
    const noQuery = await chronicle('submit', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', store);
    expect(noQuery.code).toBe(2);
    const timeoutAlone = await chronicle('submit', 'Which crops?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--timeout', '5', '--store', store);
    expect(timeoutAlone.stderr).toMatch(/--timeout only applies with --wait/);
    expect((await chronicle('workers', '--store', store)).stdout).toMatch(/no worker has joined/);
  });

  it('a submitted query is answered by a running worker; a held session refuses `run`; the worker leaves cleanly on SIGTERM', async () => {
    const worker = spawn(process.execPath, [main, 'worker', '--store', store, '--id', 'cli1', '--lease-ttl', '1000'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    worker.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    try {
      const first = await chronicle('submit', 'Which crops suit a drier season in Machakos?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--model', 'scripted:latency=20', '--wait', '--timeout', '30', '--json', '--store', store);
      expect(first.code, first.stderr + output.join('')).toBe(0);
      const answer = JSON.parse(first.stdout) as { sessionId: string; turn: number; status: string; answer: string };
      expect(answer).toMatchObject({ turn: 0, status: 'answered' });
      expect(answer.answer.length).toBeGreaterThan(20);

      const board = JSON.parse((await chronicle('workers', '--json', '--store', store)).stdout) as { workers: { id: string; status: string; sessions: number }[] };
      expect(board.workers).toEqual([expect.objectContaining({ id: 'cli1', status: 'alive', sessions: 1 })]);

      const refused = await chronicle('run', 'And in the long rains?', '--session', answer.sessionId, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', store);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`session ${answer.sessionId} is held by worker cli1; .*submit --session ${answer.sessionId} --wait`));

      // A second query to the session the worker holds: the worker sees it in the log and runs the turn.
      const second = await chronicle('submit', 'And in the long rains?', '--session', answer.sessionId, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--wait', '--timeout', '30', '--json', '--store', store);
      expect(second.code, second.stderr + output.join('')).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ sessionId: answer.sessionId, turn: 1, status: 'answered' });
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output.join('')).toMatch(/worker cli1 left group chronicle/);
    const after = JSON.parse((await chronicle('workers', '--json', '--store', store)).stdout) as { workers: { status: string; sessions: number }[] };
    // Leaving released its lease: the session is nobody's, so any process may run it now.
    expect(after.workers).toEqual([expect.objectContaining({ status: 'left', sessions: 0 })]);
    const verify = await chronicle('verify', '--store', store);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);
});
