import { isIP } from 'node:net';
import { z } from 'zod';
import { ensureDashboardPage } from '../../dashboard/dashboardBuild.ts';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, DIST_DASHBOARD, startDashboardServer } from '../../dashboard/dashboardServer.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { DEFAULT_INSPECT_PORT, InspectPortError } from '../../inspect/inspectionServer.ts';
import { startStoreInspection } from '../../inspect/storeInspection.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const portSchema = z.coerce.number<string>().int().min(0, '0 (any free port) to 65535').max(65535, '0 (any free port) to 65535');

const schema = z.strictObject({
  port: portSchema.optional(),
  host: z.string().min(1, 'a host name or address').optional(),
  store: z.string().optional(),
  inspect: z.boolean().optional(),
  'inspect-port': portSchema.optional(),
});

export const dashboardUsage = `dashboard [--port <n, default ${DEFAULT_DASHBOARD_PORT}; 0 = any free>] [--host <address, default ${DEFAULT_DASHBOARD_HOST}>] [--inspect [--inspect-port <n, default ${DEFAULT_INSPECT_PORT}>]] [--store <uri>]`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Serves the dashboard (the page in dist-dashboard/, built once with Vite if missing) and its read-only JSON API
 * until interrupted. Loopback by default: the API has no authentication, and the log may hold private queries.
 */
export async function dashboardCommand(args: string[], io: CommandIo, until: Promise<unknown> = interrupted()): Promise<number> {
  const { values, positionals } = commandOptions('dashboard', args, {
    port: { type: 'string' }, host: { type: 'string' }, store: { type: 'string' }, inspect: { type: 'boolean' }, 'inspect-port': { type: 'string' },
  }, schema);
  if (positionals.length > 0) throw new UsageError(`dashboard: takes no arguments, got "${positionals.join(' ')}"`);
  const host = values.host ?? DEFAULT_DASHBOARD_HOST;
  if (!LOOPBACK.has(host) && !/^127\./.test(host)) {
    io.warn(`chronicle dashboard: WARNING: listening on ${host}, not loopback; the dashboard has no authentication, so anyone who can reach it can read every session in the store`);
  }
  const missing = await ensureDashboardPage(DIST_DASHBOARD);
  if (missing) io.warn(`chronicle dashboard: the page is not built (${missing}); run \`npm run build:dashboard\`. The API is served meanwhile.`);
  const store = await openEventStore(cliStoreUri(values.store), { warn: io.warn });
  try {
    const server = await startDashboardServer({ store, port: values.port ?? DEFAULT_DASHBOARD_PORT, host: isIP(host.replace(/^\[|\]$/g, '')) === 6 ? host.replace(/^\[|\]$/g, '') : host }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UsageError(`dashboard: --port ${values.port ?? DEFAULT_DASHBOARD_PORT} is in use; choose another, or 0 for any free port`);
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') throw new UsageError(`dashboard: --host ${host} is not an address of this machine`);
      throw error;
    });
    io.out(`Chronicle dashboard on ${server.url}`);
    // Every actor event appended from now on, by any process, streamed to the Stately inspector.
    const inspectPort = values['inspect-port'];
    const inspection = values.inspect || inspectPort !== undefined
      ? await startStoreInspection({ store, port: inspectPort ?? DEFAULT_INSPECT_PORT, warn: (line) => io.warn(line) }).catch((error: unknown) => {
        if (error instanceof InspectPortError) throw new UsageError(`dashboard: ${error.message}`);
        throw error;
      })
      : undefined;
    if (inspection) io.out(`Stately inspector: open ${inspection.server.pageUrl} (events on ${inspection.server.socketUrl}; live: every actor event appended to the store)`);
    await until;
    await inspection?.close();
    await server.close();
    return 0;
  } finally {
    await store.close();
  }
}

/** Ctrl-C or a service manager's stop: close cleanly so the store is released. */
function interrupted(): Promise<unknown> {
  return new Promise((stop) => { process.once('SIGINT', stop); process.once('SIGTERM', stop); });
}
