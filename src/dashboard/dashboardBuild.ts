import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the page once when `index.html` is missing (a fresh checkout), with the repo's own Vite and the front
 * end's config, as `npm run build:dashboard` would. Returns null when built, or why it could not be (no Vite: an
 * installed package without devDependencies), so the caller can say what to run instead.
 */
export async function ensureDashboardPage(staticDir: string): Promise<string | null> {
  if (existsSync(join(staticDir, 'index.html'))) return null;
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const config = join(ROOT, 'dashboard/vite.config.ts');
  if (!existsSync(vite) || !existsSync(config)) return 'Vite or dashboard/vite.config.ts is not in this installation';
  try {
    await promisify(execFile)(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'warn'], { cwd: ROOT });
  } catch (error) {
    return `vite build failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
  return existsSync(join(staticDir, 'index.html')) ? null : `vite build wrote no ${join(staticDir, 'index.html')}`;
}
