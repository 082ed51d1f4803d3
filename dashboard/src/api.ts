/** The dashboard's JSON API (served by `chronicle dashboard` on the page's own origin). Positions are decimal strings. */

export interface Point { position: string; time: string }
export interface Range { first: Point | null; last: Point | null; sessions: number }
export interface Spread { central: number; min: number; max: number }

export interface Summary {
  at: unknown;
  sessions: number;
  tokens: { input: number; output: number; total: number };
  costUsd: number;
  calls: number;
  energyWh: Spread;
  gco2e: { usage: Spread; embodied: Spread };
  trueCostUsd: { total: number; energyCost: number; carbonCost: number; renewableDiscount: number; justiceAdjustment: number };
  shares: { globalSouthTokens: number; climatePurposeTokens: number };
}

export interface SessionRow {
  sessionId: string; status: string; mode: string | null; region: string | null; purpose: string | null;
  priority: number | null; turns: number; tokens: number; handOffs: number; startedAt: string | null; lastEventAt: string | null;
}

export interface Actor { streamId: string; kind: string; value: unknown; status: string; revision: string | number }
export interface TierItem { kind: string; text: string; tokens: number }
export interface ClimateCall {
  position: string; streamId: string; model: string; outputTokens: number;
  energyWh: Spread | number; usageGco2e: Spread | number; embodiedGco2e: Spread | number; trueCostUsd: number | { total: number };
}
export interface TimelineEntry { position: string; time: string; stream: string; type: string; summary: string }

export interface SessionDetail {
  sessionId: string;
  at: unknown;
  actors: Actor[];
  sessionState: { hot: TierItem[]; warm: TierItem[]; cold: { count: number; tokens: number } };
  ledger: { balances: Record<string, number>; reservations: Record<string, unknown>; usage: unknown; loans: Record<string, unknown>; reconciled: unknown };
  climateCalls: ClimateCall[];
  timeline: TimelineEntry[];
  links: { audit?: unknown; inspector?: unknown };
}

export type SeriesBy = 'agent' | 'region' | 'purpose';
export interface SeriesPoint { position: string; time: string; tokens: number; gco2e: number }
export interface Series { by: SeriesBy; series: { key: string; points: SeriesPoint[] }[] }

export interface Query { at?: string | null; session?: string | null; by?: string }

export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const search = params.toString();
  // Relative to the page, so the dashboard works under any mount point.
  return `${path.replace(/^\//, '')}${search ? `?${search}` : ''}`;
}

export async function getJson<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
  const response = await fetch(apiUrl(path, query), { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { const body = await response.json() as { error?: string }; if (body.error) message = body.error; } catch { /* not JSON */ }
    throw new Error(`${path}: ${message}`);
  }
  return await response.json() as T;
}
