import type { MemoryEvent } from '../../projections/sessionMemory/index.ts';

/** Hand-made events (only what the memory fold reads), for cases a recorded run reaches slowly: caps, hand-offs. */
export function syntheticLog() {
  const events: MemoryEvent[] = [];
  let position = 0n;
  const received = new Map<string, number>();
  const add = (sessionId: string, type: string, data: unknown) => {
    // Turns are numbered as the session machine numbers them: by the queries received before.
    if (type === 'query.received') received.set(sessionId, (received.get(sessionId) ?? 0) + 1);
    events.push({ type, data, position: position++, metadata: { sessionId } });
  };
  return {
    events,
    add,
    /** One turn, from its query to its reconciliation. */
    turn(sessionId: string, text: string, o: { region?: string; purpose?: string; mode?: 'express' | 'council'; actual: number; budgeted?: number; status?: 'answered' | 'failed' }) {
      const turn = received.get(sessionId) ?? 0;
      const mode = o.mode ?? 'express';
      add(sessionId, 'query.received', { text, region: o.region ?? 'KE', purpose: o.purpose ?? 'climate_adaptation' });
      add(sessionId, 'triage.decided', { turn, decision: { mode, roles: mode === 'express' ? ['express'] : ['analyst', 'critic'], confidence: 0.6 } });
      add(sessionId, 'turn.completed', { turn, status: o.status ?? 'answered', mode, agents: [] });
      add(sessionId, 'budget.reconciled', { turn, estimated: o.budgeted ?? 1_000, actual: o.actual, errorPct: 0, mode, roles: 1, confidence: 0.6, budgeted: o.budgeted ?? 1_000 });
    },
  };
}
