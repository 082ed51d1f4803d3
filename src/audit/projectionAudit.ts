import { climateProjection } from '../../projections/climate/climateProjection.ts';
import type { SessionProjection } from '../../projections/sessionProjection.ts';
import { sessionStateProjection } from '../../projections/sessionState/sessionStateStore.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { ledgerProjection } from '../../projections/tokenLedger/ledgerProjection.ts';
import type { LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { factorSetById, factorSetIds } from '../policy/climate/factorSets.ts';
import type { CheckpointData } from '../runtime/stateAt.ts';
import { ledgerStream } from '../runtime/sessionStreams.ts';
import { describePlace, shortJson, type AuditProblem } from './auditProblem.ts';
import { checkpointEvents, sessionEvents, type SessionLog } from './sessionLog.ts';
import { stateDiff } from './stateDiff.ts';

export interface ProjectionSummary {
  ok: boolean;
  checkpoints: number;
  /** The projections recomputed and compared (the ledger, the tiered session state, climate under its set). */
  projections: string[];
  /** Projections a checkpoint holds that this build cannot recompute (an unknown factor set): not compared. */
  skipped: string[];
}

type AnyProjection = SessionProjection<unknown>;

/** The projection a checkpoint stores under `name`, when this build knows how to recompute it. */
function projectionNamed(name: string): AnyProjection | undefined {
  if (name === 'ledger') return ledgerProjection as AnyProjection;
  if (name === 'sessionState') return sessionStateProjection as AnyProjection;
  const climate = /^climate:(.+)$/.exec(name);
  if (climate && factorSetIds.includes(climate[1]!)) return climateProjection(factorSetById(climate[1]!)) as AnyProjection;
  return undefined;
}

/**
 * Projections recomputed from the events alone equal what each checkpoint recorded: one fold of the session's
 * events in global order, stopped at each checkpoint's position (the newest it covers) to compare every projection
 * it holds and the revisions it says it covers; and at the end the token ledger's laws (zero sum, no unrecorded
 * overdraft) over the whole fold.
 */
export function projectionAudit(log: SessionLog): { summary: ProjectionSummary; problems: AuditProblem[] } {
  const checkpoints = checkpointEvents(log);
  const names = [...new Set(['ledger', ...checkpoints.flatMap((c) => Object.keys((c.data as CheckpointData).projections))])].sort();
  const projections = new Map<string, AnyProjection>();
  const skipped: string[] = [];
  for (const name of names) {
    const projection = projectionNamed(name);
    if (projection) projections.set(name, projection);
    else skipped.push(name);
  }
  const states = new Map([...projections].map(([name, p]) => [name, p.initial]));
  const covered: CheckpointData['covered'] = {};
  const events = sessionEvents(log);
  const problems: AuditProblem[] = [];
  let next = 0;
  for (const checkpoint of checkpoints) {
    const data = checkpoint.data as CheckpointData;
    const upTo = Object.values(data.covered).reduce((max, c) => (BigInt(c.position) > max ? BigInt(c.position) : max), -1n);
    for (; next < events.length && events[next]!.position <= upTo; next++) {
      const event = events[next]!;
      covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
      for (const [name, projection] of projections) states.set(name, projection.evolve(states.get(name), event));
    }
    const at = { streamId: checkpoint.streamId, revision: checkpoint.revision, position: checkpoint.position, eventType: checkpoint.type };
    const coverage = stateDiff(data.covered, covered);
    if (coverage.length > 0) {
      problems.push({
        check: 'projections', kind: 'coverage-differs', ...at, diff: coverage, expected: data.covered, found: { ...covered },
        message: `${describePlace(at)}: the checkpoint says it covers ${describeDiff(coverage)} (recorded), but the session's events up to position ${upTo} are ${describeFound(coverage)}`,
      });
    }
    for (const [name, recorded] of Object.entries(data.projections)) {
      const projection = projections.get(name);
      if (!projection) continue;
      const diff = stateDiff(recorded, states.get(name));
      if (diff.length === 0) continue;
      problems.push({
        check: 'projections', kind: 'projection-differs', ...at, diff, expected: recorded, found: states.get(name),
        message: `${describePlace(at)}: projection "${name}" recomputed from the events differs from the checkpoint at ${diff.length}${diff.length >= 20 ? '+' : ''} path(s): ${diff.slice(0, 3).map((d) => `${d.path}: expected ${shortJson(d.expected, 40)}, found ${shortJson(d.found, 40)}`).join('; ')}`,
        detail: { projection: name },
      });
    }
  }
  for (; next < events.length; next++) states.set('ledger', ledgerProjection.evolve(states.get('ledger') as LedgerState, events[next]!));
  const lastLedger: RecordedEvent | undefined = events.findLast((e) => e.streamId === ledgerStream(log.sessionId));
  for (const violation of ledgerViolations(states.get('ledger') as LedgerState)) {
    const at = { streamId: ledgerStream(log.sessionId), revision: lastLedger?.revision ?? null, position: lastLedger?.position ?? null, eventType: lastLedger?.type ?? null };
    problems.push({ check: 'projections', kind: 'ledger-law', ...at, message: `${describePlace(at)}: the ledger folded over the whole stream breaks a law: ${violation}` });
  }
  return { summary: { ok: problems.length === 0, checkpoints: checkpoints.length, projections: [...projections.keys()], skipped }, problems };
}

const describeDiff = (diff: { path: string; expected: unknown }[]) => diff.slice(0, 3).map((d) => `${d.path} = ${shortJson(d.expected, 40)}`).join(', ');
const describeFound = (diff: { path: string; found: unknown }[]) => diff.slice(0, 3).map((d) => `${d.path} = ${shortJson(d.found, 40)}`).join(', ');
