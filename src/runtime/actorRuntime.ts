import type { AnyMachineSnapshot } from 'xstate';
import type { Effect } from '../../machines/effects.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { streamCategory, type EventToAppend } from '../events/envelope.ts';
import type { LanguageModel, ModelReply } from '../models/languageModel.ts';
import { ModelCallError } from '../models/modelCallError.ts';
import { DEFAULT_CONTEXT_WINDOW } from '../models/modelProfiles.ts';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../store/errors.ts';
import { createEventRegistry, type AgentConfig } from '../events/catalogue.ts';
import { EventSchemaError } from '../events/eventSchemaError.ts';
import type { EventStore } from '../store/eventStore.ts';
import { machineEventOf, stepActor } from './actorFold.ts';
import { actorKindOf, actorKinds, sessionIdOf, type ActorKind } from './actorKinds.ts';
import { activeTimerWithKey, copyTracking, openEffectsFrom, settleTracking, trackEvent, type ActorTracking } from './actorTracking.ts';
import { loadActor } from './actorLoad.ts';
import { systemClock, type Clock } from './clock.ts';
import { derivedId, randomIds, type IdSource } from './ids.ts';
import { defaultFactorSet } from '../policy/climate/factorSets.ts';
import { CHECKPOINT_RETENTION, checkpointedTokens, checkpointEvent, checkpointOfStore, checkpointParts, setRetentionOnFirst, type CheckpointRetention, type PendingCheckpoint } from './checkpoints.ts';
import { LedgerKeeper, type LedgerStage } from './ledgerKeeper.ts';
import { ledgerStream } from './sessionStreams.ts';
import type { CheckpointData, ExtraProjections } from './stateAt.ts';
import { promptContextOfHost, SessionProjectionsKeeper, transferSummaryOfHost, type HostedProjections, type StagedFact } from './sessionProjectionsKeeper.ts';
import { sessionStateProjection } from '../../projections/sessionState/sessionStateStore.ts';
import { triageLogFold, type TriageLog } from './triageLog.ts';
import type { CheckpointedFold } from './checkpointedFold.ts';
import { budgetOutcomeOf, learnFromOutcome } from '../../projections/budgetLearning/budgetLearning.ts';
import { EMERGENCY_PURPOSES } from '../policy/triage/index.ts';
import { MODEL_TIMEOUT, type AgentContext } from '../../machines/agentMachine.ts';
import { priorityOf } from '../policy/priority/index.ts';
import { inForceFor } from './emergencyRegister.ts';
import { EmergencyRegister } from './emergencyRegister.ts';
import { rulesDecision, triageTurn, type TriageInputs } from './triageTurn.ts';
import { decisionFromModel, modelTriagePrompt } from '../policy/triage/index.ts';
import { AdmissionQueue } from './admissionQueue.ts';

/** A fact addressed to an actor, before it is recorded. */
export interface ActorInput {
  type: string;
  data: unknown;
  /** Given for messages and outcomes, so a re-delivery is recognised; otherwise a new id is made. */
  eventId?: string;
  causationId: string | null;
}

export interface RuntimeOptions {
  store: EventStore;
  /** Resolves a model spec (`scripted`, `openai:gpt-4o-mini`, …) to a model; called for each model call. */
  models: (spec: string) => LanguageModel;
  clock?: Clock;
  ids?: IdSource;
  /** A safety net above the machines' own timeouts: provider calls are aborted after this long (ms). */
  providerDeadlineMs?: number;
  /** The climate factor set recorded as in force for new sessions (default: the current EcoLogits/Ember set). */
  factorSet?: { id: string; sha256: string };
  /** Projections checkpointed besides the ledger (tiered session state, climate impact). */
  projections?: ExtraProjections;
  /** A checkpoint is recorded each time a session's usage crosses another multiple of this many tokens (0: never). */
  checkpointEveryTokens?: number;
  /** How many checkpoints each session keeps (default 5), or `'all'`: every point in a long session stays a short fold away. */
  checkpointRetention?: CheckpointRetention;
  /** How many sessions may work on a turn at once; further turns wait, admitted by priority (default: no limit). */
  maxActiveTurns?: number;
  /** Triage's complexity score at or above which a turn goes to a council (default 0.5). */
  councilThreshold?: number;
  /**
   * A model spec to delegate triage to (a `triage` role): each turn's triage is then a recorded, reserved model
   * call on the session's stream, its JSON answer the decision (the rules stand in, saying why, if it gives none).
   */
  triageModel?: string;
  /**
   * The stream, and the revision it must still be at, that fences a session's writes: a worker's lease. Every write
   * of the session's facts checks it in the same atomic append, so a worker whose lease another worker has taken can
   * never extend the session again, however late it notices.
   */
  fence?: (sessionId: string) => { streamId: string; expectedState: bigint } | undefined;
  /** Sees every recorded event with the actor's snapshot right after it, live (tests, inspector). */
  onStep?: (streamId: string, event: EventToAppend, snapshot: AnyMachineSnapshot) => void;
  /**
   * `record`: facts and the effect requests they cause are recorded, and none is performed: a client submitting
   * work that a worker, taking the session, performs (`chronicle submit`). Default `perform`.
   */
  effects?: 'perform' | 'record';
  /**
   * Sees a failure of work nobody awaits (a model call's outcome, a timer's firing, a re-delivery) with the session
   * it belongs to; returning true means it was dealt with (a worker that lost the session to another releases it),
   * so `settled` does not reject with it.
   */
  onBackgroundFailure?: (error: Error, sessionId: string | undefined) => boolean;
}

/** A write refused because the session's fence moved: another worker holds the session now. Nothing was recorded. */
export class SessionFencedError extends Error {
  override readonly name = 'SessionFencedError';
  readonly sessionId: string;
  constructor(sessionId: string, cause: WrongExpectedVersionError) {
    super(`session ${sessionId}: its lease moved on (${cause.streamId} is at ${String(cause.actualState)}, not ${String(cause.expectedState)}); another worker holds it, nothing was recorded here`, { cause });
    this.sessionId = sessionId;
  }
}

/** A fact delivered to a stopped runtime: it records nothing more, as a process that ended would not. */
export class RuntimeStoppedError extends Error {
  override readonly name = 'RuntimeStoppedError';
  constructor() {
    super('the runtime was stopped, so nothing more is recorded through it; start another on the store (it resumes what was under way)');
  }
}

/** A second `session.started` for a session: it would allocate the session's budget again. */
export class SessionAlreadyStartedError extends Error {
  override readonly name = 'SessionAlreadyStartedError';
  constructor(sessionId: string) {
    super(`session ${sessionId} is already started; ask it with askInSession, or start a session under another id`);
  }
}

/** A fact for a session this runtime released to another owner: it is not recorded here. */
export class SessionReleasedError extends Error {
  override readonly name = 'SessionReleasedError';
  readonly sessionId: string;
  constructor(sessionId: string) {
    super(`session ${sessionId} was released by this runtime (another worker owns it now); nothing was recorded`);
    this.sessionId = sessionId;
  }
}

interface HostedActor {
  streamId: string;
  kind: ActorKind;
  sessionId: string;
  snapshot: AnyMachineSnapshot;
  /** Revision of the stream's last event, -1n when the stream does not exist yet. */
  revision: bigint;
  tracking: ActorTracking;
  armed: Map<string, unknown>;
}

type Perform = () => void;

/** The record an effect request becomes, what to do once it is durable, or the message to stage with it. */
interface EffectRecord {
  input: ActorInput;
  /** Further facts for the same actor, recorded right after `input` (triage's priority and budget). */
  follow?: ActorInput[];
  perform?: Perform;
  message?: { streamId: string; input: ActorInput };
}

interface Delivery {
  streamId: string;
  input: ActorInput;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Deliveries given the same batch are written together or not at all, even when their group is retried. */
  batch?: object;
}

/** An actor's state while a group is being staged: adopted only if the group's write succeeds. */
interface StagedActor {
  actor: HostedActor;
  snapshot: AnyMachineSnapshot;
  tracking: ActorTracking;
  events: EventToAppend[];
  snapshots: AnyMachineSnapshot[];
}

const MAX_GROUP_DELIVERIES = 256;
/** The catalogue's schemas, to check facts delivered from outside before anything reads them. */
const factSchemas = createEventRegistry();
/** Tokens reserved for a triage model's answer: a short JSON object. */
const TRIAGE_OUTPUT_TOKENS = 256;

/** A model call as the runtime performs it: the recorded request and the deadline it is made under. */
interface ModelCallRequest {
  model: string;
  prompt: string;
  attempt: number;
  deadlineMs?: number;
}
/** Added to an emergency's priority for admission: above any priority the policy can give an ordinary request. */
const EMERGENCY_ADMISSION = 1_000_000;
const MAX_GROUP_EVENTS = 20_000;
/** Times a fact is staged again after another writer got to its streams first, before the conflict is reported. */
const MAX_CONFLICT_ATTEMPTS = 5;

/**
 * Hosts actors live under the write-ahead rule: for each fact addressed to an actor it computes the machine's
 * step, records the fact together with the effect requests it produced in one atomic append to the actor's
 * stream, and only then performs the effects. Facts are processed one group at a time, so each stream is only
 * ever extended from the revision its actor last saw, and a group's appends share one transaction.
 */
export class ActorRuntime {
  readonly store: EventStore;
  readonly clock: Clock;
  /** Turns admitted by climate-justice priority when the runtime is saturated (`askInSession` waits on it). */
  readonly admission: AdmissionQueue;
  private readonly ids: IdSource;
  private readonly models: (spec: string) => LanguageModel;
  private readonly providerDeadlineMs: number;
  private readonly onStep: RuntimeOptions['onStep'];
  private readonly actors = new Map<string, HostedActor>();
  private readonly ledgers: LedgerKeeper;
  private readonly sessionProjections: SessionProjectionsKeeper;
  private readonly projections: ExtraProjections;
  private readonly checkpointEveryTokens: number;
  private readonly checkpointRetention: CheckpointRetention;
  private readonly checkpointed = new Map<string, number>();
  /** Checkpoints composed but not yet written, oldest first (see `queueCheckpoint`). */
  private pendingCheckpoints: PendingCheckpoint[] = [];
  private flushScheduled = false;
  /** While a failed group is retried one delivery at a time, no checkpoint rides along. */
  private retrying = false;
  private readonly inbox: Delivery[] = [];
  private draining = false;
  private readonly loading = new Map<string, Promise<HostedActor>>();
  private readonly inFlightCalls = new Map<string, { abandon: AbortController; sessionId: string }>();
  /** Sessions handed over to another owner: not hosted, and facts for them are refused until reclaimed. */
  private readonly released = new Set<string>();
  private readonly performsEffects: boolean;
  private readonly onBackgroundFailure: RuntimeOptions['onBackgroundFailure'];
  private readonly fence: RuntimeOptions['fence'];
  private readonly waiters = new Set<{ streamId: string; check: (s: AnyMachineSnapshot) => boolean; resolve: (s: AnyMachineSnapshot) => void }>();
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly failures: Error[] = [];
  private stopped = false;
  private readonly emergencies: EmergencyRegister;
  private readonly triageLog: CheckpointedFold<TriageLog>;
  private readonly councilThreshold: number | undefined;
  private readonly triageModel: string | undefined;

  constructor(options: RuntimeOptions) {
    this.store = options.store;
    this.models = options.models;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.providerDeadlineMs = options.providerDeadlineMs ?? 120_000;
    this.onStep = options.onStep;
    this.performsEffects = (options.effects ?? 'perform') === 'perform';
    this.onBackgroundFailure = options.onBackgroundFailure;
    this.fence = options.fence;
    this.ledgers = new LedgerKeeper({ store: this.store, ids: this.ids, models: this.models, factorSet: options.factorSet ?? defaultFactorSet });
    // The session state is always hosted and checkpointed: every task's prompt context is read from it.
    this.projections = { sessionState: sessionStateProjection as ExtraProjections[string], ...options.projections };
    this.sessionProjections = new SessionProjectionsKeeper(this.store, this.projections);
    this.emergencies = new EmergencyRegister(this.store);
    this.triageLog = triageLogFold(this.store);
    this.councilThreshold = options.councilThreshold;
    this.triageModel = options.triageModel;
    this.admission = new AdmissionQueue(options.maxActiveTurns);
    this.checkpointEveryTokens = options.checkpointEveryTokens ?? 1_500;
    this.checkpointRetention = options.checkpointRetention ?? CHECKPOINT_RETENTION;
    if (this.checkpointRetention !== 'all' && !(Number.isSafeInteger(this.checkpointRetention) && this.checkpointRetention >= 1)) {
      throw new RangeError(`checkpointRetention must be a whole number of at least 1, or 'all'; got ${String(this.checkpointRetention)}`);
    }
  }

  /**
   * Addresses a fact to an actor; resolves once it, everything it caused in that actor, and the messages that
   * caused in other hosted actors (and so on) are durable. Facts delivered in the same tick are written together.
   * A fact from outside is checked against its schema first: machines, triage and the ledger read it before the
   * append would (a query whose text is a number failed deep in triage, a usage that is not a count broke the ledger).
   */
  deliver(streamId: string, input: ActorInput, options: { batch?: object } = {}): Promise<void> {
    try {
      factSchemas.parseForAppend(input.type, undefined, input.data, { streamId });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(streamId, input, options);
  }

  /** `deliver` for the runtime's own facts (outcomes, timers fired, messages), which it builds to their schemas. */
  private enqueue(streamId: string, input: ActorInput, options: { batch?: object } = {}): Promise<void> {
    // The id is fixed now, so a retry after a failed write cannot record the same fact twice.
    const fact = { ...input, eventId: input.eventId ?? this.ids.next() };
    const sessionId = sessionIdOf(streamId);
    if (this.stopped) return Promise.reject(new RuntimeStoppedError());
    if (this.released.has(sessionId)) return Promise.reject(new SessionReleasedError(sessionId));
    return this.track(() => new Promise<void>((resolve, reject) => {
      this.inbox.push({ streamId, input: fact, resolve, reject, ...(options.batch === undefined ? {} : { batch: options.batch }) });
      if (!this.draining) {
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    }));
  }

  /**
   * The priority a query is admitted with when the runtime is saturated: its climate-justice priority, and ahead of
   * every ordinary request when a declared emergency will make it an emergency turn (its region, and a purpose of
   * disaster response or climate adaptation): triage serves those first.
   */
  async admissionPriority(query: { region: string; purpose: string }): Promise<number> {
    const { priority } = priorityOf(query);
    const emergency = inForceFor(await this.emergencies.refresh(), query.region).length > 0 && (EMERGENCY_PURPOSES as readonly string[]).includes(query.purpose);
    return emergency ? EMERGENCY_ADMISSION + priority : priority;
  }

  /** The actor's current snapshot (loading it from its stream if it is not hosted yet). */
  async snapshotOf(streamId: string): Promise<AnyMachineSnapshot> {
    return (await this.actor(streamId)).snapshot;
  }

  /** Effects the actor's log shows as started and not finished: armed timers and model requests without outcome. */
  async outstandingEffects(streamId: string): Promise<{ timers: { key: string; dueAt: number }[]; modelRequests: number }> {
    const { tracking } = await this.actor(streamId);
    return { timers: [...tracking.activeTimers.values()].map(({ key, dueAt }) => ({ key, dueAt })), modelRequests: tracking.pendingRequests.size };
  }

  /** Resolves when the actor's snapshot satisfies `check` (now or after a later step). */
  async waitFor(streamId: string, check: (snapshot: AnyMachineSnapshot) => boolean): Promise<AnyMachineSnapshot> {
    const actor = await this.actor(streamId);
    if (check(actor.snapshot)) return actor.snapshot;
    return new Promise((resolve) => this.waiters.add({ streamId, check, resolve }));
  }

  /** Resolves when no fact is being processed and no model call is in flight; rejects with the first failure. */
  async settled(): Promise<void> {
    while (this.busy > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.failures.length > 0) throw this.failures[0];
  }

  /**
   * Rebuilds an actor from its stream and resumes its unfinished effects: re-arms timers that were started and
   * neither fired nor cancelled, re-issues model requests without a recorded outcome (same request id, so the
   * outcome is recorded once), and re-delivers sent messages (a target that already has one skips it).
   */
  async rehydrate(streamId: string): Promise<void> {
    const actor = await this.actor(streamId);
    const { activeTimers, pendingRequests, sentMessages } = actor.tracking;
    const now = this.clock.now();
    const overdue: [timerId: string, key: string][] = [];
    for (const [timerId, timer] of activeTimers) {
      if (timer.dueAt > now) this.arm(actor, timerId, timer.key, timer.dueAt);
      else overdue.push([timerId, timer.key]);
    }
    const ledger = await this.ledgers.host(actor.sessionId);
    // The agent's model timeout passed while no process ran: firing it (below) gives up its call, so calling the
    // provider again now would pay for an answer nobody waits for, and race the timeout to record it.
    const timedOut = overdue.some(([, key]) => key === MODEL_TIMEOUT);
    // Whether a call of this actor is running in this process (checked before any is re-issued below).
    const callsHere = [...pendingRequests.keys()].some((requestId) => this.inFlightCalls.has(requestId));
    for (const [requestId, request] of pendingRequests) {
      if (request.cancelled) this.cancelModelCall(actor.streamId, requestId);
      // A request the ledger never reserved was refused before the process stopped: record that, do not call.
      else if (!ledger.state.reservations[requestId]) this.refuseModelCall(actor.streamId, requestId, 'no reservation was granted for this call (the ledger\'s tokens.refused says why)');
      else if (!timedOut) this.callModel(actor.streamId, requestId, { ...request, ...this.callLimits(actor) });
    }
    // Timers that came due while no process hosted them fire now, after the calls they may time out are under way
    // again (as when they were armed on the clock), and tracked from this moment: `settled`, and with it a short
    // command such as `resume`, waits for them, where a clock timer could still be pending when the command exits.
    // A model timeout whose call no process here is running is recorded as missed: the call ran in a process that
    // stopped, and the agent does not hold it against the provider (it calls again). One whose call runs here (an
    // actor reloaded after a write conflict) timed a live call: an ordinary firing.
    for (const [timerId, key] of overdue) {
      if (!this.stopped) this.background(() => this.fireTimer(actor, timerId, key, key === MODEL_TIMEOUT && !callsHere), actor.streamId);
    }
    await Promise.all([...sentMessages].map(([messageId, message]) =>
      this.enqueue(message.to, { type: message.messageType, data: message.data, eventId: deliveredMessageId(messageId), causationId: message.recordEventId })));
  }

  /**
   * Stops hosting a session another worker now owns: its actors, ledger and projections are dropped, its timers
   * disarmed, its model calls abandoned without an outcome recorded here, and facts for it refused, until
   * `reclaimSession`. The owner rebuilds all of it from the log.
   */
  releaseSession(sessionId: string): void {
    this.released.add(sessionId);
    this.forgetSession(sessionId);
    for (const call of this.inFlightCalls.values()) if (call.sessionId === sessionId) call.abandon.abort(new SessionReleasedError(sessionId));
  }

  /**
   * Drops what this runtime holds of a session (actors, their armed timers, ledger, projections), so it is read
   * afresh from the log: after another process recorded facts for it (a client's query and the requests that caused),
   * `rehydrate` then performs what they requested. Model calls in flight go on; their outcomes reach the reloaded actors.
   */
  forgetSession(sessionId: string): void {
    for (const [streamId, actor] of this.actors) {
      if (actor.sessionId !== sessionId) continue;
      for (const handle of actor.armed.values()) this.clock.clearTimer(handle);
      actor.armed.clear();
      this.actors.delete(streamId);
    }
    this.ledgers.forget(sessionId);
    this.sessionProjections.forget(sessionId);
    this.checkpointed.delete(sessionId);
  }

  /** Hosts a released session again: its actors load afresh from the log on their next fact. */
  reclaimSession(sessionId: string): void {
    this.released.delete(sessionId);
  }

  /** Stops arming timers and cancels the armed ones; the log stays as it is, ready to be resumed. */
  stop(): void {
    this.stopped = true;
    for (const actor of this.actors.values()) for (const handle of actor.armed.values()) this.clock.clearTimer(handle);
  }

  private async actor(streamId: string): Promise<HostedActor> {
    const hosted = this.actors.get(streamId);
    if (hosted) return hosted;
    let loading = this.loading.get(streamId);
    if (!loading) {
      loading = this.load(streamId);
      this.loading.set(streamId, loading);
    }
    try {
      const actor = await loading;
      this.actors.set(streamId, actor);
      return actor;
    } finally {
      this.loading.delete(streamId);
    }
  }

  private async load(streamId: string): Promise<HostedActor> {
    const kind = actorKindOf(streamId);
    const { snapshot, revision, tracking } = await loadActor(this.store, kind, streamId);
    return { streamId, kind, sessionId: sessionIdOf(streamId), snapshot, revision, tracking, armed: new Map() };
  }

  /** Writes the inbox group by group: what arrives while one group is being written goes into the next. */
  private async drain(): Promise<void> {
    try {
      while (this.inbox.length > 0) {
        const group = this.inbox.splice(0, MAX_GROUP_DELIVERIES);
        // A batch is never cut by the group's size limit.
        while (this.inbox.length > 0 && this.inbox[0]!.batch !== undefined && this.inbox[0]!.batch === group.at(-1)!.batch) group.push(this.inbox.shift()!);
        await this.commitGroup(group);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Stages a group of deliveries — each fact, the effect requests its step produced, and the messages it sends to
   * hosted actors with their own consequences — and writes all of it in one multi-stream append. Only then are the
   * new snapshots adopted and the effects performed (write-ahead). A group that fails is retried one delivery at
   * a time, so one bad fact cannot take the others down with it.
   */
  private async commitGroup(group: Delivery[], attempt = 1): Promise<void> {
    let staged: Map<string, StagedActor> | undefined;
    let ledger: LedgerStage | undefined;
    let usage: Map<string, number> | undefined;
    let handOffCheckpoints = new Map<string, CheckpointData['reason']>();
    try {
      const stage = await this.stage(group);
      staged = stage.staged;
      ledger = stage.ledger;
      const parts = [...staged.values()].filter((s) => s.events.length > 0);
      const appends = [
        ...parts.map((s) => ({ streamId: s.actor.streamId, events: s.events, expectedState: s.actor.revision < 0n ? 'no_stream' as const : s.actor.revision })),
        ...stage.ledger.parts(),
      ];
      // A group of re-deliveries that were all already recorded (routine on rehydrate) writes nothing.
      if (appends.length > 0) {
        // Checkpoints waiting to be written ride along, so they cost no commit of their own. Only on the first
        // try: should the group fail, its retries go without them (a checkpoint is only ever an optimisation).
        const checkpoints = this.retrying ? [] : checkpointParts(this.pendingCheckpoints.splice(0));
        // A session held through a lease is extended only while the lease stands: checked in the same write, first.
        const fences = this.fencesFor(appends.map((part) => part.streamId));
        const written = await this.store.appendToStreams([...fences, ...appends, ...checkpoints]);
        this.triageLog.observe(written.flatMap((result) => result.recorded ?? []));
        const results = written.slice(fences.length);
        const facts = results.slice(0, appends.length);
        const recorded = facts.every((result) => result.recorded !== undefined) ? facts.flatMap((result) => result.recorded!) : undefined;
        this.sessionProjections.observe(new Set(parts.map((s) => s.actor.sessionId)), recorded);
        await setRetentionOnFirst(this.store, checkpoints, results.slice(appends.length), this.checkpointRetention).catch((error) => this.fail(error));
      }
      for (const s of parts) this.adopt(s);
      stage.ledger.adopt();
      usage = stage.ledger.usageBySession();
      handOffCheckpoints = checkpointReasons(parts);
      for (const delivery of group) delivery.resolve();
      if (!this.stopped && this.performsEffects) for (const perform of stage.performs) perform();
    } catch (error) {
      const parts = unbatched(group);
      if (parts.length > 1) {
        this.retrying = true;
        try {
          for (const part of parts) await this.commitGroup(part);
        } finally {
          this.retrying = false;
        }
        return;
      }
      ledger?.forget();
      // The fact itself is already recorded in its actor's stream, within what the hosted actor has folded, though
      // further back than the ids it knows (an actor rebuilt from a checkpoint knows them from there on): its id is
      // its idempotency key, so the delivery is done, and the actor, already past it, is kept as it is, timers and
      // all. Retried, it would meet the same refusal every time.
      if (error instanceof DuplicateEventIdError && group.length === 1 && this.alreadyHolds(group[0]!, error)) {
        group[0]!.resolve();
        return;
      }
      this.forgetAfterFailedWrite(staged);
      // Another writer extended one of the streams first (a client recording a query, a worker that took the
      // session over): the actors reload from the log and the fact is staged again on top of what is there. Facts
      // already recorded by the other writer (the same outcome, under its derived id) are recognised and skipped.
      const sessionId = sessionIdOf(group[0]!.streamId);
      if (error instanceof WrongExpectedVersionError && this.fence?.(sessionId)?.streamId === error.streamId) {
        for (const delivery of group) delivery.reject(new SessionFencedError(sessionId, error));
        return;
      }
      if (isConflict(error) && attempt < MAX_CONFLICT_ATTEMPTS && !this.released.has(sessionId)) {
        await this.commitGroup(group, attempt + 1);
        // What the other writer recorded may have asked for effects nobody here performs yet: perform them.
        // (`forgetAfterFailedWrite` has already asked for that where the store cannot write a group atomically.)
        if (this.store.atomicMultiStreamAppend) for (const streamId of staged?.keys() ?? []) this.background(() => this.rehydrate(streamId), streamId);
        return;
      }
      for (const delivery of group) delivery.reject(error);
      return;
    }
    // A checkpoint that cannot be written costs only speed later, so it never fails the facts already durable.
    await this.checkpointIfDue(usage).catch((error) => this.fail(error));
    for (const [sessionId, reason] of handOffCheckpoints) {
      await this.queueCheckpoint(sessionId, reason).catch((error) => this.fail(error));
      this.scheduleCheckpointFlush();
    }
  }

  private async stage(group: Delivery[]): Promise<{ staged: Map<string, StagedActor>; performs: Perform[]; ledger: LedgerStage }> {
    const staged = new Map<string, StagedActor>();
    const performs: Perform[] = [];
    const now = new Date(this.clock.now()).toISOString();
    const ledger = this.ledgers.begin(now);
    // Each session's hosted projections as they stand before this group; its prompt context is made only if a
    // task is sent (most groups send none), and once.
    const hosts = new Map<string, HostedProjections | undefined>();
    // A hand-off's summary, made in this group, reads the session with the facts the group has staged for it so far,
    // so it includes the answer that triggered it; gathered only when one is asked for (hand-offs are rare). (A
    // task's prompt reads the session as recorded: the turn's own query, which the prompt states anyway, and the
    // triage that chose the agent would only repeat it, on every turn's bill.)
    const stagedFor = (sessionId: string): StagedFact[] => [...staged.values()]
      .filter((s) => s.actor.sessionId === sessionId && s.actor.kind.category !== 'market')
      .flatMap((s) => s.events.map((event, i) => ({ streamId: s.actor.streamId, revision: s.actor.revision + BigInt(i + 1), event })));
    const contexts = new Map<string, string>();
    const contextOf = (sessionId: string) => {
      let context = contexts.get(sessionId);
      if (context === undefined) contexts.set(sessionId, context = promptContextOfHost(hosts.get(sessionId)));
      return context;
    };
    const pending: { streamId: string; input: ActorInput }[] = [...group];
    let events = 0;
    let triageInputsFresh = false;
    while (pending.length > 0) {
      const { streamId, input } = pending.shift()!;
      const actor = await this.actor(streamId);
      // A market is no session: its facts are settled in the ledgers of the sessions trading on it.
      if (actor.kind.category === 'market') for (const party of marketParties(actor.snapshot, input)) await ledger.prepare(party);
      else await ledger.prepare(actor.sessionId);
      // A fact that can start a turn (a query, or an answer that frees the session for a queued one) is triaged in
      // this group: what triage reads from the store (emergencies, learnt budgets) is caught up first, once.
      if (!triageInputsFresh && actor.kind.category === 'session' && mayStartTurn(staged.get(streamId)?.snapshot ?? actor.snapshot, input)) {
        await this.emergencies.refresh();
        await this.triageLog.refresh();
        triageInputsFresh = true;
      }
      // Sessions send tasks (with prompt context) and transitions hand work over (with a summary): both read the state.
      if ((actor.kind.category === 'session' || actor.kind.category === 'transition') && !hosts.has(actor.sessionId)) hosts.set(actor.sessionId, await this.sessionProjections.caughtUp(actor.sessionId));
      let s = staged.get(streamId);
      if (!s) {
        s = { actor, snapshot: actor.snapshot, tracking: copyTracking(actor.tracking), events: [], snapshots: [] };
        staged.set(streamId, s);
      }
      if (isStale(s.tracking, input)) continue;
      if (input.type === 'session.started' && !s.snapshot.matches('new')) throw new SessionAlreadyStartedError(actor.sessionId);
      // The fact and the effect requests its step produced (and theirs) go into the same append: after a crash the
      // log holds a fact with every request it caused, or neither.
      const steps: ActorInput[] = [input];
      while (steps.length > 0) {
        const event = this.envelope(actor, steps.shift()!, now);
        if (++events > MAX_GROUP_EVENTS) throw new Error(`One delivery to ${group[0]!.streamId} caused more than ${MAX_GROUP_EVENTS} events: the machines are messaging each other in a loop`);
        const step = stepActor(actor.kind, s.snapshot, machineEventOf(event));
        s.events.push(event);
        s.snapshot = step.snapshot;
        s.snapshots.push(step.snapshot);
        // Written with the expected revision the actor had, so each staged event's revision is known now.
        trackEvent(s.tracking, event, actor.revision + BigInt(s.events.length));
        if (actor.kind.category === 'market') ledger.onMarketEvent(event);
        else ledger.onActorEvent(actor.sessionId, actor.streamId, event);
        // A triage model answered (or failed): the turn's triage facts follow in the same append.
        if (actor.kind.category === 'session' && (event.type === 'model.responded' || event.type === 'model.failed')) steps.push(...this.triageFromModel(s.snapshot, event, ledger, event.eventId));
        for (const effect of step.effects) {
          // An agent's calls are checked against the window its config gives (set by the same step that asks, on a first task).
          const agent = actor.kind.category === 'agent' ? (s.snapshot.context as AgentContext).config ?? undefined : undefined;
          const record = this.recordEffect(actor, s.tracking, ledger, withSessionContext(effect, () => contextOf(actor.sessionId), (window) => transferSummaryOfHost(hosts.get(actor.sessionId), window, stagedFor(actor.sessionId))), event.eventId, now, event, agent);
          if (!record) continue;
          steps.push(record.input, ...(record.follow ?? []));
          if (record.perform) performs.push(record.perform);
          if (record.message) pending.push(record.message);
        }
      }
    }
    return { staged, performs, ledger };
  }

  /**
   * Checkpoints each session whose usage crossed another `checkpointEveryTokens` boundary in this group. It runs
   * between groups, so the checkpoint covers exactly what is in the store.
   */
  private async checkpointIfDue(usage: Map<string, number>): Promise<void> {
    if (this.checkpointEveryTokens <= 0) return;
    for (const [sessionId, tokens] of usage) {
      let last = this.checkpointed.get(sessionId);
      if (last === undefined) last = await checkpointedTokens(this.store, sessionId);
      if (Math.floor(tokens / this.checkpointEveryTokens) > Math.floor(last / this.checkpointEveryTokens)) {
        await this.queueCheckpoint(sessionId, 'tokens');
        this.scheduleCheckpointFlush();
      } else {
        this.checkpointed.set(sessionId, last);
      }
    }
  }

  /**
   * Composes a checkpoint of the state the store holds now and queues it: it is written with the next group's
   * append, or on its own once nothing else is being written. Either way its own position is after everything it
   * covers, which is all a point-in-time query asks of it. It is composed from the actors, ledger and projections
   * this runtime hosts, or folded from the store where the runtime does not host the whole session.
   */
  private async queueCheckpoint(sessionId: string, reason: CheckpointData['reason']): Promise<void> {
    const recordedAt = new Date(this.clock.now()).toISOString();
    const data = await this.composeCheckpoint(sessionId, reason) ?? await checkpointOfStore(this.store, sessionId, reason, this.projections);
    this.pendingCheckpoints.push({ sessionId, data, event: checkpointEvent(sessionId, data, { ids: this.ids, recordedAt }) });
    this.checkpointed.set(sessionId, data.usageTokens);
  }

  /** Writes queued checkpoints once the runtime is between groups with none to follow (tracked, so `settled` waits). */
  private scheduleCheckpointFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    void this.track(async () => {
      // A macrotask later: a group that follows at once (the next query, a model's answer) takes them along.
      do await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.draining);
      this.flushScheduled = false;
      await this.writeQueuedCheckpoints().catch((error) => this.fail(error));
    });
  }

  private async writeQueuedCheckpoints(): Promise<void> {
    const checkpoints = checkpointParts(this.pendingCheckpoints.splice(0));
    if (checkpoints.length === 0 || this.stopped) return;
    const written = await this.store.appendToStreams(checkpoints);
    this.triageLog.observe(written.flatMap((result) => result.recorded ?? []));
    await setRetentionOnFirst(this.store, checkpoints, written, this.checkpointRetention);
  }

  /**
   * Checkpoints the store-wide folds this runtime keeps (triage's budget learning and memory) once they have folded
   * at least `minEvents` positions past their newest checkpoint: another process then starts from here.
   */
  async checkpointStoreFolds(minEvents = 1): Promise<boolean> {
    if (this.triageLog.uncheckpointed < BigInt(minEvents)) return false;
    return this.triageLog.checkpoint({ ids: this.ids, recordedAt: new Date(this.clock.now()).toISOString() });
  }

  /** Records a checkpoint of a session now (also used at hand-offs). */
  async checkpoint(sessionId: string, reason: CheckpointData['reason'] = 'manual'): Promise<void> {
    // Written now, after any still queued, so each checkpoint stream stays in the order its states were taken.
    await this.queueCheckpoint(sessionId, reason);
    await this.writeQueuedCheckpoints();
  }

  /**
   * A checkpoint from the state this runtime hosts: its actors' snapshots, its ledger and its projections, all
   * caught up with the store. It runs between groups, so each hosted actor and ledger stands exactly at the
   * revision the projections have folded; where one does not (an actor this process never loaded), it returns
   * nothing and the checkpoint is folded from the store instead.
   */
  private async composeCheckpoint(sessionId: string, reason: CheckpointData['reason']): Promise<CheckpointData | undefined> {
    const hosted = await this.sessionProjections.caughtUp(sessionId);
    if (!hosted) return undefined;
    const ledger = await this.ledgers.host(sessionId);
    const ledgerCovered = hosted.covered[ledgerStream(sessionId)];
    if (ledgerCovered === undefined || BigInt(ledgerCovered.revision) !== ledger.revision) return undefined;
    const actors: CheckpointData['actors'] = {};
    const openFrom: Record<string, string> = {};
    for (const [streamId, covered] of Object.entries(hosted.covered).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (actorKinds[streamCategory(streamId)] === undefined) continue;
      const actor = this.actors.get(streamId);
      if (!actor || actor.revision !== BigInt(covered.revision)) return undefined;
      actors[streamId] = { value: actor.snapshot.value, context: actor.snapshot.context, status: actor.snapshot.status };
      const from = openEffectsFrom(actor.tracking, actor.revision);
      if (from !== undefined) openFrom[streamId] = String(from);
    }
    const { usage } = ledger.state;
    return {
      reason, usageTokens: usage.total.inputTokens + usage.total.outputTokens, covered: { ...hosted.covered }, actors,
      // The keeper folds ledger events without their positions; the projection records its last one's.
      projections: { ledger: { ...ledger.state, position: ledgerCovered.position }, ...hosted.states },
      // Where a store may write a group's streams one by one, a message can be left undelivered behind the
      // checkpoint, which `openFrom` does not cover: such stores rehydrate from whole streams.
      ...(this.store.atomicMultiStreamAppend ? { openFrom } : {}),
    };
  }

  private adopt(s: StagedActor): void {
    const { actor } = s;
    actor.snapshot = s.snapshot;
    actor.revision += BigInt(s.events.length);
    actor.tracking = settleTracking(s.tracking);
    s.events.forEach((event, i) => this.onStep?.(actor.streamId, event, s.snapshots[i]!));
    this.notifyWaiters(actor);
  }

  /**
   * After a failed write the hosted state of the actors involved may be behind the store (another writer won a
   * race, or a store without atomic multi-stream appends wrote some parts): forget them so they reload, and resume
   * what the parts that did land had started.
   */
  /** The fences of the sessions whose streams a write extends (one per session). */
  private fencesFor(streamIds: readonly string[]): { streamId: string; events: never[]; expectedState: bigint }[] {
    if (!this.fence) return [];
    const fences = new Map<string, { streamId: string; events: never[]; expectedState: bigint }>();
    for (const streamId of streamIds) {
      const sessionId = sessionIdOf(streamId);
      const fence = fences.has(sessionId) ? undefined : this.fence(sessionId);
      if (fence) fences.set(sessionId, { streamId: fence.streamId, events: [], expectedState: fence.expectedState });
    }
    return [...fences.values()];
  }

  /** Whether the id a write was refused for is this very delivery's fact, recorded where its hosted actor has already folded. */
  private alreadyHolds(delivery: Delivery, error: DuplicateEventIdError): boolean {
    const hosted = this.actors.get(delivery.streamId);
    return delivery.input.eventId === error.eventId && error.recorded !== undefined && error.recorded.streamId === delivery.streamId
      && hosted !== undefined && error.recorded.revision <= hosted.revision;
  }

  private forgetAfterFailedWrite(staged: Map<string, StagedActor> | undefined): void {
    if (!staged) return;
    for (const streamId of staged.keys()) {
      // Its armed timers go with it (whoever reloads it re-arms what its log shows started): a timer left armed
      // would keep a stopped process alive until it fired.
      for (const handle of this.actors.get(streamId)?.armed.values() ?? []) this.clock.clearTimer(handle);
      this.actors.delete(streamId);
    }
    for (const { actor } of staged.values()) this.sessionProjections.forget(actor.sessionId);
    if (this.store.atomicMultiStreamAppend) return;
    for (const streamId of staged.keys()) this.background(() => this.rehydrate(streamId), streamId);
  }

  private envelope(actor: HostedActor, input: ActorInput, recordedAt: string): EventToAppend {
    return {
      eventId: input.eventId ?? this.ids.next(),
      type: input.type,
      data: input.data,
      metadata: {
        actorId: actor.streamId, actorKind: actor.kind.category, sessionId: actor.sessionId, correlationId: actor.sessionId,
        causationId: input.causationId, recordedAt, machineVersion: actor.kind.version,
      },
    };
  }

  /** Turns an effect request into the record written with its cause, and the action performed once durable. */
  private recordEffect(actor: HostedActor, tracking: ActorTracking, ledger: LedgerStage, effect: Effect, causeId: string, now: string, cause?: EventToAppend, agent?: AgentConfig): EffectRecord | undefined {
    const eventId = this.ids.next();
    switch (effect.type) {
      case 'model.call': {
        const request = { model: effect.model, prompt: effect.prompt, attempt: effect.attempt };
        const estimatedInputTokens = this.estimateTokens(effect.model, effect.promptParts);
        const reservation = { requestId: eventId, amount: estimatedInputTokens + effect.outputReserveTokens, model: effect.model, turn: effect.turn };
        // No call without a reservation: a refused one is answered with a recorded refusal, never sent. Nor one its
        // model cannot take: the provider would refuse it anyway, after a round trip, counting it against itself.
        const tooLong = this.promptTooLong(effect.model, estimatedInputTokens, effect.prompt, agent);
        const grant = tooLong === undefined ? ledger.reserve(actor.sessionId, actor.streamId, reservation, causeId) : ledger.refuse(actor.sessionId, actor.streamId, reservation, tooLong, causeId);
        return {
          input: { type: 'model.requested', eventId, causationId: causeId, data: { requestId: eventId, ...request, estimatedInputTokens } },
          perform: grant.granted
            ? () => this.callModel(actor.streamId, eventId, request)
            : () => this.refuseModelCall(actor.streamId, eventId, grant.reason),
        };
      }
      case 'model.cancel': {
        const cancelled: ActorInput = { type: 'model.cancelled', eventId, causationId: causeId, data: { requestId: effect.requestId } };
        // A call no process here is running (its process stopped) has nothing to abort: its outcome is recorded in
        // this same write, and its reservation released before the step's next call reserves, so an agent calling
        // again as the same attempt is not refused for tokens the dead call still held.
        if (this.performsEffects && !this.inFlightCalls.has(effect.requestId) && tracking.pendingRequests.has(effect.requestId)) {
          const outcome = { ...abandonedOutcome(effect.requestId, isModelTimeout(cause)), eventId: derivedId(`${effect.requestId}/outcome`), causationId: effect.requestId };
          ledger.releaseAbandoned(actor.sessionId, actor.streamId, effect.requestId, outcome.data.reason, outcome.eventId);
          return { input: cancelled, follow: [outcome] };
        }
        // Abandoned because the agent's model timeout fired: the call's outcome then says it timed out.
        return { input: cancelled, perform: () => this.cancelModelCall(actor.streamId, effect.requestId, isModelTimeout(cause)) };
      }
      case 'timer.start': {
        const dueAt = Date.parse(now) + effect.delayMs;
        return {
          input: { type: 'timer.started', eventId, causationId: causeId, data: { timerId: eventId, key: effect.key, delayMs: effect.delayMs, dueAt: new Date(dueAt).toISOString() } },
          perform: () => this.arm(actor, eventId, effect.key, dueAt),
        };
      }
      case 'timer.cancel': {
        const timerId = activeTimerWithKey(tracking, effect.key);
        if (timerId === undefined) return undefined;
        return {
          input: { type: 'timer.cancelled', eventId, causationId: causeId, data: { timerId, key: effect.key } },
          perform: () => this.disarm(actor, timerId),
        };
      }
      case 'triage.request': {
        if (this.triageModel !== undefined) {
          // Delegated: a model call like an agent's, reserved in the ledger and recorded on the session's stream.
          const prompt = modelTriagePrompt(effect.query, rulesDecision(effect.query, this.triageInputs(ledger)), this.emergencies.inForce);
          const request = { model: this.triageModel, prompt, attempt: 1 };
          const estimatedInputTokens = this.estimateTokens(this.triageModel, prompt.split('\n'));
          const grant = ledger.reserve(actor.sessionId, actor.streamId, { requestId: eventId, amount: estimatedInputTokens + TRIAGE_OUTPUT_TOKENS, model: this.triageModel, turn: effect.turn }, causeId);
          return {
            input: { type: 'model.requested', eventId, causationId: causeId, data: { requestId: eventId, ...request, estimatedInputTokens } },
            perform: grant.granted ? () => this.callModel(actor.streamId, eventId, { ...request, ...this.callLimits(actor) }) : () => this.refuseModelCall(actor.streamId, eventId, grant.reason),
          };
        }
        const [decided, ...follow] = triageTurn(effect, this.triageInputs(ledger)).map((fact) => ({ ...fact, eventId: this.ids.next(), causationId: causeId }));
        return { input: decided!, follow };
      }
      case 'market.settle': {
        // The clearing the machine computed, recorded as facts in the same append as both ledgers' postings.
        const facts = [
          ...effect.trades.map((data) => ({ type: 'tokens.traded', data })),
          ...effect.expired.map((data) => ({ type: 'offer.expired', data })),
          { type: 'market.cleared', data: effect.cleared },
        ].map((fact) => ({ ...fact, eventId: this.ids.next(), causationId: causeId }));
        const [input, ...follow] = facts;
        return { input: input!, follow };
      }
      case 'turn.complete':
        return { input: { type: 'turn.completed', eventId, causationId: causeId, data: { turn: effect.turn, status: effect.status, mode: effect.mode, agents: effect.agents } } };
      case 'message.send':
        // Delivered in the same write: the target's stream gets the message (and what it causes) atomically with
        // the sender's `message.sent`; `rehydrate` re-delivers it if a store could not write both at once.
        return {
          input: { type: 'message.sent', eventId, causationId: causeId, data: { messageId: eventId, to: effect.to, messageType: effect.messageType, data: effect.data } },
          message: { streamId: effect.to, input: { type: effect.messageType, data: effect.data, eventId: deliveredMessageId(eventId), causationId: eventId } },
        };
    }
  }

  /** What triage reads: emergencies in force, budget learning (with reconciliations staged in this write), threshold. */
  private triageInputs(ledger: LedgerStage): TriageInputs {
    // A turn queued behind one that just ended learns from that one's reconciliation, written in this same append.
    const learning = ledger.stagedBudgetOutcomes().reduce((state, { data, eventId }) => {
      const outcome = budgetOutcomeOf(data);
      return outcome ? learnFromOutcome(state, outcome, eventId) : state;
    }, this.triageLog.state.learning);
    return { emergencies: this.emergencies.inForce, learning, memory: this.triageLog.state.memory, ...(this.councilThreshold === undefined ? {} : { councilThreshold: this.councilThreshold }) };
  }

  /** A triage model's outcome on a session's stream: the decision it gives (or the rules', saying why), with its facts. */
  private triageFromModel(snapshot: AnyMachineSnapshot, event: EventToAppend, ledger: LedgerStage, causeId: string): ActorInput[] {
    const { turn, current } = snapshot.context as { turn: number; current: { text: string; region: string; purpose: string } | null };
    if (current === null || !snapshot.matches({ turn: 'triaging' })) return [];
    const inputs = this.triageInputs(ledger);
    const rules = rulesDecision(current, inputs);
    const data = event.data as { requestId: string; text?: string; reason?: string };
    const model = this.triageModel ?? 'triage model';
    const { decision, fallback } = event.type === 'model.responded'
      ? decisionFromModel(data.text ?? '', rules, model)
      : { decision: { ...rules, rationale: `${rules.rationale} Rules used: the triage model failed (${data.reason}).` }, fallback: `the triage model failed (${data.reason})` };
    const decidedBy = { by: fallback === null ? 'model' as const : 'rules' as const, model, requestId: data.requestId, ...(fallback === null ? {} : { fallback }) };
    return triageTurn({ turn, query: current }, inputs, { decision, decidedBy }).map((fact) => ({ ...fact, eventId: this.ids.next(), causationId: causeId }));
  }

  /**
   * The reservation's estimate of a prompt: its parts counted one by one, plus one token per line break joining
   * them. A prompt repeats most of the last one (the agent's recent turns, the session context), and counts of
   * texts already seen are remembered, so this costs the new parts only; it is at or just above the whole prompt's
   * count, since BPE rarely merges across a line break, and over rather than under is the safe side for a
   * reservation.
   */
  private estimateTokens(spec: string, parts: readonly string[]): number {
    try {
      const model = this.models(spec);
      return parts.reduce((sum, part) => sum + model.estimateTokens(part), parts.length - 1);
    } catch {
      // An unresolvable spec still gets a request recorded; its call then fails with a recorded reason.
      return Math.ceil(parts.join('\n').length / 4);
    }
  }

  /**
   * Why a prompt cannot go to its model, if it cannot: it is longer than the model's context window. The agent's
   * primary has the window the session recorded for its agents (`contextWindow`: the profile's, or the one the user
   * set, as for a small local model, which would otherwise cut the prompt silently); another model (the fallback)
   * has its profile's. A model the profile table does not know is left to its provider, unless the user gave its
   * window: the default the config records for it is an assumption, not a limit. The estimate is padded for the
   * reservation, so a prompt it puts over the window is counted whole before it is refused.
   */
  private promptTooLong(spec: string, estimatedTokens: number, prompt: string, agent: AgentConfig | undefined): string | undefined {
    let model: LanguageModel;
    try {
      model = this.models(spec);
    } catch {
      return undefined;
    }
    const assumed = model.profile === undefined && agent?.contextWindow === DEFAULT_CONTEXT_WINDOW;
    const window = agent !== undefined && spec === agent.model && !assumed ? agent.contextWindow : model.profile?.contextWindow;
    if (window === undefined || estimatedTokens <= window) return undefined;
    const tokens = model.estimateTokens(prompt);
    return tokens > window ? `context window: the prompt is ${tokens} tokens, more than the ${window} ${spec} takes` : undefined;
  }

  /**
   * What bounds a call besides the provider's own deadline: a triage call (on a session's stream) has no agent timer
   * to time it out, so it is given the session's model timeout, after which triage falls back to its rules; an
   * agent's call is timed out by its recorded timer. The output reserve is not sent as the call's output limit:
   * reasoning models spend their hidden reasoning from that limit, and 512 tokens of it leave them no answer at all.
   */
  private callLimits(actor: HostedActor): { deadlineMs?: number } {
    const timeoutMs = actor.kind.category === 'session' ? (actor.snapshot.context as SessionContext).agent?.modelTimeoutMs : undefined;
    return timeoutMs === undefined ? {} : { deadlineMs: timeoutMs };
  }

  private callModel(streamId: string, requestId: string, request: ModelCallRequest): void {
    if (this.inFlightCalls.has(requestId) || this.stopped) return;
    const abandon = new AbortController();
    this.inFlightCalls.set(requestId, { abandon, sessionId: sessionIdOf(streamId) });
    this.background(async () => {
      try {
        const outcome = await this.performModelCall(requestId, request, abandon.signal);
        await this.recordOutcome(streamId, requestId, outcome).catch((error: unknown) => {
          // An answer the log refuses (a model whose usage is not token counts, say) would leave the request open,
          // to be called again, and refused again, by every process that takes the session over: it is recorded as
          // the malformed answer it is, and the agent retries or falls back as after any other.
          if (outcome.type !== 'model.responded' || !(error instanceof EventSchemaError)) throw error;
          const reason = `malformed: ${request.model} answered with data that cannot be recorded (${error.fieldPaths.join(', ')}): ${error.message}`;
          return this.recordOutcome(streamId, requestId, { type: 'model.failed', data: { requestId, model: request.model, reason: reason.slice(0, 500), retryable: false, kind: 'malformed' } });
        });
      } finally {
        this.inFlightCalls.delete(requestId);
      }
    }, streamId);
  }

  private refuseModelCall(streamId: string, requestId: string, reason: string): void {
    const outcome = { type: 'model.failed', data: { requestId, reason: `refused: ${reason}`, retryable: false, kind: 'refused' } };
    this.background(() => this.recordOutcome(streamId, requestId, outcome), streamId);
  }

  /** Aborts an abandoned call; one that is not running (it was abandoned before a crash) gets its outcome directly. */
  private cancelModelCall(streamId: string, requestId: string, timedOut = false): void {
    const running = this.inFlightCalls.get(requestId);
    if (running) return running.abandon.abort(timedOut ? new DOMException('the agent\'s model timeout fired before the model answered', 'TimeoutError') : new Error('the agent stopped waiting for this call'));
    this.background(() => this.recordOutcome(streamId, requestId, abandonedOutcome(requestId, timedOut)), streamId);
  }

  private recordOutcome(streamId: string, requestId: string, outcome: { type: string; data: unknown }): Promise<void> {
    return this.enqueue(streamId, { ...outcome, eventId: derivedId(`${requestId}/outcome`), causationId: requestId });
  }

  private async performModelCall(requestId: string, request: ModelCallRequest, abandoned: AbortSignal): Promise<{ type: string; data: unknown }> {
    try {
      const model = this.models(request.model);
      const abortSignal = AbortSignal.any([abandoned, AbortSignal.timeout(Math.min(this.providerDeadlineMs, request.deadlineMs ?? Infinity))]);
      const reply: ModelReply = await model.call({ requestId, prompt: request.prompt, attempt: request.attempt, abortSignal });
      return {
        type: 'model.responded',
        data: {
          requestId, text: reply.text, usage: reply.usage, latencyMs: reply.latencyMs, model: reply.model, provider: reply.provider,
          region: reply.region, usageSource: reply.usageSource, estimatedUsage: reply.estimatedUsage, ...(reply.truncated ? { truncated: true } : {}),
        },
      };
    } catch (error) {
      const failure = error instanceof ModelCallError
        ? { reason: error.reason, retryable: error.retryable, kind: error.kind, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }), ...(error.billed === undefined ? {} : { billed: error.billed }) }
        : { reason: error instanceof Error ? error.message : String(error), retryable: false, kind: 'unknown' };
      return { type: 'model.failed', data: { requestId, model: request.model, ...failure } };
    }
  }

  private arm(actor: HostedActor, timerId: string, key: string, dueAt: number): void {
    if (this.stopped || actor.armed.has(timerId)) return;
    const handle = this.clock.setTimer(dueAt - this.clock.now(), () => {
      actor.armed.delete(timerId);
      this.background(() => this.fireTimer(actor, timerId, key), actor.streamId);
    });
    actor.armed.set(timerId, handle);
  }

  private fireTimer(actor: HostedActor, timerId: string, key: string, missed = false): Promise<unknown> {
    const data = missed ? { timerId, key, missed } : { timerId, key };
    return this.enqueue(actor.streamId, { type: 'timer.fired', data, eventId: derivedId(`${timerId}/fired`), causationId: timerId });
  }

  private disarm(actor: HostedActor, timerId: string): void {
    const handle = actor.armed.get(timerId);
    if (handle === undefined) return;
    this.clock.clearTimer(handle);
    actor.armed.delete(timerId);
  }

  private notifyWaiters(actor: HostedActor): void {
    for (const waiter of this.waiters) {
      if (waiter.streamId === actor.streamId && waiter.check(actor.snapshot)) {
        this.waiters.delete(waiter);
        waiter.resolve(actor.snapshot);
      }
    }
  }

  /**
   * Work nobody awaits (a model call, a timer's firing): tracked, so `settled` waits for it, and its failure recorded
   * before it counts as done, so `settled` cannot resolve in the moment between the two.
   */
  private background(work: () => Promise<unknown>, streamId?: string): void {
    void this.track(async () => {
      try {
        await work();
      } catch (error) {
        // A fact for a session released to another owner was never meant to be recorded here.
        if (error instanceof SessionReleasedError) return;
        // An outcome arriving after `stop` is not recorded, as a stopped process records nothing; a later one re-issues it.
        if (error instanceof RuntimeStoppedError) return;
        const failure = error instanceof Error ? error : new Error(String(error));
        if (this.onBackgroundFailure?.(failure, streamId === undefined ? undefined : sessionIdOf(streamId))) return;
        this.fail(failure);
      }
    });
  }

  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      if (this.busy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private fail(error: unknown): void {
    this.failures.push(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Sessions to checkpoint after a group (ARCHITECTURE.md §4: "and on hand-offs"): an agent past its checkpoint
 * threshold, and a hand-off completed, each mark a point a later query will want to start from.
 */
function checkpointReasons(parts: readonly StagedActor[]): Map<string, CheckpointData['reason']> {
  const reasons = new Map<string, CheckpointData['reason']>();
  for (const { actor, events } of parts) {
    if (actor.kind.category !== 'session') continue;
    for (const event of events) {
      if (event.type === 'transition.completed') reasons.set(actor.sessionId, 'handoff');
      else if (event.type === 'context.thresholdCrossed' && !reasons.has(actor.sessionId)) {
        const { level } = event.data as { level: string };
        if (level === 'checkpoint' || level === 'handoff') reasons.set(actor.sessionId, 'context');
      }
    }
  }
  return reasons;
}

/** The sessions whose ledgers a market fact touches: the party it names, or every party in the book for a clearing. */
function marketParties(snapshot: AnyMachineSnapshot, input: ActorInput): string[] {
  const data = input.data as { sessionId?: string; seller?: string; buyer?: string };
  if (input.type !== 'market.clearRequested') return [data.sessionId, data.seller, data.buyer].filter((id): id is string => typeof id === 'string');
  const { book } = snapshot.context as { book: { offers: { sessionId: string }[]; bids: { sessionId: string }[] } };
  return [...new Set([...book.offers, ...book.bids].map((entry) => entry.sessionId))];
}

/**
 * Whether a fact to a session can start a turn in this group: a query does; any other fact only when queries are
 * queued behind the running turn (an answer, or a hand-off ending, frees the session for the next one).
 */
function mayStartTurn(snapshot: AnyMachineSnapshot, input: ActorInput): boolean {
  return input.type === 'query.received' || ((snapshot.context as { queued?: unknown[] }).queued?.length ?? 0) > 0;
}

/**
 * Tasks a session sends carry its tiered state as prompt context, and a fresh instance taking over in a hand-off
 * gets the transfer summary; the effect (and so the record) includes them.
 */
function withSessionContext(effect: Effect, contextOf: () => string, summaryOf: (window: number) => { text: string; tokens: number; hotItems: number }): Effect {
  if (effect.type !== 'message.send') return effect;
  if (effect.messageType === 'task.assigned') {
    const context = contextOf();
    return context ? { ...effect, data: { ...effect.data, context } } : effect;
  }
  if (effect.messageType === 'agent.assigned' && effect.data.transfer) {
    const { text, tokens, hotItems } = summaryOf((effect.data.config as { contextWindow: number }).contextWindow);
    return { ...effect, data: { ...effect.data, transfer: { ...(effect.data.transfer as object), summary: text, summaryTokens: tokens, hotItems } } };
  }
  return effect;
}

/** A re-delivered message, a second outcome for a request, or a timer that was cancelled: nothing to record. */
function isStale(tracking: ActorTracking, input: ActorInput): boolean {
  if (input.eventId !== undefined && tracking.eventIds.has(input.eventId)) return true;
  const data = input.data as Record<string, unknown>;
  if (input.type === 'timer.fired') return !tracking.activeTimers.has(data.timerId as string);
  if (input.type === 'model.responded' || input.type === 'model.failed') return !tracking.pendingRequests.has(data.requestId as string);
  return false;
}

/** The outcome of a call given up that no process is running (it was abandoned before a crash). */
function abandonedOutcome(requestId: string, timedOut: boolean): { type: 'model.failed'; data: { requestId: string; reason: string; retryable: boolean; kind: string } } {
  return timedOut
    ? { type: 'model.failed', data: { requestId, reason: 'timeout: the agent\'s model timeout passed while no process was running the call', retryable: true, kind: 'timeout' } }
    : { type: 'model.failed', data: { requestId, reason: 'aborted: the agent stopped waiting before the call was re-issued', retryable: false, kind: 'aborted' } };
}

function isModelTimeout(cause: EventToAppend | undefined): boolean {
  return cause?.type === 'timer.fired' && (cause.data as { key?: string }).key === MODEL_TIMEOUT;
}

/** A failed group's parts to retry one by one: each delivery alone, but a batch's deliveries together. */
function unbatched(group: Delivery[]): Delivery[][] {
  const parts: Delivery[][] = [];
  for (const delivery of group) {
    const last = parts.at(-1);
    if (delivery.batch !== undefined && last?.[0]!.batch === delivery.batch) last.push(delivery);
    else parts.push([delivery]);
  }
  return parts;
}

/** Another writer got to the streams first: its events at the expected place, or some of this very batch's. */
export function isConflict(error: unknown): error is WrongExpectedVersionError | DuplicateEventIdError {
  return error instanceof WrongExpectedVersionError || error instanceof DuplicateEventIdError;
}

/** The id a message has in its target's stream: derived from the sender's `message.sent`, so re-delivery is a no-op. */
function deliveredMessageId(messageId: string): string {
  return derivedId(`${messageId}/delivered`);
}
