import type { AnyMachineSnapshot } from 'xstate';
import type { TurnOutcome } from '../../machines/sessionMachine.ts';
import type { ClimateState } from '../../projections/climate/climateState.ts';
import type { SessionState } from '../../projections/sessionState/sessionState.ts';
import { ledgerProjection } from '../../projections/tokenLedger/ledgerProjection.ts';
import type { LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import { climateKey, sessionProjections } from '../cli/sessionProjections.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import type { LanguageModel } from '../models/languageModel.ts';
import { defaultFactorSet } from '../policy/climate/factorSets.ts';
import { EMERGENCY_KINDS, type EmergencyKind } from '../policy/triage/index.ts';
import { ActorRuntime } from '../runtime/actorRuntime.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../runtime/emergencyRegister.ts';
import { seededIds, type IdSource } from '../runtime/ids.ts';
import { agentConfigFor, askInSession, startSession, type SessionSettings } from '../runtime/sessionService.ts';
import { assertSessionExists, ledgerStream } from '../runtime/sessionStreams.ts';
import { sessionStateAt, type ExtraProjections, type SessionStateAt } from '../runtime/stateAt.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { MemoryEventStore } from '../store/memoryEventStore.ts';
import { show } from './difference.ts';
import { expectEvents, type EventExpectation } from './expectEvents.ts';
import { driveUntil, HarnessClock, settle } from './harnessClock.ts';
import { factInputSchema, harnessOptionsSchema, queryOf, sessionIdSchema, type FactInput, type HarnessOptions, type QueryInput } from './harnessOptions.ts';
import { checkOf, describeTarget, eventFilterSchema, matchesFilter, pointOf, type EventFilter, type PointInput, type StateTarget } from './harnessQueries.ts';
import { LiveSteps } from './liveSteps.ts';
import { harnessModels, type AnsweredCall, type CallSite } from './scriptedModels.ts';

/** A session and its projections as of a point: every actor, the token ledger, the tiered state and climate impact. */
export interface ProjectionAt extends SessionStateAt {
  sessionState: SessionState;
  climate: ClimateState;
}

/** Calls the script did not cover, with `unscripted: 'fail'`: each is listed with its role, turn and attempt. */
export class UnscriptedCallError extends Error {
  override readonly name = 'UnscriptedCallError';
}

const DEFAULT_LATENCY_MS = 100;
const DEFAULT_MAX_DRIVE_MS = 600_000;

/**
 * Chronicle's own runtime, machines and projections on an in-memory store, a simulated clock, seeded ids and
 * scripted models: what a user's tests drive. Nothing here is a copy of production code; only time, ids and
 * model answers are the test's to decide.
 */
export class Harness {
  readonly store: EventStore;
  readonly clock: HarnessClock;
  readonly runtime: ActorRuntime;
  /** Resolves a model spec to the harness's scripted model for it. */
  readonly models: (spec: string) => LanguageModel;
  /** Every event each hosted actor processed, with its live state right after. */
  readonly live = new LiveSteps();
  /** Every model call answered, in order, with the script step it got (null: unscripted). */
  readonly calls: AnsweredCall[] = [];
  readonly #options: HarnessOptions;
  readonly #sites = new Map<string, CallSite>();
  readonly #projections: ExtraProjections = sessionProjections();
  readonly #registerIds: IdSource;
  readonly #emergencies = new Map<string, string>();

  constructor(options: HarnessOptions = {}) {
    harnessOptionsSchema.parse(options);
    this.#options = options;
    const seed = options.seed ?? 'harness';
    this.store = options.store ?? new MemoryEventStore();
    this.clock = new HarnessClock(options.startAt);
    this.#registerIds = seededIds(`${seed}/register`);
    this.models = harnessModels({
      script: options.script ?? {}, latencyMs: options.latencyMs ?? DEFAULT_LATENCY_MS, unscripted: options.unscripted ?? 'generate',
      wait: (ms, signal) => this.clock.wait(ms, signal), siteOf: (requestId) => this.#sites.get(requestId), onCall: (call) => this.calls.push(call),
    });
    const triageModel = options.triageModel ?? (options.script?.triage === undefined ? undefined : 'triage');
    this.runtime = new ActorRuntime({
      store: this.store, clock: this.clock, ids: seededIds(seed), models: this.models, projections: this.#projections,
      ...optional({ checkpointEveryTokens: options.checkpointEveryTokens, checkpointRetention: options.checkpointRetention, maxActiveTurns: options.maxActiveTurns, councilThreshold: options.councilThreshold, triageModel }),
      onStep: (streamId, event, snapshot) => {
        this.live.record(streamId, event, snapshot);
        if (event.type === 'model.requested') this.#sites.set(event.eventId, siteOf(streamId, snapshot));
      },
    });
  }

  /** Starts a session with the harness's defaults, overridden by `settings` (model `scripted` unless set). */
  async startSession(sessionId: string, settings: Partial<SessionSettings> = {}): Promise<void> {
    sessionIdSchema.parse(sessionId);
    const o = this.#options;
    const merged: SessionSettings = {
      model: 'scripted', ...optional({ contextWindow: o.contextWindow, contextThresholds: o.contextThresholds, budgetTokens: o.budgetTokens }), ...o.session, ...settings,
    } as SessionSettings;
    await startSession(this.runtime, sessionId, agentConfigFor(merged, this.models), merged.budgetTokens);
    await settle();
  }

  /** Asks without moving time: the outcome resolves once something (`advance`, `waitFor`, `drive`) moves it on. */
  submit(sessionId: string, query: QueryInput): Promise<TurnOutcome> {
    return askInSession(this.runtime, sessionId, queryOf(query, { region: this.#options.region ?? 'KE', purpose: this.#options.purpose ?? 'climate_adaptation' }));
  }

  /** Asks and drives the simulated clock until the turn is answered (or failed) and the runtime is idle. */
  async ask(sessionId: string, query: QueryInput, options: { maxMs?: number } = {}): Promise<TurnOutcome> {
    const before = this.calls.length;
    const text = typeof query === 'string' ? query : query.text;
    const outcome = await this.drive(this.submit(sessionId, query), { ...options, what: `ask(${sessionId}, ${show(text, 60)})` });
    await this.idle(options);
    const unscripted = this.calls.slice(before).filter((call) => call.step === null);
    if (this.#options.unscripted === 'fail' && unscripted.length > 0) {
      throw new UnscriptedCallError(`ask(${sessionId}, ${show(text, 60)}) made ${unscripted.length} call(s) the script does not cover:\n` +
        unscripted.map((c) => `  ${c.role}, turn ${c.turn}, attempt ${c.attempt} (model ${c.model}, ${c.streamId || 'stream unknown'})`).join('\n'));
    }
    return outcome;
  }

  /** Delivers any fact to any actor through the runtime, exactly as a message or an outcome would arrive. */
  async send(streamId: string, fact: FactInput): Promise<void> {
    const { type, data, eventId, causationId } = factInputSchema.parse(fact);
    await this.runtime.deliver(streamId, { type, data: data ?? {}, causationId: causationId ?? null, ...optional({ eventId }) });
    await settle();
  }

  /** Moves simulated time on, firing due timers (model latency, timeouts, cool-downs) in order. */
  async advance(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`advance(ms) takes a non-negative number of milliseconds, got ${ms}`);
    await this.clock.advance(ms);
    await settle();
  }

  /** Drives time until the actor's state matches the target; returns that snapshot. */
  async waitFor(streamId: string, target: StateTarget, options: { maxMs?: number } = {}): Promise<AnyMachineSnapshot> {
    const check = checkOf(target);
    return this.drive(this.runtime.waitFor(streamId, check), { ...options, what: `waitFor(${streamId}, ${describeTarget(target)})` });
  }

  /** Drives time until the runtime has nothing in flight (rejects with a runtime failure, if one happened). */
  idle(options: { maxMs?: number } = {}): Promise<void> {
    return this.drive(this.runtime.settled(), { ...options, what: 'idle()' });
  }

  /**
   * Moves the clock from one due timer to the next until `work` settles. Fails when nothing is scheduled and the
   * work is still pending (it would never finish), or when it would take longer than `maxMs` of simulated time.
   */
  drive<T>(work: Promise<T>, options: { maxMs?: number; what?: string } = {}): Promise<T> {
    const maxMs = options.maxMs ?? this.#options.maxDriveMs ?? DEFAULT_MAX_DRIVE_MS;
    return driveUntil(this.clock, work, { maxMs, what: options.what ?? 'drive()', describe: () => this.#describeActors() });
  }

  /** An actor's current snapshot. */
  snapshot(streamId: string): Promise<AnyMachineSnapshot> {
    return this.runtime.snapshotOf(streamId);
  }

  /** Recorded events in global order, filtered by stream, session, category, type or position. */
  async events(filter: EventFilter = {}): Promise<RecordedEvent[]> {
    eventFilterSchema.parse(filter);
    return (await collect(this.store.readAll())).filter((event) => matchesFilter(event, filter));
  }

  /** `expectEvents` over the recorded events that pass `filter`. */
  async expectEvents(expected: readonly EventExpectation[], filter: EventFilter = {}, options: { exact?: boolean } = {}): Promise<RecordedEvent[]> {
    return expectEvents(await this.events(filter), expected, options);
  }

  /** The global position of the newest event (null in an empty store): a point to come back to. */
  async position(): Promise<bigint | null> {
    for await (const event of this.store.readAll({ fromPosition: 'end', direction: 'backwards', maxCount: 1 })) return event.position;
    return null;
  }

  /** The session as of a point (now by default), folded from its newest checkpoint at or before it, as the CLI does. */
  async projectionAt(sessionId: string, at?: PointInput): Promise<ProjectionAt> {
    const state = await sessionStateAt(this.store, sessionId, pointOf(at), this.#projections);
    return { ...state, sessionState: state.projections.sessionState as SessionState, climate: state.projections[climateKey(defaultFactorSet)] as ClimateState };
  }

  /**
   * The session's token ledger now, folded from its stream alone (no checkpoint): the reference for `projectionAt`.
   * A session never started is an `UnknownSessionError`, not an empty ledger a test's "nothing overspent" would pass on.
   */
  async ledger(sessionId: string): Promise<LedgerState> {
    try {
      return (await collect(this.store.readStream(ledgerStream(sessionId)))).reduce(ledgerProjection.evolve, ledgerProjection.initial);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
      await assertSessionExists(this.store, sessionId);
      return ledgerProjection.initial;
    }
  }

  /** Checks every hosted stream refolded from the store equals the live state after every event. */
  replayMatchesLive(): Promise<{ streams: number; events: number }> {
    return this.live.replayMatchesLive(this.store);
  }

  /** Declares a climate emergency for a region, as `chronicle emergency declare` does; returns its id. */
  async declareEmergency(region: string, kind: EmergencyKind, note?: string): Promise<string> {
    if (!(EMERGENCY_KINDS as readonly string[]).includes(kind)) throw new RangeError(`kind must be one of ${EMERGENCY_KINDS.join(', ')}; got ${kind}`);
    const emergencyId = `${kind}-${region}-${this.#emergencies.size + 1}`;
    await this.#register('emergency.declared', { emergencyId, region, kind, ...optional({ note }) });
    this.#emergencies.set(emergencyId, region);
    return emergencyId;
  }

  async liftEmergency(emergencyId: string): Promise<void> {
    const region = this.#emergencies.get(emergencyId);
    if (region === undefined) throw new RangeError(`no emergency ${emergencyId} was declared in this harness (declared: ${[...this.#emergencies.keys()].join(', ') || 'none'})`);
    await this.#register('emergency.lifted', { emergencyId, region });
  }

  /** Calls the script did not cover (answered by the generated model, or failed under `unscripted: 'fail'`). */
  get unscriptedCalls(): AnsweredCall[] {
    return this.calls.filter((call) => call.step === null);
  }

  async close(): Promise<void> {
    this.runtime.stop();
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #register(type: 'emergency.declared' | 'emergency.lifted', data: Parameters<typeof emergencyEvent>[1]): Promise<void> {
    const recordedAt = new Date(this.clock.now()).toISOString();
    await this.store.appendToStream(EMERGENCY_STREAM, [emergencyEvent(type, data, { eventId: this.#registerIds.next(), recordedAt })]);
  }

  #describeActors(): string {
    const streams = this.live.streams();
    const lines = streams.slice(0, 12).map((streamId) => `  ${streamId}: ${JSON.stringify(this.live.of(streamId).at(-1)!.state.value)}`);
    if (streams.length > 12) lines.push(`  … and ${streams.length - 12} more actors`);
    return lines.length > 0 ? `Actors now:\n${lines.join('\n')}` : 'No actor has processed an event yet.';
  }
}

export function createHarness(options: HarnessOptions = {}): Harness {
  return new Harness(options);
}

/** Which role and turn a recorded request is for: an agent's role and task, or the session's delegated triage. */
function siteOf(streamId: string, snapshot: AnyMachineSnapshot): CallSite {
  const context = snapshot.context as { sessionId: string; role?: string; task?: { turn: number } | null; turn?: number };
  if (streamId.startsWith('session-')) return { streamId, sessionId: context.sessionId, role: 'triage', turn: context.turn ?? 0 };
  return { streamId, sessionId: context.sessionId, role: context.role ?? 'unknown', turn: context.task?.turn ?? 0 };
}

/** The entries whose value is defined: options left unset keep the runtime's own defaults. */
function optional<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
