import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { startDashboardServer, type DashboardServer } from '../../src/dashboard/dashboardServer.ts';
import type { EventStore } from '../../src/store/eventStore.ts';

export type { DashboardServer };

const exec = promisify(execFile);
export const root = new URL('../../', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');

/** Runs the CLI as a user would, in its own process, and returns its stdout (throws with stderr on a non-zero exit). */
export async function chronicle(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(process.execPath, [main, ...args], { cwd, env: { ...process.env, CHRONICLE_STORE: '' }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    throw new Error(`chronicle ${args.join(' ')} exited ${failed.code}: ${failed.stderr || failed.stdout}`);
  }
}

export const jsonLines = (text: string): unknown[] => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);

/** Newest modification time under a directory (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds the front end into `dist-dashboard/` when it is missing or older than its sources, so a fresh clone's
 * `npm test` needs no manual step (CI builds it beforehand with `npm run build:dashboard`).
 */
export async function ensureDashboardBuilt(): Promise<string> {
  const out = join(root, 'dist-dashboard');
  const index = join(out, 'index.html');
  const sources = newest(join(root, 'dashboard'));
  if (!existsSync(index) || statSync(index).mtimeMs < sources) {
    await exec(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'], { cwd: root });
  }
  return out;
}

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Equal within a relative tolerance: sums of floats may be added in another order by the CLI and the API. */
export function close(actual: number, expected: number, relative = 1e-9): boolean {
  return Math.abs(actual - expected) <= relative * Math.max(Math.abs(expected), 1e-12);
}

/** `chronicle dashboard`'s server on a free port, serving the built page from dist-dashboard/. */
export async function startServer(store: EventStore): Promise<DashboardServer> {
  return startDashboardServer({ store, port: 0, host: '127.0.0.1' });
}
