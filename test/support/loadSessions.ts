import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { verifyChain } from '../../src/events/hashChain.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';

const QUERIES = [
  { text: 'Which mangrove species protect a delta coast best?', region: 'BD', purpose: 'climate_adaptation' },
  { text: 'How do I cut the power bill of a data centre in Texas?', region: 'US', purpose: 'general_ai_research' },
  { text: 'Which maize varieties tolerate the short rains?', region: 'KE', purpose: 'sustainable_agriculture' },
];

export interface LoadReport {
  sessions: number;
  answered: number;
  events: number;
  ms: number;
  rssMiB: number;
  problems: string[];
}

/**
 * `sessions` sessions started and asked at once in one process, on the scripted model, then every one checked from
 * the log: each answered, no ledger overspent (every law holds), every stream's chain intact and gap-free (no event
 * lost), and exactly one outcome per model request.
 */
export async function runLoad(store: EventStore, sessions: number, latencyMs = 20): Promise<LoadReport> {
  const resolve = modelResolver(systemClock);
  const runtime = new ActorRuntime({ store, models: resolve });
  const config = agentConfigFor({ model: `scripted:latency=${latencyMs},seed=9` }, resolve);
  const started = performance.now();
  let outcomes;
  try {
    outcomes = await Promise.all(Array.from({ length: sessions }, async (_, i) => {
      const id = `load${i}`;
      await startSession(runtime, id, config);
      return askInSession(runtime, id, QUERIES[i % QUERIES.length]!);
    }));
    await runtime.settled();
  } finally {
    runtime.stop();
  }
  const ms = performance.now() - started;
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  const log = await collect(store.readAll());
  const problems: string[] = [];
  const chain = verifyChain(log);
  if (!chain.ok) problems.push(`hash chain: ${chain.message}`);
  const byStream = Map.groupBy(log, (e: RecordedEvent) => e.streamId);
  for (const [streamId, events] of byStream) {
    if (streamId.startsWith('ledger-')) {
      const violations = ledgerViolations(events.reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState));
      if (violations.length > 0) problems.push(`${streamId}: ${violations.join('; ')}`);
    }
  }
  const requested = log.filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
  const answered = new Map<string, number>();
  for (const e of log) if (e.type === 'model.responded' || e.type === 'model.failed') answered.set((e.data as { requestId: string }).requestId, (answered.get((e.data as { requestId: string }).requestId) ?? 0) + 1);
  for (const id of requested) if (answered.get(id) !== 1) problems.push(`model request ${id} has ${answered.get(id) ?? 0} outcomes`);
  const done = outcomes.filter((o) => o.status === 'answered').length;
  if (done !== sessions) problems.push(`${sessions - done} of ${sessions} sessions were not answered`);
  return { sessions, answered: done, events: log.length, ms, rssMiB, problems };
}
