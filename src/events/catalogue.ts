import { z } from 'zod';
import { marketCatalogue } from '../market/marketEvents.ts';
import { workerCatalogue } from '../worker/workerEvents.ts';
import { budgetEstimateSchema } from '../policy/budget/budgetEstimate.ts';
import { factorSetAdoptedSchema } from '../policy/climate/factorSetEvent.ts';
import { priorityAssignmentSchema } from '../policy/priority/index.ts';
import { EMERGENCY_KINDS, triageDecisionSchema } from '../policy/triage/index.ts';
import { EventRegistry } from './eventRegistry.ts';

/**
 * Chronicle's event catalogue: the facts actors record. Schemas are strict, so a misspelt or extra field is an
 * error rather than something silently dropped before it is hashed. No data schema has a `type` field: machines
 * receive `{ type, ...data }`.
 */
const usage = z.strictObject({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
const id = z.string().min(1);
const streamId = z.string().regex(/^[a-z][a-zA-Z0-9]*-.+$/, 'a stream name "<category>-<id>"');
const region = z.string().regex(/^[A-Z]{2,3}$/, 'an ISO 3166 alpha-2 or alpha-3 code, e.g. "KE" or "BGD"');
const purpose = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a snake_case purpose such as "climate_adaptation"');
const positiveMs = z.number().int().positive();
const tokens = z.number().int().nonnegative();
const turn = z.number().int().nonnegative();
const mode = z.enum(['express', 'council', 'emergency']);

/** What a session is configured with when it starts; passed on to the agents it assigns. */
export const agentConfig = z.strictObject({
  model: z.string().min(1),
  fallbackModel: z.string().min(1).nullable(),
  contextWindow: z.number().int().positive(),
  modelTimeoutMs: positiveMs,
  maxAttempts: z.number().int().min(1).max(10),
  breakerThreshold: z.number().int().min(1),
  breakerCooldownMs: positiveMs,
  /** Tokens reserved for the answer on top of the counted prompt, before each model call. */
  outputReserveTokens: z.number().int().nonnegative(),
  /**
   * Shares of the context window at which an agent reports pressure: `collective` (several agents of a session at
   * once → one coordinated hand-off), `warning`, `checkpoint` (the session is checkpointed, a graceful hand-off
   * planned) and `handoff` (an emergency hand-off). Absent in configs recorded before hand-offs existed.
   */
  contextThresholds: z.strictObject({
    collective: z.number().gt(0).lt(1), warning: z.number().gt(0).lt(1), checkpoint: z.number().gt(0).lt(1), handoff: z.number().gt(0).lt(1),
  }).refine((t) => t.collective <= t.warning && t.warning <= t.checkpoint && t.checkpoint <= t.handoff, 'thresholds must rise: collective ≤ warning ≤ checkpoint ≤ handoff').optional(),
  /** How long a transition waits for every participant to confirm it is ready (ms). */
  handoffReadinessMs: positiveMs.optional(),
  /**
   * The base of the backoff before retrying a retryable failure that came without a retry-after (ms): the first wait is
   * half to all of it, and it doubles on each further attempt. Absent in configs recorded before agent revision 11: their agents retry at once.
   */
  retryBackoffMs: positiveMs.optional(),
});

const contextLevel = z.enum(['collective', 'warning', 'checkpoint', 'handoff']);
const protocol = z.enum(['graceful', 'coordinated', 'emergency']);
const participant = z.strictObject({ role: z.string().min(1), fromAgent: streamId, toAgent: streamId, instance: z.number().int().nonnegative() });

export const catalogue = {
  // The session's own facts.
  // contextRules: the tiered-state rules the session's prompts follow (projections/sessionState CONTEXT_RULES);
  // absent in sessions started before there was a choice (rules 1).
  'session.started': z.strictObject({ sessionId: id, agent: agentConfig, budgetTokens: z.number().int().positive(), contextRules: z.number().int().min(1).optional() }),
  'query.received': z.strictObject({ text: z.string().min(1), region, purpose }),
  'session.closed': z.strictObject({ reason: z.string().min(1) }),
  // The last event of a fork's copied history (`chronicle fork`): whose history, cut where. The machine ignores it.
  'session.forked': z.strictObject({ fromSession: id, atPosition: z.string().regex(/^\d+$/), atTime: z.iso.datetime({ offset: true }), events: z.number().int().positive() }),
  // Recorded together with the query's turn starting: how triage routed it, its priority and its budget.
  'triage.decided': z.strictObject({
    turn, decision: triageDecisionSchema,
    /** Who decided: the rules, or a triage model (its request, and why the rules stood in if they did). */
    decidedBy: z.strictObject({ by: z.enum(['rules', 'model']), model: z.string().min(1).optional(), requestId: id.optional(), fallback: z.string().min(1).optional() }).optional(),
    /** Answered turns cross-session memory recalled as like this one, and how their modes moved the confidence. */
    recall: z.strictObject({
      similar: z.array(z.strictObject({ sessionId: id, turn, similarity: z.number().min(0).max(1), mode, position: z.string().regex(/^\d+$/) })).min(1),
      sameModeShare: z.number().min(0).max(1),
      confidenceBefore: z.number().min(0).max(1),
    }).optional(),
  }),
  'priority.assigned': z.strictObject({ turn, priority: priorityAssignmentSchema }),
  'budget.estimated': budgetEstimateSchema,
  'turn.completed': z.strictObject({ turn, status: z.enum(['answered', 'failed']), mode, agents: z.array(streamId) }),

  // Messages between actors (appended to the target's stream by the runtime, caused by a `message.sent`).
  'agent.assigned': z.strictObject({
    sessionId: id, sessionStream: streamId, agentStream: streamId, role: z.string().min(1), instance: z.number().int().nonnegative(), config: agentConfig, quotaTokens: tokens,
    /** A fresh instance taking over in a hand-off: the summary is attached by the runtime from the tiered session state. */
    transfer: z.strictObject({
      transitionId: id, transitionStream: streamId, fromAgent: streamId, summary: z.string(), summaryTokens: tokens,
      /** Items in the session's hot tier when the summary was made: each must be among its essential lines. */
      hotItems: tokens,
    }).optional(),
  }),
  'task.assigned': z.strictObject({
    turn: z.number().int().nonnegative(), query: z.string().min(1), region, purpose,
    /** The session's tiered state as prompt text (hot + recent warm), attached by the runtime when it sends the task. */
    context: z.string().optional(),
    /** The role's share of the turn's budget, assigned to the agent's quota when the task arrives. */
    quotaTokens: tokens.optional(),
    /** For a synthesiser: the council's answers (and failures) it is to merge. */
    contributions: z.array(z.strictObject({ role: z.string().min(1), agentStream: streamId, status: z.enum(['answered', 'failed']), text: z.string() })).optional(),
  }),
  'agent.answered': z.strictObject({ turn: z.number().int().nonnegative(), agentStream: streamId, text: z.string(), usage, model: z.string().min(1), attempts: z.number().int().positive() }),
  // Context windows and hand-offs (ARCHITECTURE.md §5): an agent reports pressure to its session; a transition
  // actor (`transition-<sessionId>.<n>`) hands the work of one or more agents to fresh instances.
  'context.thresholdCrossed': z.strictObject({ agentStream: streamId, role: z.string().min(1), turn, level: contextLevel, percent: z.number().min(0), tokens, window: z.number().int().positive() }),
  'transition.requested': z.strictObject({
    transitionId: id, transitionStream: streamId, sessionId: id, sessionStream: streamId, protocol, reason: z.string().min(1), participants: z.array(participant).min(1), config: agentConfig,
  }),
  'transition.readinessRequested': z.strictObject({ transitionId: id, transitionStream: streamId }),
  'transition.ready': z.strictObject({ transitionId: id, agentStream: streamId }),
  'transition.notReady': z.strictObject({ transitionId: id, agentStream: streamId, reason: z.string().min(1) }),
  'transition.validated': z.strictObject({
    transitionId: id, agentStream: streamId, sessionId: id, role: z.string().min(1), essentialLines: z.number().int().nonnegative(),
    presentInPrompt: z.number().int().nonnegative(), summaryTokens: tokens, window: z.number().int().positive(), ok: z.boolean(), problems: z.array(z.string()),
  }),
  'transition.completed': z.strictObject({ transitionId: id, protocol, participants: z.array(participant).min(1) }),
  'transition.failed': z.strictObject({ transitionId: id, protocol, participants: z.array(participant).min(1), reason: z.string().min(1) }),
  'agent.retired': z.strictObject({ transitionId: id, successor: streamId.nullable(), reason: z.string().min(1) }),
  'agent.failed': z.strictObject({ turn: z.number().int().nonnegative(), agentStream: streamId, reason: z.string().min(1), attempts: z.number().int().positive() }),

  // Effect records: written atomically with the event whose processing requested the effect.
  'model.requested': z.strictObject({ requestId: id, model: z.string().min(1), prompt: z.string(), estimatedInputTokens: z.number().int().nonnegative(), attempt: z.number().int().positive() }),
  'model.cancelled': z.strictObject({ requestId: id }),
  'timer.started': z.strictObject({ timerId: id, key: z.string().min(1), delayMs: z.number().int().nonnegative(), dueAt: z.iso.datetime({ offset: true }) }),
  'timer.cancelled': z.strictObject({ timerId: id, key: z.string().min(1) }),
  'message.sent': z.strictObject({ messageId: z.uuid(), to: streamId, messageType: z.string().min(1), data: z.record(z.string(), z.unknown()) }),

  // Effect outcomes: facts the runtime records after performing an effect.
  'model.responded': z.strictObject({
    requestId: id, text: z.string(), usage, latencyMs: z.number().nonnegative(), model: z.string().min(1), provider: z.string().min(1), region: z.string().min(1),
    usageSource: z.enum(['provider', 'tiktoken']).default('tiktoken'),
    estimatedUsage: usage.optional(),
    /** The provider stopped the answer at its output limit (finish reason "length"): the text is cut short. */
    truncated: z.boolean().optional(),
  }),
  'model.failed': z.strictObject({
    requestId: id, reason: z.string().min(1), retryable: z.boolean(),
    /** The model that was called; absent when none was (the ledger refused the call, or it was given up unsent). */
    model: z.string().min(1).optional(),
    /** How long the provider asked to be left alone (its retry-after), in ms: the agent waits that long to retry. */
    retryAfterMs: z.number().int().nonnegative().optional(),
    kind: z.enum(['timeout', 'rate-limit', 'server', 'malformed', 'auth', 'network', 'aborted', 'refused', 'unknown']).default('unknown'),
    /**
     * A call the provider ran and billed but that gave no usable answer (no text, as a reasoning model that spent its
     * output on hidden reasoning; a content filter): its usage as the provider reported it, and which model (as
     * `model.responded` names it), where and how long it ran, so the ledger settles it and the climate report counts its energy. Absent for calls that were not billed.
     */
    billed: z.strictObject({ usage, latencyMs: z.number().nonnegative(), model: z.string().min(1), provider: z.string().min(1), region: z.string().min(1) }).optional(),
  }),
  'timer.fired': z.strictObject({
    timerId: id, key: z.string().min(1),
    /**
     * It came due while no process hosted its actor and fired when one rebuilt the actor, late. What it timed ran in a
     * process that stopped (a model call nobody awaited any more), so an agent does not hold it against the provider.
     */
    missed: z.literal(true).optional(),
  }),

  // The token ledger (`ledger-<sessionId>`), written by the runtime in the same append as the facts it accounts for.
  'budget.allocated': z.strictObject({ amount: tokens, reason: z.string().min(1) }),
  'quota.assigned': z.strictObject({ agentStream: streamId, amount: tokens }),
  'tokens.reserved': z.strictObject({ requestId: id, agentStream: streamId, amount: tokens, model: z.string().min(1), turn: z.number().int().nonnegative() }),
  'tokens.settled': z.strictObject({ requestId: id, agentStream: streamId, reserved: tokens, usage, model: z.string().min(1), costUsd: z.number().nonnegative() }),
  'tokens.released': z.strictObject({ requestId: id, agentStream: streamId, amount: tokens, reason: z.string().min(1) }),
  'tokens.refused': z.strictObject({ requestId: id, agentStream: streamId, needed: tokens, available: z.number().int(), reason: z.string().min(1) }),
  'tokens.lent': z.strictObject({ from: z.string().min(1), to: z.string().min(1), amount: tokens, reason: z.string().min(1) }),
  'tokens.repaid': z.strictObject({ from: z.string().min(1), to: z.string().min(1), amount: tokens }),
  /** A loan to an agent that its finished turn spent and cannot repay: closed, the tokens counted as used. */
  'tokens.loanClosed': z.strictObject({ from: z.string().min(1), to: z.string().min(1), amount: tokens, reason: z.string().min(1) }),
  'overdraft.recorded': z.strictObject({ agentStream: streamId, requestId: id, amount: tokens }),
  'budget.reconciled': z.strictObject({
    turn, estimated: tokens, actual: tokens, errorPct: z.number(),
    /** The turn's budget by mode (`budget.estimated`) and its error: what budget prediction learns from. */
    mode: mode.optional(), roles: z.number().int().positive().optional(), confidence: z.number().min(0).max(1).optional(),
    budgeted: z.number().int().positive().optional(), budgetErrorPct: z.number().optional(),
    /** The tokens given to the turn when memory set them (not the formula's estimate), and their error. */
    allocated: z.number().int().positive().optional(), allocatedErrorPct: z.number().optional(),
    /**
     * No call of the turn was settled (each refused, or given up unanswered): nothing was estimated against use, so
     * the ledger leaves the turn out of its error aggregate (its 0 % would read as a perfect estimate). Absent on
     * turns reconciled before it was recorded, which the aggregate keeps counting, as their checkpoints did.
     */
    unsettled: z.literal(true).optional(),
  }),
  'turn.budgeted': z.strictObject({
    turn, amount: tokens, mode, roles: z.number().int().positive(), confidence: z.number().min(0).max(1), priority: z.number().nonnegative().optional(),
    /** The formula's estimate, when memory set `amount`: what budget learning measures. */
    estimated: tokens.optional(),
  }),
  // Loans between sessions' pools (an emergency borrowing from lower-priority sessions), one event on each side,
  // written in the same append: the lender's `lent:<borrower>` asset mirrors the borrower's `borrowed:<lender>` debt.
  // The token market's settlement in each party's ledger: an offer's tokens are escrowed out of the seller's pool when
  // it is posted (so no party sells what it does not have), move to `traded` when sold, and come back if unsold.
  'offer.escrowed': z.strictObject({ offerId: id, amount: tokens }),
  'offer.returned': z.strictObject({ offerId: id, amount: tokens, reason: z.string().min(1) }),
  'tokens.sold': z.strictObject({ tradeId: id, offerId: id, buyer: id, amount: tokens, price: z.number().nonnegative() }),
  'tokens.bought': z.strictObject({ tradeId: id, bidId: id, seller: id, amount: tokens, price: z.number().nonnegative() }),
  'tokens.lentToSession': z.strictObject({ toSession: id, amount: tokens, reason: z.string().min(1) }),
  'tokens.borrowedFromSession': z.strictObject({ fromSession: id, amount: tokens, reason: z.string().min(1) }),
  'tokens.repaidToSession': z.strictObject({ toSession: id, amount: tokens }),
  'tokens.repaymentReceived': z.strictObject({ fromSession: id, amount: tokens }),
  'quota.returned': z.strictObject({ agentStream: streamId, amount: tokens, turn }),

  // The climate factor set in force for the session (recorded in its ledger stream when it starts).
  'factorSet.adopted': factorSetAdoptedSchema,

  // Climate emergencies (`emergency-register`): while one is in force for a region, triage serves matching
  // requests there first, as emergencies.
  'emergency.declared': z.strictObject({ emergencyId: id, region, kind: z.enum(EMERGENCY_KINDS), note: z.string().optional() }),
  'emergency.lifted': z.strictObject({ emergencyId: id, region, note: z.string().optional() }),

  // The token market (`market-<id>`): offers, bids, clearings and the trades they made.
  ...marketCatalogue,

  // Workers, their leases on sessions, and projection checkpoints (`worker-`, `lease-`, `projection-` streams).
  ...workerCatalogue,

  // Checkpoints (`checkpoint-<sessionId>`): every actor's snapshot and every projection's state, and the revision
  // of each stream they cover, so a point-in-time query folds only what came after.
  'checkpoint.recorded': z.strictObject({
    reason: z.enum(['tokens', 'handoff', 'context', 'manual']),
    usageTokens: tokens,
    covered: z.record(z.string(), z.strictObject({ revision: z.string().regex(/^\d+$/), position: z.string().regex(/^\d+$/) })),
    actors: z.record(z.string(), z.strictObject({ value: z.unknown(), context: z.unknown(), status: z.string() })),
    projections: z.record(z.string(), z.unknown()),
    // Per actor stream, the revision a rehydration reads it from to know every effect (timer, model request) still
    // open at the checkpoint: the earliest one's, or just past the covered revision. Absent: read the whole stream.
    openFrom: z.record(z.string(), z.string().regex(/^\d+$/)).optional(),
  }),
} as const;

export type CatalogueType = keyof typeof catalogue;
export type EventData<T extends CatalogueType> = z.infer<(typeof catalogue)[T]>;
export type AgentConfig = z.infer<typeof agentConfig>;

/** An event as a machine receives it: the type and the data's fields side by side. */
export type MachineEvent<T extends CatalogueType = CatalogueType> = T extends CatalogueType ? { type: T } & EventData<T> : never;

/**
 * Types past their first version: the current one, and how each older version's data is lifted to the next. A
 * build reading a version newer than it knows says so (upgrade Chronicle) instead of calling the data invalid.
 */
const laterVersions: Partial<Record<CatalogueType, { current: number; upcasters: Record<number, (data: unknown) => unknown> }>> = {
  // v2 added `openFrom`; a v1 checkpoint has none, and rehydration then reads whole streams.
  'checkpoint.recorded': { current: 2, upcasters: { 1: (data) => data } },
  // v2 added `truncated`; v1 answers carry no mark either way.
  'model.responded': { current: 2, upcasters: { 1: (data) => data } },
  // v2 added `billed`; a v1 failure billed nothing that was recorded.
  'model.failed': { current: 2, upcasters: { 1: (data) => data } },
  // v2 added `missed`; a v1 firing was on time, or not told apart.
  'timer.fired': { current: 2, upcasters: { 1: (data) => data } },
  // v2 added `unsettled`; a v1 reconciliation of a turn with no call settled is counted, as it was.
  'budget.reconciled': { current: 2, upcasters: { 1: (data) => data } },
};

/** A registry holding the whole catalogue; callers may define more types on it. */
export function createEventRegistry(): EventRegistry {
  const registry = new EventRegistry();
  for (const [type, schema] of Object.entries(catalogue)) {
    const versions = laterVersions[type as CatalogueType];
    registry.define(type, schema, { schemaVersion: versions?.current ?? 1 });
    for (const [from, upcast] of Object.entries(versions?.upcasters ?? {})) registry.upcaster(type, Number(from), upcast);
  }
  return registry;
}
