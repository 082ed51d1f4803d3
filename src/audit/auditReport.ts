import { climateListing } from '../../projections/climate/climateListing.ts';
import type { CallRecord } from '../../projections/climate/climateState.ts';
import type { Spread } from '../../projections/climate/spread.ts';
import type { TrueCost } from '../../projections/climate/trueCost.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { defaultFactorSet, factorSetById, factorSetIds } from '../policy/climate/factorSets.ts';
import { ledgerStream } from '../runtime/sessionStreams.ts';
import type { SessionAudit } from './auditSession.ts';
import { decisionOf, shortData, type Decision } from './reportEntries.ts';
import { checkpointEvents, sessionEvents, type SessionLog } from './sessionLog.ts';

export type { Decision };

/** One event of the timeline, its data cut to a line. */
export interface TimelineEntry { position: string; recordedAt: string; streamId: string; revision: string; type: string; data: string }

export interface ModelCall {
  requestId: string;
  streamId: string;
  position: string;
  recordedAt: string;
  turn: number | null;
  model: string;
  attempt: number;
  outcome: 'responded' | 'failed' | 'refused' | 'pending';
  failure: string | null;
  answeredBy: string | null;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number | null;
  /** From the ledger's `tokens.settled`. */
  costUsd: number;
  energyWh: Spread | null;
  usageGco2e: Spread | null;
  embodiedGco2e: Spread | null;
  trueCostUsd: number | null;
}

export interface ReportTotals {
  /** Answered calls, as the ledger settled them. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  energyWh: Spread;
  usageGco2e: Spread;
  embodiedGco2e: Spread;
  trueCostUsd: TrueCost;
}

export interface FactorSetUsed {
  /** As the ledger's `factorSet.adopted` recorded it; null when the session recorded none. */
  recorded: { factorSetId: string; sha256: string; streamId: string; revision: string; position: string } | null;
  /** The set the climate figures were computed with (the recorded one where this build has it, else the default). */
  applied: { id: string; sha256: string };
  /** False when this build's set of the recorded id hashes differently from what was recorded. */
  recordedHashMatches: boolean | null;
}

/** A self-contained account of one session: what happened, what was decided and why, what it cost, and whether the log holds up. */
export interface SessionReport {
  sessionId: string;
  /** The session's events (its own, its agents', its transitions' and its ledger's), and its checkpoints. */
  events: number;
  checkpoints: number;
  streams: string[];
  positions: { first: string | null; last: string | null };
  totals: ReportTotals;
  factorSet: FactorSetUsed;
  timeline: TimelineEntry[];
  decisions: Decision[];
  modelCalls: ModelCall[];
  verification: SessionAudit;
}

const DECISION_TYPES = new Set(['triage.decided', 'priority.assigned', 'budget.estimated']);

/** Builds the report from the log the audit read (so what it shows is what was verified) and the audit's result. */
export function sessionReport(log: SessionLog, audit: SessionAudit): SessionReport {
  const events = sessionEvents(log);
  const checkpoints = checkpointEvents(log);
  const data = (e: RecordedEvent) => e.data as Record<string, unknown>;
  const adopted = events.findLast((e) => e.type === 'factorSet.adopted' && e.streamId === ledgerStream(log.sessionId));
  const recordedId = adopted ? String(data(adopted).factorSetId) : undefined;
  const factors = recordedId !== undefined && factorSetIds.includes(recordedId) ? factorSetById(recordedId) : defaultFactorSet;
  const listing = climateListing(events, factors);
  const climateByRequest = new Map<string, CallRecord>(listing.calls.map((c) => [c.requestId, c]));
  const byRequest = Map.groupBy(events.filter((e) => typeof data(e).requestId === 'string' && e.type !== 'model.requested'), (e) => String(data(e).requestId));

  const modelCalls = events.filter((e) => e.type === 'model.requested').map((request): ModelCall => {
    const d = data(request);
    const related = byRequest.get(String(d.requestId)) ?? [];
    const find = (type: string) => related.find((e) => e.type === type);
    const responded = find('model.responded');
    const failed = find('model.failed');
    const settled = find('tokens.settled');
    const reserved = find('tokens.reserved') ?? find('tokens.refused');
    const climate = climateByRequest.get(String(d.requestId));
    const usage = (responded ? data(responded).usage : settled ? data(settled).usage : undefined) as { inputTokens: number; outputTokens: number } | undefined;
    const failedData = failed ? data(failed) : undefined;
    return {
      requestId: String(d.requestId), streamId: request.streamId, position: String(request.position), recordedAt: request.metadata.recordedAt,
      turn: reserved && typeof data(reserved).turn === 'number' ? data(reserved).turn as number : null,
      model: String(d.model), attempt: Number(d.attempt),
      outcome: responded ? 'responded' : failedData ? (failedData.kind === 'refused' ? 'refused' : 'failed') : 'pending',
      failure: failedData ? `${String(failedData.kind)}: ${String(failedData.reason)}` : null,
      answeredBy: responded ? String(data(responded).model) : null,
      inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0,
      latencyMs: responded ? Number(data(responded).latencyMs) : (failedData?.billed as { latencyMs?: number } | undefined)?.latencyMs ?? null,
      costUsd: settled ? Number(data(settled).costUsd) : 0,
      energyWh: climate?.outputs.energyWh ?? null, usageGco2e: climate?.outputs.usageGco2e ?? null, embodiedGco2e: climate?.outputs.embodiedGco2e ?? null,
      trueCostUsd: climate?.outputs.trueCostUsd.total ?? null,
    };
  });

  const settlements = events.filter((e) => e.type === 'tokens.settled' && e.streamId === ledgerStream(log.sessionId));
  const settledUsage = (e: RecordedEvent) => data(e).usage as { inputTokens: number; outputTokens: number };
  const climateTotals = listing.state.totals.all;
  return {
    sessionId: log.sessionId,
    events: events.length,
    checkpoints: checkpoints.length,
    streams: [...log.streams.keys()].sort(),
    positions: { first: events[0] ? String(events[0].position) : null, last: events.at(-1) ? String(events.at(-1)!.position) : null },
    totals: {
      calls: settlements.length,
      inputTokens: sum(settlements.map((e) => settledUsage(e).inputTokens)),
      outputTokens: sum(settlements.map((e) => settledUsage(e).outputTokens)),
      costUsd: sum(settlements.map((e) => Number(data(e).costUsd))),
      energyWh: climateTotals.energyWh, usageGco2e: climateTotals.usageGco2e, embodiedGco2e: climateTotals.embodiedGco2e, trueCostUsd: climateTotals.trueCostUsd,
    },
    factorSet: {
      recorded: adopted ? { factorSetId: String(data(adopted).factorSetId), sha256: String(data(adopted).sha256), streamId: adopted.streamId, revision: String(adopted.revision), position: String(adopted.position) } : null,
      applied: { id: factors.id, sha256: factors.sha256 },
      recordedHashMatches: adopted && factors.id === recordedId ? factors.sha256 === data(adopted).sha256 : null,
    },
    timeline: events.concat(checkpoints).sort((a, b) => (a.position < b.position ? -1 : 1)).map((e) => ({
      position: String(e.position), recordedAt: e.metadata.recordedAt, streamId: e.streamId, revision: String(e.revision), type: e.type, data: shortData(e),
    })),
    decisions: events.filter((e) => DECISION_TYPES.has(e.type) || e.type.startsWith('transition.')).map(decisionOf),
    modelCalls,
    verification: audit,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
