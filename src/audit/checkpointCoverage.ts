import { streamCategory, type RecordedEvent } from '../events/envelope.ts';
import { actorKinds } from '../runtime/actorKinds.ts';
import type { CheckpointData } from '../runtime/stateAt.ts';
import { describePlace, type AuditProblem } from './auditProblem.ts';
import type { SessionLog } from './sessionLog.ts';

/** An actor's state as a checkpoint recorded it, at the revision of its stream the checkpoint covers. */
export interface CoveredState {
  checkpoint: RecordedEvent;
  state: { value: unknown; context: unknown; status: string };
  /** Where the checkpoint says the effects still open at it begin (rehydration reads the stream from there). */
  openFrom: string | undefined;
}

/**
 * What each checkpoint vouches for: that every stream it covers holds the covered revision at the covered position.
 * A revision the stream no longer holds means records were removed from its end (a truncation the chain cannot see,
 * since what remains still links); another position means records were moved. Returns, per actor stream and
 * revision, the states the checkpoints recorded there, for the re-fold to be compared with.
 */
export function checkpointCoverage(log: SessionLog, checkpoints: readonly RecordedEvent[]): { states: Map<string, Map<bigint, CoveredState[]>>; problems: AuditProblem[] } {
  const states = new Map<string, Map<bigint, CoveredState[]>>();
  const problems: AuditProblem[] = [];
  // Indexed once: a session may keep thousands of checkpoints, each covering every stream.
  const byRevision = new Map([...log.streams].map(([streamId, s]) => [streamId, new Map(s.records.map((r) => [r.revision, r]))]));
  for (const checkpoint of checkpoints) {
    const data = checkpoint.data as CheckpointData;
    for (const [streamId, covered] of Object.entries(data.covered)) {
      const revision = BigInt(covered.revision);
      const position = BigInt(covered.position);
      const last = log.streams.get(streamId)?.records.at(-1);
      const record = byRevision.get(streamId)?.get(revision);
      const place = { streamId, revision, position, eventType: record?.type ?? null };
      const by = `${checkpoint.streamId} revision ${checkpoint.revision} (position ${checkpoint.position})`;
      if (!last || last.revision < revision) {
        const from = (last?.revision ?? -1n) + 1n;
        problems.push({
          check: 'determinism', kind: 'checkpoint-beyond-stream', ...place,
          message: `${describePlace(place)}: the checkpoint at ${by} covers the stream up to this revision, but the stream ends at ${last ? `revision ${last.revision} (position ${last.position})` : 'no record at all'}: ${from === revision ? `revision ${revision} is` : `revisions ${from}–${revision} are`} missing (removed from its end)`,
          expected: { revision: covered.revision, position: covered.position }, found: last ? { revision: String(last.revision), position: String(last.position) } : null,
          detail: { checkpoint: { streamId: checkpoint.streamId, revision: checkpoint.revision, position: checkpoint.position }, missingFrom: from, missingTo: revision },
        });
        continue;
      }
      if (!record || record.position !== position) {
        problems.push({
          check: 'determinism', kind: 'checkpoint-position-mismatch', ...place,
          message: `${describePlace(place)}: the checkpoint at ${by} covers this revision at position ${position}, but the stream holds ${record ? `it at position ${record.position}` : 'no such revision'} (records were moved, inserted or deleted)`,
          expected: { revision: covered.revision, position: covered.position }, found: record ? { revision: String(record.revision), position: String(record.position) } : null,
        });
        continue;
      }
      if (!(streamCategory(streamId) in actorKinds)) continue;
      const state = data.actors[streamId];
      if (!state) continue;
      const atRevision = states.get(streamId) ?? new Map<bigint, CoveredState[]>();
      states.set(streamId, atRevision);
      atRevision.set(revision, [...(atRevision.get(revision) ?? []), { checkpoint, state, openFrom: data.openFrom?.[streamId] }]);
    }
  }
  return { states, problems };
}
