import type { TurnOutcome } from '../../machines/sessionMachine.ts';
import { sessionProjections } from '../../src/cli/sessionProjections.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import type { CheckpointRetention } from '../../src/runtime/checkpoints.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../src/runtime/emergencyRegister.ts';
import type { EmergencyKind } from '../../src/policy/triage/index.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession, type Query, type SessionSettings } from '../../src/runtime/sessionService.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

export const COUNCIL_QUERY = 'Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the Barisal division.';

export interface RecordedSession {
  sessionId: string;
  settings?: SessionSettings;
  queries: Query[];
}

/**
 * Records sessions into a SQLite file the way the CLI runs them (its projections checkpointed), on a simulated clock
 * with seeded ids, checkpointing every 200 tokens so each session has several checkpoints to audit against.
 */
export interface RecordingOptions {
  seed?: string;
  checkpointEveryTokens?: number;
  /** Default 'all', so every checkpoint stays to be audited against. */
  checkpointRetention?: CheckpointRetention;
  triageModel?: string;
  /** Declared in the emergency register before any session starts. */
  emergencies?: { emergencyId: string; region: string; kind: EmergencyKind }[];
}

export async function recordSessions(path: string, sessions: RecordedSession[], options: RecordingOptions = {}): Promise<TurnOutcome[]> {
  const store = new SqliteEventStore(path);
  const clock = new SimulatedClock('2026-11-24T09:00:00.000Z');
  const models = modelResolver(clock);
  const ids = seededIds(options.seed ?? 'audit');
  const runtime = new ActorRuntime({
    store, clock, ids, models, projections: sessionProjections(), checkpointEveryTokens: options.checkpointEveryTokens ?? 200, checkpointRetention: options.checkpointRetention ?? 'all',
    ...(options.triageModel === undefined ? {} : { triageModel: options.triageModel }),
  });
  const outcomes: TurnOutcome[] = [];
  try {
    for (const { emergencyId, region, kind } of options.emergencies ?? []) {
      await store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId, region, kind }, { eventId: ids.next(), recordedAt: new Date(clock.now()).toISOString() })]);
    }
    for (const { sessionId, settings, queries } of sessions) {
      await startSession(runtime, sessionId, agentConfigFor(settings ?? { model: 'scripted:latency=40,seed=1' }, models), settings?.budgetTokens);
      for (const query of queries) outcomes.push(await drive(clock, askInSession(runtime, sessionId, query)));
    }
    await drive(clock, runtime.settled());
    return outcomes;
  } finally {
    runtime.stop();
    await store.close();
  }
}

/** Advances simulated time until `work` settles (the scripted models answer on the simulated clock). */
async function drive<T>(clock: SimulatedClock, work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(() => { settled = true; }, () => { settled = true; });
  for (let elapsed = 0; !settled; elapsed += 100) {
    if (elapsed > 600_000) throw new Error('not settled within 600 simulated seconds');
    await clock.advance(100);
  }
  return work;
}
