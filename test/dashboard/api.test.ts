import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { startDashboardServer, type DashboardServer } from '../../src/dashboard/dashboardServer.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { openEventStore } from '../../src/store/openEventStore.ts';
import { dashboardCommand } from '../../src/cli/commands/dashboardCommand.ts';
import { UsageError } from '../../src/cli/usageError.ts';
import { cli, cliJson, getJson, QUERIES, readEvents, recordedStore } from './apiFixture.ts';

type Spread = { central: number; min: number; max: number };
interface Point { position: string; time: string }
interface ClimateJson { calls: { position: string }[]; totals: { all: { calls: number; energyWh: Spread; usageGco2e: Spread; embodiedGco2e: Spread; trueCostUsd: Record<string, number> } } }
interface Summary {
  at: Point | null; sessions: number; tokens: { input: number; output: number; total: number }; costUsd: number; calls: number;
  energyWh: Spread; gco2e: { usage: Spread; embodied: Spread }; trueCostUsd: Record<string, number>; shares: { globalSouthTokens: number; climatePurposeTokens: number };
}
interface Row { sessionId: string; status: string; mode: string | null; region: string | null; purpose: string | null; priority: number | null; turns: number; tokens: number; handOffs: number; startedAt: string | null; lastEventAt: string | null }

const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(expected), 1e-12));

describe('dashboard API', () => {
  let dir: string;
  let uri: string;
  let sessions: Record<string, string>;
  let store: EventStore;
  let server: DashboardServer;
  let page: string;

  beforeAll(async () => {
    ({ dir, uri, sessions } = await recordedStore());
    page = join(dir, 'page');
    mkdirSync(join(page, 'assets'), { recursive: true });
    writeFileSync(join(page, 'index.html'), '<!doctype html><title>Chronicle</title>');
    writeFileSync(join(page, 'assets', 'main-abc.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    store = await openEventStore(uri);
    server = await startDashboardServer({ store, port: 0, host: '127.0.0.1', staticDir: page });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the CLI says as of a point: ledger usage summed over `sessions --json`, climate totals of `climate --all`. */
  async function cliFigures(at?: string) {
    const point = at === undefined ? [] : ['--at', at];
    const ids = (await cli(['sessions', '--json', '--store', uri])).out.split('\n').map((l) => (JSON.parse(l) as { sessionId: string }).sessionId);
    let input = 0; let output = 0; let costUsd = 0; let calls = 0;
    for (const id of ids) {
      const { ledger } = await cliJson<{ ledger: { usage: { total: { calls: number; inputTokens: number; outputTokens: number; costUsd: number } } } }>(['ledger', id, ...point, '--store', uri]);
      input += ledger.usage.total.inputTokens; output += ledger.usage.total.outputTokens; costUsd += ledger.usage.total.costUsd; calls += ledger.usage.total.calls;
    }
    const climate = await cliJson<ClimateJson>(['climate', '--all', ...point, '--store', uri]);
    return { input, output, costUsd, calls, climate: climate.totals.all };
  }

  function expectClimate(summary: Summary, climate: ClimateJson['totals']['all']) {
    expect(summary.energyWh).toEqual(climate.energyWh);
    expect(summary.gco2e).toEqual({ usage: climate.usageGco2e, embodied: climate.embodiedGco2e });
    expect(summary.trueCostUsd).toEqual(climate.trueCostUsd);
  }

  it('GET /api/range: the first and last event and the number of sessions, no-store', async () => {
    const { status, body, headers } = await getJson<{ first: Point; last: Point; sessions: number }>(server.url, 'api/range');
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.sessions).toBe(4);
    expect(body.first.position).toMatch(/^\d+$/);
    expect(BigInt(body.last.position)).toBeGreaterThan(BigInt(body.first.position));
    expect(Date.parse(body.last.time)).toBeGreaterThanOrEqual(Date.parse(body.first.time));
  });

  it('GET /api/summary: tokens and cost are the ledgers\' sums, climate the totals of `climate --all --json`', async () => {
    const { body } = await getJson<Summary>(server.url, 'api/summary');
    const expected = await cliFigures();
    expect(body.sessions).toBe(4);
    expect(body.tokens).toEqual({ input: expected.input, output: expected.output, total: expected.input + expected.output });
    near(body.costUsd, expected.costUsd);
    expect(body.calls).toBe(expected.calls);
    expectClimate(body, expected.climate);
    const range = (await getJson<{ last: Point }>(server.url, 'api/range')).body;
    expect(body.at).toEqual(range.last);
    // Three of the four sessions are Bangladeshi or Kenyan climate work; the fourth is German crypto mining.
    const north = (await getJson<Row[]>(server.url, 'api/sessions')).body.find((r) => r.sessionId === sessions['north'])!;
    near(body.shares.globalSouthTokens, 1 - north.tokens / body.tokens.total);
    near(body.shares.climatePurposeTokens, 1 - north.tokens / body.tokens.total);
  });

  it('GET /api/summary?at=<midpoint>: what sessionStateAt and `climate --all --at` give there', async () => {
    const range = (await getJson<{ last: Point }>(server.url, 'api/range')).body;
    const mid = String(BigInt(range.last.position) / 2n);
    const { body } = await getJson<Summary>(server.url, `api/summary?at=${mid}`);
    const expected = await cliFigures(mid);
    let tokens = 0;
    for (const id of Object.values(sessions)) {
      const { ledger } = await sessionStateAt(store, id, { position: BigInt(mid) });
      tokens += ledger.usage.total.inputTokens + ledger.usage.total.outputTokens;
    }
    expect(body.tokens.total).toBe(tokens);
    expect(body.tokens.total).toBe(expected.input + expected.output);
    expect(body.tokens.total).toBeLessThan((await getJson<Summary>(server.url, 'api/summary')).body.tokens.total);
    near(body.costUsd, expected.costUsd);
    expectClimate(body, expected.climate);
    expect(BigInt(body.at!.position)).toBeLessThanOrEqual(BigInt(mid));
    expect(body.sessions).toBeLessThan(4);
    // An ISO time is a point too: the last event's time answers as now.
    const atTime = (await getJson<Summary>(server.url, `api/summary?at=${encodeURIComponent(range.last.time)}`)).body;
    expect(atTime.tokens).toEqual((await getJson<Summary>(server.url, 'api/summary')).body.tokens);
  });

  it('GET /api/summary?session=: one session\'s ledger and `climate <id> --json` totals', async () => {
    const id = sessions['council']!;
    const { body } = await getJson<Summary>(server.url, `api/summary?session=${id}`);
    const { ledger } = await cliJson<{ ledger: { usage: { total: { inputTokens: number; outputTokens: number; costUsd: number; calls: number } } } }>(['ledger', id, '--store', uri]);
    const climate = await cliJson<ClimateJson>(['climate', id, '--store', uri]);
    expect(body.sessions).toBe(1);
    expect(body.tokens.total).toBe(ledger.usage.total.inputTokens + ledger.usage.total.outputTokens);
    expect(body.calls).toBe(ledger.usage.total.calls);
    expectClimate(body, climate.totals.all);
    expect(body.shares).toEqual({ globalSouthTokens: 1, climatePurposeTokens: 1 });
  });

  it('GET /api/sessions: each session folded as `sessions --json` does, cut at the point', async () => {
    const { body } = await getJson<Row[]>(server.url, 'api/sessions');
    const listed = (await cli(['sessions', '--json', '--store', uri])).out.split('\n').map((l) => JSON.parse(l) as Row);
    expect(body.map((r) => r.sessionId)).toEqual(listed.map((r) => r.sessionId));
    for (const row of body) {
      const cliRow = listed.find((r) => r.sessionId === row.sessionId)!;
      expect(Object.keys(row).sort()).toEqual(['handOffs', 'lastEventAt', 'mode', 'priority', 'purpose', 'region', 'sessionId', 'startedAt', 'status', 'tokens', 'turns']);
      expect(row).toMatchObject({ status: cliRow.status, mode: cliRow.mode, region: cliRow.region, purpose: cliRow.purpose, priority: cliRow.priority, turns: cliRow.turns, handOffs: cliRow.handOffs, startedAt: cliRow.startedAt, lastEventAt: cliRow.lastEventAt });
      expect(row.tokens).toBeGreaterThan(0);
    }
    expect(Object.fromEntries(body.map((r) => [r.sessionId, r.mode]))).toMatchObject({ [sessions['emergency']!]: 'emergency', [sessions['express']!]: 'express', [sessions['council']!]: 'council' });
    expect(body.every((r) => r.status === 'ready')).toBe(true);
    // Mid-way through the first session's turn: it alone exists, running.
    const started = (await getJson<Row[]>(server.url, `api/sessions?at=${encodeURIComponent(body[0]!.startedAt!)}`)).body;
    expect(started.map((r) => r.sessionId)).toEqual([sessions['emergency']]);
  });

  it('GET /api/sessions/:id?at=: actors as `replay --json` gives them, tiers, ledger, climate calls and the timeline', async () => {
    const id = sessions['emergency']!;
    const all = (await getJson<{ timeline: Point[] }>(server.url, `api/sessions/${id}`)).body.timeline;
    const mid = all[Math.floor(all.length / 2)]!.position;
    const { status, body } = await getJson<{
      sessionId: string; at: Point; actors: { streamId: string; kind: string; value: unknown; status: string; revision: string | null }[];
      sessionState: { hot: { kind: string; text: string; tokens: number }[]; warm: unknown[]; cold: { count: number; tokens: number } };
      ledger: Record<string, unknown>; climateCalls: { position: string; streamId: string; model: string; outputTokens: number; energyWh: Spread; usageGco2e: Spread; embodiedGco2e: Spread; trueCostUsd: number }[];
      timeline: { position: string; time: string; stream: string; type: string; summary: string }[]; links: { audit: string; inspector: string };
    }>(server.url, `api/sessions/${id}?at=${mid}`);
    expect(status).toBe(200);
    expect(body.at.position).toBe(mid);
    const replayed = await cliJson<{ actors: { streamId: string; actorKind: string; value: unknown; status: string; revision: string | null }[] }>(['replay', id, '--at', mid, '--store', uri]);
    // replay also lists actors whose streams begin after the point (revision null); they did not exist yet.
    const byStream = (a: { streamId: string }, b: { streamId: string }) => (a.streamId < b.streamId ? -1 : 1);
    expect(body.actors[0]!.kind).toBe('session');
    expect([...body.actors].sort(byStream)).toEqual(replayed.actors.filter((a) => a.revision !== null).sort(byStream).map((a) => ({ streamId: a.streamId, kind: a.actorKind, value: a.value, status: a.status, revision: a.revision })));
    expect(body.actors.map((a) => a.kind)).toContain('agent');
    expect(body.sessionState.hot.length).toBeGreaterThan(0);
    expect(body.sessionState.hot[0]).toEqual({ kind: expect.any(String), text: expect.any(String), tokens: expect.any(Number) });
    expect(Object.keys(body.ledger).sort()).toEqual(['balances', 'loans', 'reconciled', 'reservations', 'usage']);
    expect(body.timeline.map((e) => e.position)).toEqual(all.map((e) => e.position).filter((p) => BigInt(p) <= BigInt(mid)));
    expect(body.timeline.every((e) => e.summary.length <= 120 && e.type.length > 0 && e.stream.length > 0)).toBe(true);
    const climate = await cliJson<ClimateJson>(['climate', id, '--at', mid, '--store', uri]);
    expect(body.climateCalls.map((c) => c.position)).toEqual(climate.calls.map((c) => c.position));
    expect(body.links).toEqual({ audit: `chronicle audit ${id}`, inspector: `chronicle inspect ${id}` });
  });

  it('GET /api/series: cumulative tokens and gCO2e per agent role, region and purpose, summing to the climate totals', async () => {
    const climate = await cliJson<ClimateJson>(['climate', '--all', '--store', uri]);
    for (const by of ['agent', 'region', 'purpose'] as const) {
      const { body } = await getJson<{ by: string; series: { key: string; points: { position: string; time: string; tokens: number; gco2e: number }[] }[] }>(server.url, `api/series?by=${by}`);
      expect(body.by).toBe(by);
      expect(body.series.reduce((n, s) => n + s.points.length, 0)).toBe(climate.totals.all.calls);
      near(body.series.reduce((g, s) => g + s.points.at(-1)!.gco2e, 0), climate.totals.all.usageGco2e.central);
      for (const { points } of body.series) {
        for (let i = 1; i < points.length; i++) {
          expect(points[i]!.tokens).toBeGreaterThan(points[i - 1]!.tokens);
          expect(BigInt(points[i]!.position)).toBeGreaterThan(BigInt(points[i - 1]!.position));
        }
      }
      if (by === 'region') expect(body.series.map((s) => s.key).sort()).toEqual(['BD', 'DE', 'KE']);
      if (by === 'agent') expect(body.series.map((s) => s.key)).toEqual(expect.arrayContaining(['hydrologist', 'synthesiser']));
    }
    const early = (await getJson<{ series: { points: unknown[] }[] }>(server.url, 'api/series?by=purpose&at=1')).body;
    expect(early.series).toEqual([]);
  });

  it('refuses bad parameters with 400 naming the parameter, unknown sessions and routes with 404, writes with 405', async () => {
    const cases: [string, number, RegExp][] = [
      ['api/summary?at=banana', 400, /^at: "banana" is neither/],
      ['api/summary?at=-1', 400, /^at: /],
      ['api/sessions?at=2026-13-45', 400, /^at: /],
      ['api/series?by=colour', 400, /^by: one of agent, region, purpose/],
      ['api/series', 400, /^by: /],
      ['api/summary?at=1&at=2', 400, /^at: /],
      ['api/sessions?colour=red', 400, /^colour: /],
      ['api/summary?session=nobody', 404, /nobody/],
      ['api/sessions/nobody', 404, /nobody/],
      ['api/sessions/nobody?at=banana', 400, /^at: /],
      ['api/nothing', 404, /nothing/],
    ];
    for (const [path, status, error] of cases) {
      const response = await getJson<{ error: string }>(server.url, path);
      expect([path, response.status]).toEqual([path, status]);
      expect(response.body.error).toMatch(error);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(new URL('api/sessions', server.url), { method, body: method === 'DELETE' ? null : '{}' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect((await response.json() as { error: string }).error).toMatch(/read-only/);
    }
  });

  it('serves the built page with content types, and nothing outside it', async () => {
    const index = await fetch(server.url);
    expect([index.status, index.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await index.text()).toContain('<title>Chronicle</title>');
    const asset = await fetch(new URL('assets/main-abc.js', server.url));
    expect([asset.status, asset.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/missing.js']) {
      // fetch normalises `..` in paths; a raw request line shows what the server itself does.
      const status = await rawStatus(server.url, path);
      expect([path, status]).toEqual([path, 404]);
    }
  });

  it('GET /api/live: hello with the last position, then `appended` for each event another writer records', async () => {
    const controller = new AbortController();
    const response = await fetch(new URL('api/live', server.url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const range = (await getJson<{ last: Point }>(server.url, 'api/range')).body;
    const reading = readEvents(response.body!, (events) => events.some((e) => e.event === 'appended' && (e.data as { type: string }).type === 'turn.completed'));
    const { code, out } = await cli(['run', ...QUERIES.express, '--store', uri]);
    expect(code).toBe(0);
    const sessionId = /session ([0-9a-z-]+), turn/.exec(out)![1]!;
    const events = await reading;
    controller.abort();
    expect(events[0]).toEqual({ event: 'hello', data: { last: range.last.position } });
    const appended = events.slice(1).map((e) => e.data as { position: string; stream: string; type: string; sessionId: string });
    expect(appended.length).toBeGreaterThan(3);
    expect(appended.every((e) => e.sessionId === sessionId && /^\d+$/.test(e.position))).toBe(true);
    expect(BigInt(appended[0]!.position)).toBe(BigInt(range.last.position) + 1n);
    expect(appended.map((e) => e.type)).toEqual(expect.arrayContaining(['session.started', 'query.received', 'model.responded', 'turn.completed']));
  });

  it('`chronicle dashboard` prints where it listens, warns off loopback, serves until stopped, refuses a bad port', async () => {
    const out: string[] = [];
    const warnings: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((resolve) => { stop = resolve; });
    let printed!: (line: string) => void;
    const url = new Promise<string>((resolve) => { printed = resolve; });
    const running = dashboardCommand(['--port', '0', '--host', '0.0.0.0', '--store', uri], { out: (l) => { out.push(l); printed(l); }, warn: (l) => warnings.push(l) }, until);
    const line = await url;
    expect(line).toMatch(/^Chronicle dashboard on http:\/\/0\.0\.0\.0:\d+\/$/);
    expect(warnings.join('\n')).toMatch(/no authentication/);
    const port = /:(\d+)\/$/.exec(line)![1]!;
    expect((await getJson<{ sessions: number }>(`http://127.0.0.1:${port}/`, 'api/range')).body.sessions).toBeGreaterThanOrEqual(4);
    stop();
    expect(await running).toBe(0);
    await expect(dashboardCommand(['--port', '70000'], { out: () => undefined, warn: () => undefined })).rejects.toThrow(UsageError);
    await expect(dashboardCommand(['--port', '70000'], { out: () => undefined, warn: () => undefined })).rejects.toThrow(/--port/);
  });
});

async function rawStatus(base: string, path: string): Promise<number> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => { res.resume(); done(res.statusCode!); });
    req.on('error', fail);
    req.end();
  });
}
