import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { toJson } from '../cli/output.ts';
import type { EventStore } from '../store/eventStore.ts';
import { ApiError } from './apiError.ts';
import { answerApi } from './apiRoutes.ts';
import { serveLive } from './liveEvents.ts';
import { serveStatic } from './staticFiles.ts';

/** Where `npm run build:dashboard` (dashboard/vite.config.ts) writes the page. */
export const DIST_DASHBOARD = fileURLToPath(new URL('../../dist-dashboard/', import.meta.url));
export const DEFAULT_DASHBOARD_PORT = 4400;
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';

export interface DashboardServerOptions {
  store: EventStore;
  /** 0 = any free port; the real one is in `url`. */
  port?: number;
  host?: string;
  /** The built page; `dist-dashboard/` by default. */
  staticDir?: string;
}

export interface DashboardServer {
  /** `http://<host>:<port>/`, with the port actually bound. */
  url: string;
  /** Ends live streams and open connections, then stops listening. The store stays open: the caller owns it. */
  close(): Promise<void>;
}

/** The dashboard: the built page and a read-only JSON API over the store. Nothing it serves writes. */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { store } = options;
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const staticDir = options.staticDir ?? DIST_DASHBOARD;
  const live = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    void handle(store, staticDir, live, request, response);
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => { server.off('error', failed); listening(); });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: async () => {
      for (const response of live) response.end();
      await new Promise<void>((closed) => { server.close(() => closed()); server.closeAllConnections(); });
    },
  };
}

async function handle(store: EventStore, staticDir: string, live: Set<ServerResponse>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    // Read-only by design: there is no write endpoint, so any other method is refused, with what is allowed.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      throw new ApiError(405, `method: ${request.method} is not allowed; the dashboard is read-only (GET, HEAD)`);
    }
    const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
    if (url.pathname === '/api/live') {
      live.add(response);
      response.on('close', () => live.delete(response));
      return await serveLive(store, request, response);
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return sendJson(response, 200, await answerApi(store, url.pathname, url.searchParams));
    await serveStatic(staticDir, url.pathname, response);
  } catch (error) {
    if (response.headersSent) { response.destroy(); return; }
    sendJson(response, statusOf(error), { error: (error as Error).message });
  }
}

function statusOf(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  if (error instanceof Error && error.name === 'UnknownSessionError') return 404;
  return 500;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = toJson(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
