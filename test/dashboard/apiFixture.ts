import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';

/** The CLI in this process, its output captured: what the API's answers are held to. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), warn: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export async function cliJson<T>(args: string[]): Promise<T> {
  const { code, out, err } = await cli([...args, '--json']);
  if (code !== 0) throw new Error(`chronicle ${args.join(' ')} exited ${code}: ${err}`);
  return JSON.parse(out) as T;
}

export const QUERIES = {
  express: ['Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation'],
  council: ['What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya\'s Machakos County adopt, and how should they sequence the investments over three seasons?', '--region', 'KE', '--purpose', 'sustainable_agriculture'],
  emergency: ['Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, and list the first three steps.', '--region', 'BD', '--purpose', 'climate_adaptation'],
  north: ['How should a bank price crypto mining loans?', '--region', 'DE', '--purpose', 'crypto_mining'],
};

/** A SQLite file holding an emergency, an express and a council session, and one from the Global North. */
export async function recordedStore(): Promise<{ dir: string; uri: string; sessions: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-dashboard-api-'));
  const uri = `sqlite:${join(dir, 'dashboard.db')}`;
  const sessions: Record<string, string> = {};
  const run = async (name: string, query: string[]) => {
    const { code, out, err } = await cli(['run', ...query, '--store', uri]);
    if (code !== 0) throw new Error(`run ${name} exited ${code}: ${err}`);
    sessions[name] = /session ([0-9a-z-]+), turn/.exec(out)![1]!;
  };
  await cli(['emergency', 'declare', 'BD', '--kind', 'flood', '--store', uri]);
  await run('emergency', QUERIES.emergency);
  await cli(['emergency', 'lift', 'BD', '--store', uri]);
  await run('express', QUERIES.express);
  await run('council', QUERIES.council);
  await run('north', QUERIES.north);
  return { dir, uri, sessions };
}

export async function getJson<T>(base: string, path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(new URL(path, base));
  return { status: response.status, body: await response.json() as T, headers: response.headers };
}

/** Reads Server-Sent Events from a fetch body until `enough` says stop (or the timeout). */
export async function readEvents(body: ReadableStream<Uint8Array>, enough: (events: { event: string; data: unknown }[]) => boolean, timeoutMs = 10_000): Promise<{ event: string; data: unknown }[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: unknown }[] = [];
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  let buffer = '';
  try {
    while (!enough(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return events;
}
