import { getJson, type Range, type SeriesBy, type Series, type SessionDetail, type SessionRow, type Summary } from './api.ts';
import { SeriesCharts } from './charts.ts';
import { byId, h } from './dom.ts';
import { cell, exp, integer, percent, signed, spread, usd } from './format.ts';
import { renderSession } from './session.ts';

/** What the page shows: a point (null = the latest), a session (null = the whole store), the series grouping, live or not. */
interface View { at: string | null; session: string | null; by: SeriesBy; live: boolean }

const view: View = readHash();
let range: Range = { first: null, last: null, sessions: 0 };
let generation = 0;
let live: EventSource | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

const main = byId('dashboard');
const status = byId('status');
const slider = byId<HTMLInputElement>('at-position');
const sliderLabel = byId('at-position-value');
const timeInput = byId<HTMLInputElement>('at-time');
const liveToggle = byId<HTMLInputElement>('live');
const bySelect = byId<HTMLSelectElement>('series-by');
const charts = new SeriesCharts(
  { tokens: byId<HTMLCanvasElement>('chart-tokens'), gco2e: byId<HTMLCanvasElement>('chart-gco2e') },
  { tokens: byId('chart-tokens-table'), gco2e: byId('chart-gco2e-table') },
);

function readHash(): View {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const by = params.get('by');
  return {
    at: params.get('at') || null,
    session: params.get('session') || null,
    by: by === 'region' || by === 'purpose' ? by : 'agent',
    live: params.get('live') === '1',
  };
}

function writeHash(): void {
  const params = new URLSearchParams();
  if (view.session) params.set('session', view.session);
  if (view.at) params.set('at', view.at);
  if (view.by !== 'agent') params.set('by', view.by);
  if (view.live) params.set('live', '1');
  const hash = params.toString();
  history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
}

function say(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

/** Where the view stands: "position N (time)" from the summary's own `at` when it says, else from the range. */
function describeAt(summaryAt: unknown): string {
  const at = summaryAt as { position?: string | null; time?: string | null } | string | null | undefined;
  let position: string | null | undefined;
  let time: string | null | undefined;
  if (at && typeof at === 'object') { position = at.position; time = at.time; }
  if (!position) position = view.at && /^\d+$/.test(view.at) ? view.at : view.at ? null : range.last?.position;
  if (!time) time = view.at && !/^\d+$/.test(view.at) ? view.at : position === range.last?.position ? range.last?.time : undefined;
  if (!position && !time) return 'as of the start (the store is empty)';
  return `as of position ${position ?? '?'}${time ? ` (${time})` : ''}${view.at ? '' : ' — latest'}`;
}

function figure(testid: string, label: string, value: number, text: string, extra: Record<string, string | number> = {}, ...more: (Node | string)[]): HTMLElement {
  return h('div', { class: 'figure' },
    h('dt', {}, label),
    h('dd', { 'data-testid': testid, 'data-value': String(value), ...extra }, text, ...more));
}

function renderHeadline(s: Summary): void {
  const t = s.trueCostUsd;
  const term = (testid: string, name: string, value: number) => h('li', {}, `${name} `, h('span', { 'data-testid': testid, 'data-value': String(value) }, signed(value)));
  byId('headline-scope').textContent = view.session ? `Session ${view.session}` : 'All sessions';
  byId('headline').replaceChildren(
    figure('headline-sessions', 'Sessions', s.sessions, integer(s.sessions)),
    figure('headline-calls', 'Model calls', s.calls, integer(s.calls)),
    figure('headline-tokens', 'Tokens (input + output)', s.tokens.total, `${integer(s.tokens.total)} tokens`, { 'data-input': s.tokens.input, 'data-output': s.tokens.output },
      h('small', {}, ` ${integer(s.tokens.input)} in, ${integer(s.tokens.output)} out`)),
    figure('headline-cost', 'Cost (USD)', s.costUsd, usd(s.costUsd)),
    figure('headline-energy', 'Energy (Wh, central (min–max))', s.energyWh.central, `${spread(s.energyWh)} Wh`, { 'data-min': s.energyWh.min, 'data-max': s.energyWh.max }),
    figure('headline-gco2e-usage', 'Usage emissions (g CO2e)', s.gco2e.usage.central, `${spread(s.gco2e.usage)} g`, { 'data-min': s.gco2e.usage.min, 'data-max': s.gco2e.usage.max }),
    figure('headline-gco2e-embodied', 'Embodied emissions (g CO2e)', s.gco2e.embodied.central, `${spread(s.gco2e.embodied)} g`, { 'data-min': s.gco2e.embodied.min, 'data-max': s.gco2e.embodied.max }),
    figure('headline-true-cost', 'True cost (USD)', t.total, `$${exp(t.total)}`, {},
      h('ul', { class: 'terms', 'aria-label': 'true cost terms' },
        term('headline-true-cost-energy', 'energy', t.energyCost),
        term('headline-true-cost-carbon', 'carbon', t.carbonCost),
        term('headline-true-cost-renewable', 'renewable discount', t.renewableDiscount),
        term('headline-true-cost-justice', 'justice adjustment', t.justiceAdjustment))),
    figure('headline-share-global-south', 'Tokens to the Global South', s.shares.globalSouthTokens, percent(s.shares.globalSouthTokens)),
    figure('headline-share-climate', 'Tokens to climate purposes', s.shares.climatePurposeTokens, percent(s.shares.climatePurposeTokens)),
  );
}

function renderSessions(rows: SessionRow[]): void {
  const body = rows.map((r) => h('tr', { 'data-testid': 'session-row', 'data-session-id': r.sessionId, 'aria-current': r.sessionId === view.session ? 'true' : undefined },
    h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', 'data-session-id': r.sessionId, 'aria-label': `Open session ${r.sessionId}` }, r.sessionId)),
    h('td', {}, r.status), h('td', {}, cell(r.mode)), h('td', {}, cell(r.region)), h('td', {}, cell(r.purpose)),
    h('td', { class: 'num' }, cell(r.priority)), h('td', { class: 'num' }, cell(r.turns)), h('td', { class: 'num' }, cell(r.tokens)), h('td', { class: 'num' }, cell(r.handOffs)),
    h('td', {}, cell(r.lastEventAt))));
  byId('sessions-body').replaceChildren(...(body.length > 0 ? body : [h('tr', {}, h('td', { colspan: 10, class: 'empty' }, 'no session as of this point'))]));
}

function renderSlider(summaryAt: unknown): void {
  const first = range.first ? Number(range.first.position) : 0;
  const last = range.last ? Number(range.last.position) : 0;
  slider.min = String(first);
  slider.max = String(last);
  slider.disabled = !range.last;
  const at = summaryAt && typeof summaryAt === 'object' ? (summaryAt as { position?: string | null }).position : undefined;
  const position = view.at && /^\d+$/.test(view.at) ? view.at : at ?? (view.at ? null : range.last?.position);
  if (position) slider.value = position;
  sliderLabel.textContent = describeAt(summaryAt);
  if (document.activeElement !== timeInput) timeInput.value = view.at && !/^\d+$/.test(view.at) ? view.at : '';
}

/** Re-renders everything as of the view's point; an older request that answers late is dropped. */
async function refresh(): Promise<void> {
  const mine = ++generation;
  main.setAttribute('aria-busy', 'true');
  say('Loading…');
  try {
    const at = view.at;
    const [r, summary, sessions, series, detail] = await Promise.all([
      getJson<Range>('/api/range'),
      getJson<Summary>('/api/summary', { at, session: view.session }),
      getJson<SessionRow[]>('/api/sessions', { at }),
      getJson<Series>('/api/series', { by: view.by, at }),
      view.session ? getJson<SessionDetail>(`/api/sessions/${encodeURIComponent(view.session)}`, { at }) : Promise.resolve(null),
    ]);
    if (mine !== generation) return;
    range = r;
    renderSlider(summary.at);
    renderHeadline(summary);
    renderSessions(sessions);
    charts.render(series);
    const section = byId('session-section');
    if (detail) {
      section.hidden = false;
      byId('session-heading').textContent = `Session ${detail.sessionId}`;
      byId('session-detail').replaceChildren(renderSession(detail));
    } else {
      section.hidden = true;
      byId('session-detail').replaceChildren();
    }
    main.dataset['renderedAt'] = at ?? '';
    main.dataset['renderedSession'] = view.session ?? '';
    main.dataset['lastPosition'] = range.last?.position ?? '';
    say(`Showing ${view.session ? `session ${view.session}` : 'all sessions'} ${describeAt(summary.at)}.${view.live ? ' Live.' : ''}`);
  } catch (error) {
    if (mine !== generation) return;
    say(`Could not load the dashboard: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    if (mine === generation) main.removeAttribute('aria-busy');
  }
}

function scheduleRefresh(delayMs = 250): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { void refresh(); }, delayMs);
}

function setAt(at: string | null): void {
  view.at = at;
  if (at !== null && view.live) setLive(false);
  writeHash();
}

function setLive(on: boolean): void {
  view.live = on;
  liveToggle.checked = on;
  live?.close();
  live = null;
  if (on) {
    view.at = null;
    live = new EventSource('api/live');
    // Each appended event re-fetches, debounced: a turn appends many events in a burst.
    live.addEventListener('hello', () => scheduleRefresh(0));
    live.addEventListener('appended', () => scheduleRefresh());
    live.addEventListener('error', () => { if (view.live) say('Live connection lost; retrying…', true); });
  }
  byId('live-state').textContent = on ? 'following new events' : 'off';
  writeHash();
}

slider.addEventListener('input', () => {
  setAt(slider.value);
  sliderLabel.textContent = `as of position ${slider.value}…`;
  scheduleRefresh(150);
});
byId<HTMLFormElement>('time-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = timeInput.value.trim();
  if (text === '') { setAt(null); void refresh(); return; }
  if (Number.isNaN(Date.parse(text))) { say(`“${text}” is not an ISO 8601 time, e.g. 2026-01-31T12:00:00Z`, true); return; }
  setAt(new Date(text).toISOString());
  void refresh();
});
byId('at-latest').addEventListener('click', () => { setAt(null); void refresh(); });
liveToggle.addEventListener('change', () => { setLive(liveToggle.checked); void refresh(); });
bySelect.addEventListener('change', () => { view.by = bySelect.value as SeriesBy; writeHash(); void refresh(); });
byId('sessions-body').addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-session-id]');
  if (!button) return;
  view.session = button.dataset['sessionId'] ?? null;
  writeHash();
  void refresh().then(() => byId('session-section').scrollIntoView({ block: 'start' }));
});
byId('session-close').addEventListener('click', () => { view.session = null; writeHash(); void refresh(); });

bySelect.value = view.by;
if (view.live) setLive(true);
void refresh();
