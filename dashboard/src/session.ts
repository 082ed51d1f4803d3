import type { SessionDetail } from './api.ts';
import { h, keyValueTable, table } from './dom.ts';
import { cell, central, exp, fixed4, statePath } from './format.ts';

const INSPECTOR_URL = 'http://127.0.0.1:8080/';

/** Text of a link the API gives either as a string or as { command, url }. */
function linkText(link: unknown, fallback: string): string {
  if (typeof link === 'string') return link;
  if (link && typeof link === 'object') {
    const l = link as Record<string, unknown>;
    for (const key of ['command', 'cli', 'text']) if (typeof l[key] === 'string') return l[key] as string;
  }
  return fallback;
}
function linkUrl(link: unknown, fallback: string): string {
  if (link && typeof link === 'object') {
    const url = (link as Record<string, unknown>)['url'];
    if (typeof url === 'string' && /^https?:\/\//.test(url)) return url;
  }
  return fallback;
}

function usageEntries(usage: unknown): [string, string][] {
  if (!usage || typeof usage !== 'object') return [];
  const u = usage as Record<string, unknown>;
  const rows: [string, string][] = [];
  const total = (u['total'] ?? u) as Record<string, unknown>;
  for (const [k, v] of Object.entries(total)) if (typeof v !== 'object') rows.push([`total ${k}`, cell(v)]);
  for (const group of ['byAgent', 'byModel']) {
    const g = u[group];
    if (g && typeof g === 'object') for (const [name, v] of Object.entries(g as Record<string, Record<string, unknown>>)) {
      rows.push([`${group === 'byAgent' ? 'agent' : 'model'} ${name}`, Object.entries(v).map(([k, x]) => `${k} ${cell(x)}`).join(', ')]);
    }
  }
  return rows;
}

export function renderSession(detail: SessionDetail): HTMLElement {
  const id = detail.sessionId;
  const auditCommand = linkText(detail.links?.audit, `chronicle audit ${id}`);
  const inspectCommand = linkText(detail.links?.inspector, `chronicle inspect ${id}`);
  const s = detail.sessionState;
  return h('div', { class: 'session-body' },
    h('section', { 'aria-labelledby': 'actors-heading' },
      h('h3', { id: 'actors-heading' }, 'Actors'),
      table('Each actor’s current state', ['stream', 'kind', 'state', 'status', 'revision'],
        detail.actors.map((a) => [a.streamId, a.kind, h('code', { 'data-testid': 'actor-state', 'data-stream': a.streamId }, statePath(a.value)), a.status, String(a.revision)]),
        { 'data-testid': 'session-actors' })),
    h('section', { 'aria-labelledby': 'tiers-heading' },
      h('h3', { id: 'tiers-heading' }, 'Tiered session state'),
      h('div', { class: 'tiers' },
        table(`Hot (${s.hot.length})`, ['kind', 'text', 'tokens'], s.hot.map((i) => [i.kind, i.text, String(i.tokens)]), { 'data-testid': 'session-hot' }),
        table(`Warm (${s.warm.length})`, ['kind', 'text', 'tokens'], s.warm.map((i) => [i.kind, i.text, String(i.tokens)]), { 'data-testid': 'session-warm' }),
        h('p', { 'data-testid': 'session-cold', 'data-value': s.cold.count }, `Cold: ${s.cold.count} item(s), ${s.cold.tokens} tokens`))),
    h('section', { 'aria-labelledby': 'ledger-heading' },
      h('h3', { id: 'ledger-heading' }, 'Token ledger'),
      h('div', { class: 'tiers' },
        keyValueTable('Balances (tokens)', Object.entries(detail.ledger.balances ?? {}).map(([k, v]) => [k, cell(v)]), { 'data-testid': 'ledger-balances' }),
        keyValueTable('Usage', usageEntries(detail.ledger.usage), { 'data-testid': 'ledger-usage' }),
        keyValueTable('Reservations', Object.entries(detail.ledger.reservations ?? {}).map(([k, v]) => [k, cell(v)]), { 'data-testid': 'ledger-reservations' }),
        keyValueTable('Loans', Object.entries(detail.ledger.loans ?? {}).map(([k, v]) => [k, cell(v)]), { 'data-testid': 'ledger-loans' }),
        keyValueTable('Reconciled', detail.ledger.reconciled && typeof detail.ledger.reconciled === 'object'
          ? Object.entries(detail.ledger.reconciled as Record<string, unknown>).map(([k, v]) => [k, cell(v)])
          : [['reconciled', cell(detail.ledger.reconciled)]]))),
    h('section', { 'aria-labelledby': 'calls-heading' },
      h('h3', { id: 'calls-heading' }, 'Model calls: climate'),
      table('Per call (central estimates)', ['position', 'stream', 'model', 'output tokens', 'energy (Wh)', 'usage (g CO2e)', 'embodied (g CO2e)', 'true cost (USD)'],
        detail.climateCalls.map((c) => [c.position, c.streamId, c.model, String(c.outputTokens), fixed4(central(c.energyWh)), fixed4(central(c.usageGco2e)), fixed4(central(c.embodiedGco2e)), exp(central(c.trueCostUsd))]),
        { 'data-testid': 'session-calls' })),
    h('section', { 'aria-labelledby': 'timeline-heading' },
      h('h3', { id: 'timeline-heading' }, 'Timeline'),
      h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Timeline (scrolls)' },
        table(`${detail.timeline.length} event(s), in global order`, ['position', 'time', 'stream', 'type', 'summary'],
          detail.timeline.map((e) => [e.position, e.time, e.stream, h('code', {}, e.type), e.summary]),
          { 'data-testid': 'session-timeline' }))),
    h('section', { 'aria-labelledby': 'links-heading' },
      h('h3', { id: 'links-heading' }, 'Audit and inspection'),
      h('ul', { class: 'links' },
        h('li', {}, 'Audit: ', h('code', { 'data-testid': 'link-audit' }, auditCommand)),
        h('li', {}, 'Open in Stately inspector: run ', h('code', { 'data-testid': 'link-inspect' }, inspectCommand), ', then ',
          h('a', { href: linkUrl(detail.links?.inspector, INSPECTOR_URL), target: '_blank', rel: 'noopener', 'data-testid': 'link-inspector' }, `open ${linkUrl(detail.links?.inspector, INSPECTOR_URL)}`)))));
}
