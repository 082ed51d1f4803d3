import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { ApiError } from './apiError.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.webp': 'image/webp',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};

/**
 * A file of the built page under `root`; `/` is index.html. The decoded path is resolved and must stay inside
 * `root`, so `..` (encoded or not) cannot reach the rest of the disk.
 */
export async function serveStatic(root: string, pathname: string, response: ServerResponse): Promise<void> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    throw new ApiError(400, 'path: not a valid percent-encoded path');
  }
  if (relative.includes('\0')) throw new ApiError(400, 'path: contains a NUL byte');
  const base = resolve(root);
  const file = resolve(join(base, relative.endsWith('/') ? `${relative}index.html` : relative));
  if (file !== base && !file.startsWith(base + sep)) throw new ApiError(404, `no file ${pathname}`);
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) {
    if (relative === '/' ) throw new ApiError(503, `the dashboard page is not built (${join(base, 'index.html')} is missing): run npm run build:dashboard`);
    throw new ApiError(404, `no file ${pathname}`);
  }
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': found.size,
    // Vite fingerprints assets, so only the page itself must be fetched afresh.
    'cache-control': relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
    'x-content-type-options': 'nosniff',
  });
  await new Promise<void>((done, fail) => createReadStream(file).on('error', fail).on('end', done).pipe(response));
}
