import type { AnyMachineSnapshot } from 'xstate';
import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import { initialSnapshot, persistedState, replayStep } from '../runtime/actorFold.ts';
import { actorKinds, type ActorKind } from '../runtime/actorKinds.ts';
import { emptyTracking, openEffectsFrom, trackEvent, type ActorTracking } from '../runtime/actorTracking.ts';
import { describePlace, shortJson, type AuditProblem, type StateDifference } from './auditProblem.ts';
import { checkpointCoverage, type CoveredState } from './checkpointCoverage.ts';
import { EFFECT_RECORD_TYPES, expectedRecords, recordedEffects, triageAskedFor } from './effectRecords.ts';
import { checkpointEvents, streamEvents, type SessionLog } from './sessionLog.ts';
import { stateDiff, valueAt } from './stateDiff.ts';

export interface DeterminismSummary {
  ok: boolean;
  /** Actor streams re-folded, and the events stepped through their machines. */
  streams: number;
  steps: number;
  /** Checkpointed actor states compared with the re-fold. */
  comparisons: number;
  checkpoints: number;
}

type PersistedState = ReturnType<typeof persistedState>;
interface Step { event: RecordedEvent; state: PersistedState }

/**
 * Replay determinism: each actor stream re-folded through its machine (`kinds`, by stream category; pass altered
 * ones to see what a change of machine would do to history) must reproduce every checkpointed snapshot of it, and,
 * event by event, the effect records the live step wrote (requests, timers, messages). Every checkpoint must also
 * cover only records the log still holds, at the positions it says.
 *
 * On divergence the first divergent event is named: the first whose effects the log contradicts, else, in the
 * events since the last checkpoint that agreed, the first whose step changed a path at which the re-fold and the
 * checkpoint differ (else the first of those events), with both states diffed.
 */
export function determinismAudit(log: SessionLog, kinds: Record<string, ActorKind> = actorKinds): { summary: DeterminismSummary; problems: AuditProblem[] } {
  const checkpoints = checkpointEvents(log);
  const coverage = checkpointCoverage(log, checkpoints);
  const problems: AuditProblem[] = [...coverage.problems];
  const summary: DeterminismSummary = { ok: true, streams: 0, steps: 0, comparisons: 0, checkpoints: checkpoints.length };
  for (const streamId of [...log.streams.keys()].sort()) {
    const kind = kinds[streamCategory(streamId)];
    if (!kind) continue;
    summary.streams++;
    const result = refoldStream(streamEvents(log, streamId), kind, coverage.states.get(streamId) ?? new Map());
    summary.steps += result.steps;
    summary.comparisons += result.comparisons;
    if (result.problem) problems.push(result.problem);
  }
  summary.ok = problems.length === 0;
  return { summary, problems };
}

function refoldStream(events: readonly RecordedEvent[], kind: ActorKind, boundaries: Map<bigint, CoveredState[]>) {
  const caused = Map.groupBy(events.filter((e) => e.metadata.causationId !== null && EFFECT_RECORD_TYPES.has(e.type)), (e) => e.metadata.causationId!);
  const tracking = emptyTracking();
  let snapshot: AnyMachineSnapshot = initialSnapshot(kind);
  let agreed: PersistedState = persistedState(kind, snapshot);
  let interval: Step[] = [];
  let effects: { event: RecordedEvent; expected: string[]; found: string[] } | undefined;
  let steps = 0;
  let comparisons = 0;
  for (const event of events) {
    if (event.metadata.machineVersion !== kind.version && !kind.earlier.has(event.metadata.machineVersion)) {
      return { steps, comparisons, problem: problemAt(event, 'machine-version', `was written by machine version ${event.metadata.machineVersion}, but the audit refolds with ${kind.version}${kind.earlier.size > 0 ? ` (and replays ${[...kind.earlier.keys()].join(', ')})` : ''}: replaying it under another definition could silently change history`, kind.version, event.metadata.machineVersion) };
    }
    let effectsEmitted;
    try {
      // Each event through the definition that wrote it, as live it went through that one.
      ({ snapshot, effects: effectsEmitted } = replayStep(kind, snapshot, event));
    } catch (error) {
      return { steps, comparisons, problem: problemAt(event, 'step-failed', `its machine cannot take it: ${(error as Error).message}`) };
    }
    steps++;
    trackEvent(tracking, event);
    const expected = expectedRecords(effectsEmitted, tracking);
    const found = recordedEffects(caused.get(event.eventId) ?? [], triageAskedFor(effectsEmitted));
    if (!effects && expected.join('\n') !== found.join('\n')) effects = { event, expected, found };
    const state = persistedState(kind, snapshot);
    interval.push({ event, state });
    for (const boundary of boundaries.get(event.revision) ?? []) {
      comparisons++;
      const openProblem = openEffectsProblem(event, boundary, tracking);
      if (openProblem) return { steps, comparisons, problem: openProblem };
      const diff = stateDiff(boundary.state, state);
      if (diff.length === 0) {
        agreed = state;
        interval = [];
        continue;
      }
      return { steps, comparisons, problem: divergence(event, boundary, state, diff, effects, interval, agreed) };
    }
  }
  if (effects) {
    const { event, expected, found } = effects;
    return { steps, comparisons, problem: problemAt(event, 'effects-diverged', `refolding it through its machine emits ${list(expected)}, but the log records ${list(found)} for it (the machine behaves differently from the one that ran)`, expected, found) };
  }
  return { steps, comparisons, problem: undefined };
}

/**
 * A checkpoint's `openFrom` must name where the effects open at it begin, as the refold's tracking finds them: a
 * rehydration trusts it to read no earlier, so one too late would lose a timer or a model request.
 */
function openEffectsProblem(at: RecordedEvent, boundary: CoveredState, tracking: ActorTracking): AuditProblem | undefined {
  if (boundary.openFrom === undefined) return undefined;
  const expected = openEffectsFrom(tracking, at.revision);
  if (expected !== undefined && String(expected) === boundary.openFrom) return undefined;
  const c = boundary.checkpoint;
  return problemAt(at, 'checkpoint-open-effects', `the checkpoint at ${c.streamId} revision ${c.revision} (position ${c.position}) says the effects open at this revision begin at revision ${boundary.openFrom}, but refolding the stream finds ${expected === undefined ? 'an open effect it cannot place' : `revision ${expected}`}: a rehydration from that checkpoint would miss a timer or a model request`, expected === undefined ? null : String(expected), boundary.openFrom);
}

function divergence(at: RecordedEvent, boundary: CoveredState, refolded: PersistedState, diff: StateDifference[], effects: { event: RecordedEvent; expected: string[]; found: string[] } | undefined, interval: Step[], agreed: PersistedState): AuditProblem {
  let first: RecordedEvent;
  let foundBy: string;
  if (effects) {
    first = effects.event;
    foundBy = `its effects: the re-fold emits ${list(effects.expected)}, the log records ${list(effects.found)}`;
  } else {
    // The first step since the last agreement that changed what now differs; the states between checkpoints are not recorded.
    const changed = interval.findIndex((step, i) => diff.some((d) => !Object.is(valueAt(step.state, d.path), valueAt(i === 0 ? agreed : interval[i - 1]!.state, d.path))));
    first = interval[Math.max(changed, 0)]!.event;
    foundBy = changed >= 0 ? 'the first step since the last agreeing checkpoint that changed a differing path' : 'no step changed the differing paths: the first event since the last agreeing checkpoint';
  }
  const c = boundary.checkpoint;
  const shown = diff.slice(0, 3).map((d) => `${d.path}: expected ${shortJson(d.expected, 40)}, found ${shortJson(d.found, 40)}`).join('; ');
  const text = `refolding ${first.streamId} through its machine diverges at this event: the checkpoint at ${c.streamId} revision ${c.revision} (position ${c.position}) records revision ${at.revision} of the stream differently at ${diff.length}${diff.length >= 20 ? '+' : ''} path(s): ${shown}`;
  return {
    ...problemAt(first, 'state-diverged', text),
    expected: boundary.state, found: refolded, diff,
    detail: { checkpoint: { streamId: c.streamId, revision: c.revision, position: c.position }, comparedAtRevision: at.revision, foundBy },
  };
}

function problemAt(event: RecordedEvent, kind: string, text: string, expected?: unknown, found?: unknown): AuditProblem {
  const place = { streamId: event.streamId, revision: event.revision, position: event.position, eventType: event.type };
  return { check: 'determinism', kind, ...place, message: `${describePlace(place)}: ${text}`, ...(expected === undefined ? {} : { expected, found }) };
}

const list = (lines: readonly string[]) => (lines.length === 0 ? '[nothing]' : `[${lines.join('; ')}]`);
