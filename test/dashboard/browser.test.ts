import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/store/openEventStore.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { chronicle, close, ensureDashboardBuilt, jsonLines, launchChromium, root, startServer, type DashboardServer } from './browserHarness.ts';

/**
 * The dashboard in a real (headless) Chromium against `chronicle dashboard`'s server: the headline figures are the
 * CLI's, the slider restates them as of a position, a session opens with its actors and timeline, Live follows a
 * turn another process records, and a screenshot is kept in test-artifacts/dashboard.png.
 */

interface Totals { tokens: number; costUsd: number; energyWh: number; usage: number; embodied: number; trueCost: number; terms: Record<string, number> }
type Spread = { central: number; min: number; max: number };
interface ClimateJson { totals: { all: { energyWh: Spread; usageGco2e: Spread; embodiedGco2e: Spread; trueCostUsd: Record<string, number> } } }
interface LedgerUsage { usage: { total: { inputTokens: number; outputTokens: number; costUsd: number } } }

const QUERIES = {
  express: ['Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation'],
  council: ['What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya\'s Machakos County adopt, and how should they sequence the investments over three seasons?', '--region', 'KE', '--purpose', 'sustainable_agriculture'],
  emergency: ['Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, and list the first three steps.', '--region', 'BD', '--purpose', 'climate_adaptation'],
  live: ['How fast do mangroves grow?', '--region', 'KE', '--purpose', 'sustainable_agriculture'],
};

/** An XState state value as the page writes it: "turn.council.deliberating", parallel regions joined with ", ". */
function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
    child && typeof child === 'object' && Object.keys(child).length > 0 ? statePath(child).split(', ').map((p) => `${key}.${p}`) : [typeof child === 'string' ? `${key}.${child}` : key]).join(', ');
}

describe('dashboard in a browser', () => {
  let dir: string;
  let storeUri: string;
  let store: EventStore;
  let server: DashboardServer;
  let browser: Browser;
  let page: Page;
  const sessionByMode: Record<string, string> = {};
  const pageErrors: string[] = [];

  const cli = (...args: string[]) => chronicle([...args, '--store', storeUri], dir);

  /** Tokens and cost from each session's `ledger --json`, energy, gCO2e and true cost from `climate --all --json`. */
  async function cliTotals(at?: string): Promise<Totals> {
    const point = at === undefined ? [] : ['--at', at];
    const ids = jsonLines(await cli('sessions', '--json')).map((s) => (s as { sessionId: string }).sessionId);
    const ledgers = await Promise.all(ids.map(async (id) => {
      try { return JSON.parse(await cli('ledger', id, ...point, '--json')) as { ledger: LedgerUsage }; } catch { return null; }
    }));
    const climate = JSON.parse(await cli('climate', '--all', ...point, '--json')) as ClimateJson;
    const all = climate.totals.all;
    let tokens = 0; let costUsd = 0;
    for (const l of ledgers) if (l) { tokens += l.ledger.usage.total.inputTokens + l.ledger.usage.total.outputTokens; costUsd += l.ledger.usage.total.costUsd; }
    return { tokens, costUsd, energyWh: all.energyWh.central, usage: all.usageGco2e.central, embodied: all.embodiedGco2e.central, trueCost: all.trueCostUsd['total'] ?? NaN, terms: all.trueCostUsd };
  }

  const figure = async (testid: string): Promise<number> => Number(await page.getByTestId(testid).getAttribute('data-value'));

  /** Waits until the page has rendered the view as of `at` ('' = latest) for `session` ('' = all). */
  async function rendered(at: string, session = ''): Promise<void> {
    await page.waitForSelector(`main[data-rendered-at="${at}"][data-rendered-session="${session}"]:not([aria-busy])`, { timeout: 10_000 });
  }

  async function expectHeadline(expected: Totals): Promise<void> {
    expect(await figure('headline-tokens')).toBe(expected.tokens);
    expect(close(await figure('headline-cost'), expected.costUsd)).toBe(true);
    expect(close(await figure('headline-energy'), expected.energyWh)).toBe(true);
    expect(close(await figure('headline-gco2e-usage'), expected.usage)).toBe(true);
    expect(close(await figure('headline-gco2e-embodied'), expected.embodied)).toBe(true);
    expect(close(await figure('headline-true-cost'), expected.trueCost)).toBe(true);
    for (const [testid, term] of [['energy', 'energyCost'], ['carbon', 'carbonCost'], ['renewable', 'renewableDiscount'], ['justice', 'justiceAdjustment']] as const) {
      expect(close(await figure(`headline-true-cost-${testid}`), expected.terms[term] ?? NaN)).toBe(true);
    }
  }

  beforeAll(async () => {
    const built = ensureDashboardBuilt();
    dir = mkdtempSync(join(tmpdir(), 'chronicle-dashboard-'));
    storeUri = `sqlite:${join(dir, 'dashboard.db')}`;
    // Express and council before the flood is declared; then BD's adaptation request is an emergency.
    for (const mode of ['express', 'council'] as const) sessionByMode[mode] = (JSON.parse(await cli('run', ...QUERIES[mode], '--json')) as { sessionId: string }).sessionId;
    await cli('emergency', 'declare', 'BD', '--kind', 'flood');
    sessionByMode['emergency'] = (JSON.parse(await cli('run', ...QUERIES.emergency, '--json')) as { sessionId: string }).sessionId;
    await cli('emergency', 'lift', 'BD');
    store = await openEventStore(storeUri);
    server = await startServer(store);
    [browser] = await Promise.all([launchChromium(), built]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the whole store\'s headline figures exactly as the CLI reports them, and every session', async () => {
    await page.goto(server.url);
    await rendered('');
    const sessions = jsonLines(await cli('sessions', '--json')) as { sessionId: string; mode: string; status: string }[];
    expect(sessions.map((s) => s.mode).sort()).toEqual(['council', 'emergency', 'express']);
    expect(await figure('headline-sessions')).toBe(3);
    await expectHeadline(await cliTotals());
    const rows = page.getByTestId('session-row');
    await expect.poll(() => rows.count()).toBe(3);
    for (const s of sessions) {
      const row = page.locator(`[data-testid="session-row"][data-session-id="${s.sessionId}"]`);
      expect(await row.locator('td').nth(1).textContent()).toBe(s.mode);
      expect(await row.locator('td').nth(0).textContent()).toBe(s.status);
    }
    const shares = [await figure('headline-share-global-south'), await figure('headline-share-climate')];
    for (const share of shares) expect(share).toBeGreaterThan(0);
    expect(await page.getByTestId('headline-tokens').textContent()).toMatch(/^\d+ tokens/);
    // Units on every axis, a legend per series.
    expect(await page.getByTestId('chart-tokens').getAttribute('aria-label')).toMatch(/Tokens by agent: \d+ series/);
    await page.getByLabel('Group by').selectOption('region');
    await expect.poll(() => page.getByTestId('chart-tokens').getAttribute('aria-label')).toMatch(/Tokens by region: [1-9]\d* series/);
    expect(await page.locator('#chart-tokens-table caption').textContent()).toBe('tokens by region');
    expect(pageErrors).toEqual([]);
  });

  it('restates every figure as of the slider\'s position', async () => {
    const range = await (await fetch(new URL('api/range', server.url))).json() as { first: { position: string }; last: { position: string } };
    const mid = String(Math.floor((Number(range.first.position) + Number(range.last.position)) / 2));
    const slider = page.getByTestId('slider');
    expect(await slider.getAttribute('min')).toBe(range.first.position);
    expect(await slider.getAttribute('max')).toBe(range.last.position);
    await slider.fill(mid);
    await rendered(mid);
    expect(await page.getByTestId('slider-label').textContent()).toContain(`as of position ${mid}`);
    const [expected, api] = await Promise.all([
      cliTotals(mid),
      fetch(new URL(`api/summary?at=${mid}`, server.url)).then(async (r) => await r.json() as { tokens: { total: number }; costUsd: number; sessions: number }),
    ]);
    await expectHeadline(expected);
    expect(await figure('headline-tokens')).toBe(api.tokens.total);
    expect(await figure('headline-sessions')).toBe(api.sessions);
    expect(expected.tokens).toBeLessThan((await cliTotals()).tokens);
    // By time: as of the midpoint event's time (events appended in one write share it, so maybe a little later).
    const time = (api as unknown as { at: { time: string } }).at.time;
    await page.getByLabel('Time (ISO 8601)').fill(time);
    await page.getByRole('button', { name: 'Go' }).click();
    await rendered(new Date(time).toISOString());
    const byTime = await (await fetch(new URL(`api/summary?at=${encodeURIComponent(time)}`, server.url))).json() as { at: { position: string; time: string }; tokens: { total: number } };
    expect(await figure('headline-tokens')).toBe(byTime.tokens.total);
    expect(byTime.tokens.total).toBeGreaterThanOrEqual(api.tokens.total);
    expect(await page.getByTestId('slider-label').textContent()).toContain(`as of position ${byTime.at.position} (${byTime.at.time})`);
  });

  it('opens a session: each actor\'s state, the tiered state, the ledger, the timeline and the inspector link', async () => {
    await page.getByRole('button', { name: 'Latest' }).click();
    await rendered('');
    const id = sessionByMode['council']!;
    await page.getByRole('button', { name: `Open session ${id}` }).click();
    await rendered('', id);
    await expect.poll(() => page.getByTestId('session-section').isVisible()).toBe(true);
    const state = JSON.parse(await cli('state', id, '--json')) as { actors: { streamId: string; value: unknown }[]; ledger: LedgerUsage };
    const shown = await page.getByTestId('actor-state').evaluateAll((nodes) => Object.fromEntries(nodes.map((n) => [n.getAttribute('data-stream'), n.textContent])));
    expect(Object.keys(shown).length).toBeGreaterThanOrEqual(4);
    for (const actor of state.actors) expect(shown[actor.streamId], actor.streamId).toBe(statePath(actor.value));
    expect(await page.getByTestId('session-timeline').locator('tbody tr').count()).toBeGreaterThan(10);
    expect(await page.getByTestId('session-timeline').textContent()).toContain('triage.decided');
    expect(await page.getByTestId('session-calls').locator('tbody tr').count()).toBeGreaterThanOrEqual(4);
    expect(await page.getByTestId('ledger-balances').textContent()).toContain('session');
    expect(await page.getByTestId('link-inspect').textContent()).toContain(`chronicle inspect ${id}`);
    expect(await page.getByTestId('link-audit').textContent()).toContain(id);
    expect(await page.getByTestId('link-inspector').getAttribute('href')).toBe('http://127.0.0.1:8080/');
    // The headline is now this session's.
    const usage = state.ledger.usage.total;
    expect(await figure('headline-tokens')).toBe(usage.inputTokens + usage.outputTokens);
    expect(close(await figure('headline-cost'), usage.costUsd)).toBe(true);
    expect(await figure('headline-sessions')).toBe(1);
  });

  it('keeps a screenshot of the page (test-artifacts/dashboard.png)', async () => {
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    const path = join(root, 'test-artifacts', 'dashboard.png');
    await page.screenshot({ path, fullPage: true });
    expect(readFileSync(path).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(statSync(path).size).toBeGreaterThan(10_000);
  });

  it('follows a turn another process records while Live is on', async () => {
    await page.getByRole('button', { name: 'Back to all sessions' }).click();
    await rendered('');
    await page.getByLabel('Live').check();
    await expect.poll(() => page.locator('#live-state').textContent()).toBe('following new events');
    const before = await figure('headline-tokens');
    await cli('run', ...QUERIES.live);
    const expected = (await cliTotals()).tokens;
    expect(expected).toBeGreaterThan(before);
    await expect.poll(() => figure('headline-tokens'), { timeout: 15_000, interval: 100 }).toBe(expected);
    expect(await figure('headline-sessions')).toBe(4);
    await expect.poll(() => page.getByTestId('session-row').count()).toBe(4);
    expect(pageErrors).toEqual([]);
  });
});
