import type { AnyMachineSnapshot } from 'xstate';
import type { TurnOutcome } from '../../machines/sessionMachine.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { initialLedgerState, type LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventToAppend, RecordedEvent } from '../../src/events/envelope.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';
import type { EmergencyKind } from '../../src/policy/triage/index.ts';
import { persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../src/runtime/emergencyRegister.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession, type Query, type SessionSettings } from '../../src/runtime/sessionService.ts';
import { ledgerStream, sessionStream } from '../../src/runtime/sessionStreams.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';
import type { LiveStep } from './simulatedSystem.ts';

export interface ScenarioOptions {
  seed?: string;
  store?: EventStore;
  /** Builds the model resolver on the scenario's clock (default: the runtime's own resolver of specs). */
  models?: (clock: SimulatedClock) => (spec: string) => LanguageModel;
  maxActiveTurns?: number;
  councilThreshold?: number;
  triageModel?: string;
}

/**
 * A runtime on a simulated clock with seeded ids that records every live step, driven through the public session
 * service (`startSession`, `askInSession`), with the simulated time advanced until the asked turn is answered.
 */
export function sessionScenario(options: ScenarioOptions = {}) {
  const store = options.store ?? new MemoryEventStore();
  const clock = new SimulatedClock('2026-11-24T09:00:00.000Z');
  const steps: LiveStep[] = [];
  const models = options.models?.(clock) ?? modelResolver(clock);
  const ids = seededIds(`${options.seed ?? 'scenario'}/register`);
  const runtime = new ActorRuntime({
    store, clock, ids: seededIds(options.seed ?? 'scenario'), models, checkpointEveryTokens: 0,
    ...(options.maxActiveTurns === undefined ? {} : { maxActiveTurns: options.maxActiveTurns }),
    ...(options.councilThreshold === undefined ? {} : { councilThreshold: options.councilThreshold }),
    ...(options.triageModel === undefined ? {} : { triageModel: options.triageModel }),
    onStep: (streamId: string, event: EventToAppend, snapshot: AnyMachineSnapshot) => {
      steps.push({ streamId, eventId: event.eventId, type: event.type, state: persistedState(actorKindOf(streamId), snapshot) });
    },
  });

  async function start(sessionId: string, settings: SessionSettings, budgetTokens?: number): Promise<void> {
    await startSession(runtime, sessionId, agentConfigFor(settings, models), budgetTokens);
  }

  /** Advances simulated time in small steps until `work` settles; then waits for the runtime to be idle. */
  async function drive<T>(work: Promise<T>, maxMs = 600_000): Promise<T> {
    let settled = false;
    work.then(() => { settled = true; }, () => { settled = true; });
    for (let elapsed = 0; !settled; elapsed += 100) {
      if (elapsed > maxMs) throw new Error(`not settled within ${maxMs} simulated ms`);
      await clock.advance(100);
    }
    const value = await work;
    await idle(maxMs);
    return value;
  }

  /** Advances simulated time until the runtime has nothing in flight (rejects with its first failure). */
  async function idle(maxMs = 600_000): Promise<void> {
    let done = false;
    const settling = runtime.settled().finally(() => { done = true; });
    settling.catch(() => {});
    for (let elapsed = 0; !done; elapsed += 100) {
      if (elapsed > maxMs) throw new Error(`the runtime did not settle within ${maxMs} simulated ms`);
      await clock.advance(100);
    }
    await settling;
  }

  /** `askInSession`, with the clock driven until the turn's outcome is known. */
  function ask(sessionId: string, query: Query): Promise<TurnOutcome> {
    return drive(askInSession(runtime, sessionId, query));
  }

  async function declare(emergencyId: string, region: string, kind: EmergencyKind): Promise<void> {
    const recordedAt = new Date(clock.now()).toISOString();
    await store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId, region, kind }, { eventId: ids.next(), recordedAt })]);
  }

  async function lift(emergencyId: string, region: string): Promise<void> {
    const recordedAt = new Date(clock.now()).toISOString();
    await store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.lifted', { emergencyId, region }, { eventId: ids.next(), recordedAt })]);
  }

  async function stream(streamId: string): Promise<RecordedEvent[]> {
    return collect(store.readStream(streamId));
  }

  async function session(sessionId: string): Promise<RecordedEvent[]> {
    return stream(sessionStream(sessionId));
  }

  async function ledger(sessionId: string): Promise<{ events: RecordedEvent[]; state: LedgerState }> {
    const events = await stream(ledgerStream(sessionId));
    return { events, state: events.reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState) };
  }

  return { store, clock, runtime, steps, models, start, ask, drive, idle, declare, lift, stream, session, ledger };
}

export type SessionScenario = ReturnType<typeof sessionScenario>;

/** The data of every event of a type, in order. */
export function dataOf<T>(events: readonly RecordedEvent[], type: string): T[] {
  return events.filter((e) => e.type === type).map((e) => e.data as T);
}

/** The `message.sent` events of a stream that carried a message of this type. */
export function sentOf<T>(events: readonly RecordedEvent[], messageType: string): { event: RecordedEvent; to: string; data: T }[] {
  return events
    .filter((e) => e.type === 'message.sent' && (e.data as { messageType: string }).messageType === messageType)
    .map((e) => {
      const sent = e.data as { to: string; data: T };
      return { event: e, to: sent.to, data: sent.data };
    });
}
