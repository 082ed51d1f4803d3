import { assign, emit, enqueueActions, setup } from 'xstate';
import type { AgentConfig, EventData, MachineEvent } from '../src/events/catalogue.ts';
import { essentialLines, promptParts, type PromptInput } from './agentPrompt.ts';
import { afterCooldown, afterPrimaryFailure, afterPrimarySuccess, chooseModel, closedBreaker, type CircuitBreaker } from './circuitBreaker.ts';
import type { Effect } from './effects.ts';
import { machineVersion } from './machineVersion.ts';

export type AgentEvent = MachineEvent<
  'agent.assigned' | 'task.assigned' | 'model.requested' | 'model.responded' | 'model.failed' | 'model.cancelled' |
  'timer.started' | 'timer.fired' | 'timer.cancelled' | 'message.sent' | 'transition.readinessRequested' | 'agent.retired'
>;

export type ContextLevel = 'collective' | 'warning' | 'checkpoint' | 'handoff';
const LEVELS: readonly ContextLevel[] = ['collective', 'warning', 'checkpoint', 'handoff'];
/** The founding design's thresholds, and 70 % for the "synchronised depletion" of several agents at once. */
export const DEFAULT_CONTEXT_THRESHOLDS: Readonly<Record<ContextLevel, number>> = { collective: 0.7, warning: 0.75, checkpoint: 0.85, handoff: 0.95 };

type Transfer = NonNullable<EventData<'agent.assigned'>['transfer']>;

type Task = PromptInput['task'];

export interface AgentContext {
  agentStream: string;
  sessionId: string;
  sessionStream: string;
  role: string;
  instance: number;
  config: AgentConfig | null;
  task: Task | null;
  /** Model calls made for the current task. */
  attempt: number;
  pending: { requestId: string; model: string } | null;
  /**
   * `toFallback`: the primary refused this task for good (malformed, auth…): the next attempt goes to the fallback.
   * `retryAfterMs`: the provider's own wait; `backoffMs`: the agent's, for a retryable failure that came without one
   * (revision 11, only when the config sets `retryBackoffMs`); `model`: who failed, set whenever either is.
   */
  lastFailure: { reason: string; retryable: boolean; toFallback?: true; retryAfterMs?: number; backoffMs?: number; model?: string } | null;
  /** The primary failed this task in a way retrying will not fix: the task's further attempts go to the fallback. */
  primaryRefused: boolean;
  breaker: CircuitBreaker;
  /** Active runtime timers by key (`modelTimeout`, `breakerCooldown`, `retryBackoff`) → timer id, from the recorded `timer.started`. */
  timers: Record<string, string>;
  /** Tokens the agent's context window holds after its last call; thresholds on it come with hand-offs. */
  contextTokens: number;
  history: { turn: number; query: string; answer: string }[];
  totals: { calls: number; inputTokens: number; outputTokens: number };
  /** The highest context threshold this instance has reported crossing (each is reported once). */
  contextLevel: ContextLevel | null;
  /** What this instance took over in a hand-off: its predecessor's work, summarised from the tiered session state. */
  transfer: Transfer | null;
  /** Set once a hand-off retired this instance: the instance that took over, if one did. */
  successor: string | null;
}

const HISTORY_TURNS = 3;
export const MODEL_TIMEOUT = 'modelTimeout';
export const BREAKER_COOLDOWN = 'breakerCooldown';
export const RETRY_BACKOFF = 'retryBackoff';

/**
 * The longest a provider's retry-after is waited out: the time a call itself is given. A provider asking for longer
 * hands the task to the fallback, or, with none, fails it now rather than hold the turn.
 */
function longestRetryWait(config: AgentConfig): number {
  return config.modelTimeoutMs;
}

/** The model the agent's next call goes to: the fallback while the breaker is open or the primary refused the task. */
function nextModel(context: AgentContext): string {
  const config = configOf(context);
  return context.primaryRefused && config.fallbackModel !== null ? config.fallbackModel : chooseModel(context.breaker, config.model, config.fallbackModel);
}

function canRetry(context: AgentContext): boolean {
  return context.attempt < configOf(context).maxAttempts
    && (context.lastFailure?.toFallback === true || (context.lastFailure?.retryable === true && !waitsTooLong(context.lastFailure, configOf(context))));
}

/** How long the agent waits before its next call: the provider's retry-after, else its own backoff, else nothing. */
function retryWaitMs(failure: AgentContext['lastFailure']): number {
  return failure?.retryAfterMs ?? failure?.backoffMs ?? 0;
}

/**
 * Exponential backoff with equal jitter: half of `base × 2^(attempt − 1)` (capped at the time a call is given),
 * plus up to as much again. The jitter is drawn from the failed request's id, so it is recorded in effect (the
 * timer's delay) and replays the same, while agents that failed together do not all retry together.
 */
export function backoffMs(config: AgentConfig, attempt: number, requestId: string): number {
  const ceiling = Math.min(config.retryBackoffMs! * 2 ** Math.max(0, attempt - 1), longestRetryWait(config));
  return Math.round(ceiling / 2 + (ceiling / 2) * unitFraction(requestId));
}

/** A number in [0, 1) from a string (FNV-1a): pure, so the same id always gives the same jitter. */
function unitFraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0) / 2 ** 32;
}

function mustWaitToRetry(context: AgentContext): boolean {
  const failure = context.lastFailure;
  if (failure?.toFallback === true || retryWaitMs(failure) <= 0) return false;
  // Only the provider that asked is waited for: if the breaker now sends the call elsewhere, it goes at once.
  if (nextModel(context) !== failure?.model) return false;
  // The agent's own backoff is not waited out before a call that cannot be made (the breaker just opened, and there
  // is no fallback): the task fails now. A provider's retry-after still is, as revision 10 waited it.
  return failure.retryAfterMs !== undefined || !cannotCall(context);
}

function cannotCall(context: AgentContext): boolean {
  return context.breaker.state === 'open' && configOf(context).fallbackModel === null;
}

function waitsTooLong(failure: AgentContext['lastFailure'], config: AgentConfig): boolean {
  return (failure?.retryAfterMs ?? 0) > longestRetryWait(config);
}

const initialContext: AgentContext = {
  agentStream: '', sessionId: '', sessionStream: '', role: '', instance: 0, config: null, task: null, attempt: 0,
  pending: null, lastFailure: null, primaryRefused: false, breaker: closedBreaker(1), timers: {}, contextTokens: 0, history: [],
  totals: { calls: 0, inputTokens: 0, outputTokens: 0 }, contextLevel: null, transfer: null, successor: null,
};

/** The highest threshold `tokens` reaches in the window, or null below the lowest. */
function levelOf(tokens: number, config: AgentConfig): ContextLevel | null {
  const thresholds = config.contextThresholds ?? DEFAULT_CONTEXT_THRESHOLDS;
  const share = tokens / config.contextWindow;
  return [...LEVELS].reverse().find((level) => share >= thresholds[level]) ?? null;
}

function rank(level: ContextLevel | null): number {
  return level === null ? -1 : LEVELS.indexOf(level);
}

function promptOf(context: AgentContext): string[] {
  return promptParts({ role: context.role, history: context.history, task: context.task!, ...(context.transfer ? { transferSummary: context.transfer.summary } : {}) });
}

function configOf(context: AgentContext): AgentConfig {
  if (!context.config) throw new Error(`Agent ${context.agentStream || '(unassigned)'} received work before agent.assigned`);
  return context.config;
}

/**
 * What changed between the agent machine's revisions: kept as data, so a stream written under an earlier revision
 * replays under exactly the implementation that wrote it (`agentMachineRevision9`).
 */
interface FailureRules {
  /**
   * Revisions up to 9 counted a call the ledger refused (the budget could not cover it) as a failure of the primary
   * provider: two refusals opened the breaker, and once the budget was topped up the agent still kept off a healthy
   * provider for the cool-down, telling the user it was down. A refused call never reached the provider.
   */
  refusalsCountAgainstProvider: boolean;
  /**
   * Revisions up to 11 held a model timeout that came due while no process ran (the process making the call was
   * killed, and the actor was rebuilt after the timeout) against the provider like any other: it counted toward the
   * breaker and used up an attempt, so a crash during a task's last attempt failed the turn on resume. Revision 12
   * gives such a call up without blaming anyone and makes it again, as the crash had never happened. (Streams before
   * revision 12 hold no missed firing: `timer.fired.missed` came with it.)
   */
  missedTimeoutsRetryAtOnce: boolean;
}

/** The action recording a failed call (or a model timeout): the failure, the breaker's move, the cool-down. */
function recordFailure(rules: FailureRules) {
  return ({ context, event, enqueue }: { context: AgentContext; event: AgentEvent; enqueue: { assign(values: Partial<AgentContext>): void; emit(effect: Effect): void } }): void => {
    const config = configOf(context);
    if (rules.missedTimeoutsRetryAtOnce && event.type === 'timer.fired' && event.missed === true) {
      // The call ran in a process that stopped: nothing is known of the provider, and the attempt is given back.
      const abandoned = { reason: `abandoned: the process making the call stopped, and its ${config.modelTimeoutMs} ms timeout passed before the agent was rebuilt`, retryable: true };
      enqueue.assign({ pending: null, lastFailure: abandoned, attempt: Math.max(0, context.attempt - 1), totals: { ...context.totals, calls: context.totals.calls + 1 } });
      if (context.pending) enqueue.emit({ type: 'model.cancel', requestId: context.pending.requestId });
      return;
    }
    const usedPrimary = context.pending?.model === config.model;
    const retryAfterMs = event.type === 'model.failed' ? event.retryAfterMs : undefined;
    // A primary that answers garbage or refuses the credentials will do so again, and one that asks to be left alone
    // for longer than a call may take cannot help this turn: a configured fallback gets the task.
    const hopeless = event.type === 'model.failed' && (!event.retryable || (retryAfterMs ?? 0) > longestRetryWait(config));
    const toFallback = hopeless && usedPrimary && config.fallbackModel !== null && config.fallbackModel !== config.model;
    const failed = event.type === 'model.failed'
      ? { reason: event.reason, retryable: event.retryable, ...(toFallback ? { toFallback: true as const } : {}) }
      : { reason: `no answer within ${config.modelTimeoutMs} ms`, retryable: true };
    // The provider said when to come back; else a retryable failure backs off (revision 11, configs that set it).
    const backoff = retryAfterMs === undefined && failed.retryable && config.retryBackoffMs !== undefined && context.pending
      ? backoffMs(config, context.attempt, context.pending.requestId)
      : undefined;
    const wait = retryAfterMs !== undefined ? { retryAfterMs } : backoff !== undefined ? { backoffMs: backoff } : undefined;
    const failure = wait ? { ...failed, ...wait, model: context.pending?.model ?? config.model } : failed;
    // A call the ledger refused was never sent: it says nothing of the provider's health (revision 10). Its refusal
    // names no model; a provider that declined a request (an HTTP 4xx, also `refused`) names its own.
    const refusedByLedger = event.type === 'model.failed' && event.kind === 'refused' && event.model === undefined;
    const breaker = usedPrimary && (!refusedByLedger || rules.refusalsCountAgainstProvider) ? afterPrimaryFailure(context.breaker) : context.breaker;
    // A failure the provider billed used its tokens, as the ledger and the climate report count them.
    const billed = event.type === 'model.failed' ? event.billed?.usage : undefined;
    const totals = {
      calls: context.totals.calls + 1,
      inputTokens: context.totals.inputTokens + (billed?.inputTokens ?? 0),
      outputTokens: context.totals.outputTokens + (billed?.outputTokens ?? 0),
    };
    enqueue.assign({ pending: null, lastFailure: failure, breaker, primaryRefused: context.primaryRefused || toFallback, totals });
    // A call that timed out is still running at the provider: abandon it rather than pay for an answer nobody reads.
    if (event.type === 'timer.fired' && context.pending) enqueue.emit({ type: 'model.cancel', requestId: context.pending.requestId });
    if (breaker.trips > context.breaker.trips) {
      enqueue.emit({ type: 'timer.start', key: BREAKER_COOLDOWN, delayMs: configOf(context).breakerCooldownMs });
    }
  };
}

/**
 * One role instance: idle → preparing (prompt built; tokens counted when the request is recorded) →
 * awaitingModel → responded, with a model-call timeout, a circuit breaker over its primary provider and a fallback
 * model while the breaker is open, or for the rest of a task once the primary failed it in a way a retry would not fix. All I/O is requested with `emit` and comes back as recorded facts.
 */
export const agentMachine = setup({
  types: { context: {} as AgentContext, events: {} as AgentEvent, emitted: {} as Effect },
  guards: {
    isPendingRequest: ({ context, event }) => 'requestId' in event && context.pending?.requestId === event.requestId,
    isModelTimeout: ({ context, event }) => event.type === 'timer.fired' && context.timers[MODEL_TIMEOUT] === event.timerId,
    isBreakerCooldown: ({ context, event }) => event.type === 'timer.fired' && context.timers[BREAKER_COOLDOWN] === event.timerId,
    canRetry: ({ context }) => canRetry(context),
    /** A pause before the next call, the provider's (not too long a one) or the agent's own backoff: wait it out first. */
    canRetryAfterWait: ({ context }) => canRetry(context) && mustWaitToRetry(context),
    isRetryBackoff: ({ context, event }) => event.type === 'timer.fired' && context.timers[RETRY_BACKOFF] === event.timerId,
    cannotCall: ({ context }) => cannotCall(context),
    isHandOff: ({ event }) => event.type === 'agent.assigned' && event.transfer !== undefined,
  },
  actions: {
    assignRole: assign(({ event }) => {
      if (event.type !== 'agent.assigned') return {};
      return {
        agentStream: event.agentStream, sessionId: event.sessionId, sessionStream: event.sessionStream, role: event.role,
        instance: event.instance, config: event.config, breaker: closedBreaker(event.config.breakerThreshold), transfer: event.transfer ?? null,
      };
    }),
    /**
     * A fresh instance checks what it took over: the essential (hot) lines of the summary must be in the prompt it
     * will send, and the summary must leave room in its window. The transition decides on the answer.
     */
    validateTransfer: emit(({ context, event }) => {
      if (event.type !== 'agent.assigned' || !event.transfer) throw new Error('validateTransfer runs on a hand-off assignment');
      const { transfer, config } = event;
      const probe = promptParts({ role: event.role, history: [], task: { turn: 0, query: '(next task)', region: 'ZZ', purpose: 'general' }, transferSummary: transfer.summary }).join('\n');
      const essential = essentialLines(transfer.summary);
      const present = essential.filter((line) => probe.includes(line)).length;
      const problems: string[] = [];
      if (essential.length < transfer.hotItems) problems.push(`only ${essential.length} of the ${transfer.hotItems} essential (hot) items fit in the summary`);
      if (present < essential.length) problems.push(`${essential.length - present} of ${essential.length} essential lines are missing from the prompt`);
      const ceiling = (config.contextThresholds ?? DEFAULT_CONTEXT_THRESHOLDS).warning;
      if (transfer.summaryTokens >= config.contextWindow * ceiling) problems.push(`the summary alone (${transfer.summaryTokens} tokens) would fill ${Math.round((transfer.summaryTokens / config.contextWindow) * 100)} % of the ${config.contextWindow}-token window`);
      const validated: EventData<'transition.validated'> = {
        transitionId: transfer.transitionId, agentStream: event.agentStream, sessionId: event.sessionId, role: event.role,
        essentialLines: essential.length, presentInPrompt: present, summaryTokens: transfer.summaryTokens, window: config.contextWindow, ok: problems.length === 0, problems,
      };
      return { type: 'message.send' as const, to: transfer.transitionStream, messageType: 'transition.validated', data: validated };
    }),
    confirmReadiness: emit(({ context, event }) => {
      if (event.type !== 'transition.readinessRequested') throw new Error('confirmReadiness runs on transition.readinessRequested');
      const ready: EventData<'transition.ready'> = { transitionId: event.transitionId, agentStream: context.agentStream };
      return { type: 'message.send' as const, to: event.transitionStream, messageType: 'transition.ready', data: ready };
    }),
    refuseReadiness: emit(({ context, event }) => {
      if (event.type !== 'transition.readinessRequested') throw new Error('refuseReadiness runs on transition.readinessRequested');
      const notReady: EventData<'transition.notReady'> = { transitionId: event.transitionId, agentStream: context.agentStream, reason: 'a model call is in flight' };
      return { type: 'message.send' as const, to: event.transitionStream, messageType: 'transition.notReady', data: notReady };
    }),
    retire: assign(({ event }) => (event.type === 'agent.retired' ? { successor: event.successor } : {})),
    /** Reports the highest context threshold newly crossed to the session, before the answer, so it can plan. */
    reportContextPressure: enqueueActions(({ context, enqueue }) => {
      const config = configOf(context);
      const level = levelOf(context.contextTokens, config);
      if (level === null || rank(level) <= rank(context.contextLevel)) return;
      enqueue.assign({ contextLevel: level });
      const crossed: EventData<'context.thresholdCrossed'> = {
        agentStream: context.agentStream, role: context.role, turn: context.task!.turn, level,
        percent: Math.round((context.contextTokens / config.contextWindow) * 1000) / 10, tokens: context.contextTokens, window: config.contextWindow,
      };
      enqueue.emit({ type: 'message.send', to: context.sessionStream, messageType: 'context.thresholdCrossed', data: crossed });
    }),
    acceptTask: assign(({ event }) => (event.type === 'task.assigned'
      ? {
        task: {
          turn: event.turn, query: event.query, region: event.region, purpose: event.purpose,
          ...(event.context ? { context: event.context } : {}),
          ...(event.contributions ? { contributions: event.contributions.map(({ role, status, text }) => ({ role, status, text })) } : {}),
        },
        attempt: 0, lastFailure: null, primaryRefused: false,
      }
      : {})),
    requestModelCall: enqueueActions(({ context, enqueue }) => {
      const config = configOf(context);
      const attempt = context.attempt + 1;
      const parts = promptOf(context);
      enqueue.assign({ attempt });
      enqueue.emit({
        type: 'model.call', attempt, turn: context.task!.turn, outputReserveTokens: config.outputReserveTokens,
        model: nextModel(context),
        prompt: parts.join('\n'), promptParts: parts,
      });
    }),
    trackRequest: assign(({ event }) => (event.type === 'model.requested'
      ? { pending: { requestId: event.requestId, model: event.model }, contextTokens: event.estimatedInputTokens }
      : {})),
    startModelTimeout: emit(({ context }) => ({ type: 'timer.start' as const, key: MODEL_TIMEOUT, delayMs: configOf(context).modelTimeoutMs })),
    startRetryBackoff: emit(({ context }) => ({ type: 'timer.start' as const, key: RETRY_BACKOFF, delayMs: retryWaitMs(context.lastFailure) })),
    cancelModelTimeout: emit({ type: 'timer.cancel' as const, key: MODEL_TIMEOUT }),
    trackTimerStarted: assign(({ context, event }) => (event.type === 'timer.started' ? { timers: { ...context.timers, [event.key]: event.timerId } } : {})),
    forgetTimer: assign(({ context, event }) => {
      if ((event.type !== 'timer.cancelled' && event.type !== 'timer.fired') || context.timers[event.key] !== event.timerId) return {};
      const { [event.key]: _gone, ...timers } = context.timers;
      return { timers };
    }),
    recordSuccess: assign(({ context, event }) => {
      if (event.type !== 'model.responded') return {};
      const usedPrimary = context.pending?.model === configOf(context).model;
      return {
        pending: null,
        breaker: usedPrimary ? afterPrimarySuccess(context.breaker) : context.breaker,
        contextTokens: event.usage.inputTokens + event.usage.outputTokens,
        history: [...context.history, { turn: context.task!.turn, query: context.task!.query, answer: event.text }].slice(-HISTORY_TURNS),
        totals: {
          calls: context.totals.calls + 1,
          inputTokens: context.totals.inputTokens + event.usage.inputTokens,
          outputTokens: context.totals.outputTokens + event.usage.outputTokens,
        },
      };
    }),
    recordFailure: enqueueActions(recordFailure({ refusalsCountAgainstProvider: false, missedTimeoutsRetryAtOnce: true })),
    halfOpenBreaker: assign(({ context }) => ({ breaker: afterCooldown(context.breaker) })),
    answerSession: emit(({ context, event }) => {
      if (event.type !== 'model.responded') throw new Error('answerSession runs on model.responded');
      return {
        type: 'message.send' as const, to: context.sessionStream, messageType: 'agent.answered',
        data: { turn: context.task!.turn, agentStream: context.agentStream, text: event.text, usage: event.usage, model: event.model, attempts: context.attempt },
      };
    }),
    reportFailure: emit(({ context }) => ({
      type: 'message.send' as const, to: context.sessionStream, messageType: 'agent.failed',
      data: {
        turn: context.task!.turn, agentStream: context.agentStream, attempts: Math.max(context.attempt, 1),
        reason: context.lastFailure?.reason ?? 'circuit breaker open and no fallback model configured',
      },
    })),
  },
}).createMachine({
  id: 'agent',
  context: initialContext,
  initial: 'unassigned',
  on: {
    'timer.started': { actions: 'trackTimerStarted' },
    'timer.cancelled': { actions: 'forgetTimer' },
    'timer.fired': { guard: 'isBreakerCooldown', actions: ['halfOpenBreaker', 'forgetTimer'] },
    // Mid-call an instance cannot hand over; resting states (below) confirm instead.
    'transition.readinessRequested': { actions: 'refuseReadiness' },
  },
  states: {
    unassigned: {
      on: {
        'agent.assigned': [
          { guard: 'isHandOff', target: 'idle', actions: ['assignRole', 'validateTransfer'] },
          { target: 'idle', actions: 'assignRole' },
        ],
        // Not yet anyone: it cannot confirm, and the transition's readiness timeout decides.
        'transition.readinessRequested': { actions: [] },
      },
    },
    idle: {
      on: {
        'task.assigned': { target: 'deciding', actions: 'acceptTask' },
        'transition.readinessRequested': { actions: 'confirmReadiness' },
        'agent.retired': { target: 'retired', actions: 'retire' },
      },
    },
    deciding: {
      always: [
        { guard: 'cannotCall', target: 'failed', actions: 'reportFailure' },
        { target: 'preparing' },
      ],
    },
    preparing: {
      entry: 'requestModelCall',
      on: { 'model.requested': { target: 'awaitingModel', actions: ['trackRequest', 'startModelTimeout'] } },
    },
    awaitingModel: {
      on: {
        'model.responded': { guard: 'isPendingRequest', target: 'responded', actions: ['recordSuccess', 'cancelModelTimeout', 'reportContextPressure', 'answerSession'] },
        'model.failed': { guard: 'isPendingRequest', target: 'retrying', actions: ['recordFailure', 'cancelModelTimeout'] },
        'timer.fired': [
          { guard: 'isModelTimeout', target: 'retrying', actions: ['recordFailure', 'forgetTimer'] },
          { guard: 'isBreakerCooldown', actions: ['halfOpenBreaker', 'forgetTimer'] },
        ],
      },
    },
    retrying: {
      always: [
        { guard: 'canRetryAfterWait', target: 'backingOff' },
        { guard: 'canRetry', target: 'deciding' },
        { target: 'failed', actions: 'reportFailure' },
      ],
    },
    // The provider's retry-after, or the agent's own backoff, waited out on a runtime timer (recorded, so a resumed agent waits the rest).
    backingOff: {
      entry: 'startRetryBackoff',
      on: { 'timer.fired': [
        { guard: 'isRetryBackoff', target: 'deciding', actions: 'forgetTimer' },
        { guard: 'isBreakerCooldown', actions: ['halfOpenBreaker', 'forgetTimer'] },
      ] },
    },
    responded: {
      on: {
        'task.assigned': { target: 'deciding', actions: 'acceptTask' },
        'transition.readinessRequested': { actions: 'confirmReadiness' },
        'agent.retired': { target: 'retired', actions: 'retire' },
      },
    },
    failed: {
      on: {
        'task.assigned': { target: 'deciding', actions: 'acceptTask' },
        'transition.readinessRequested': { actions: 'confirmReadiness' },
        'agent.retired': { target: 'retired', actions: 'retire' },
      },
    },
    // Handed over: its successor holds the work; it takes no more tasks and confirms nothing.
    retired: { on: { 'transition.readinessRequested': { actions: [] } } },
  },
});

export const AGENT_MACHINE_VERSION = machineVersion(agentMachine, 12);

/** Revision 11, for the streams it wrote: a missed model timeout (none of its streams holds one) counted as a failure. */
export const agentMachineRevision11 = agentMachine.provide({ actions: { recordFailure: enqueueActions(recordFailure({ refusalsCountAgainstProvider: false, missedTimeoutsRetryAtOnce: false })) } });
export const AGENT_MACHINE_REVISION_11 = machineVersion(agentMachineRevision11, 11);

/**
 * Revision 10, for the streams it wrote: revision 11 adds only the backoff between retries, taken only where the
 * session's config sets `retryBackoffMs`, which no config could before it. Their agents step exactly as they did.
 */
export const AGENT_MACHINE_REVISION_10 = machineVersion(agentMachineRevision11, 10);

/** Revision 9, for the streams it wrote: they replay under it, and their actors carry on under the current one. */
export const agentMachineRevision9 = agentMachine.provide({ actions: { recordFailure: enqueueActions(recordFailure({ refusalsCountAgainstProvider: true, missedTimeoutsRetryAtOnce: false })) } });
export const AGENT_MACHINE_REVISION_9 = machineVersion(agentMachineRevision9, 9);
