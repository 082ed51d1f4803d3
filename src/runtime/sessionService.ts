import type { AgentConfig } from '../events/catalogue.ts';
import { DEFAULT_CONTEXT_THRESHOLDS } from '../../machines/agentMachine.ts';
import { DEFAULT_READINESS_MS } from '../../machines/transitionMachine.ts';
import type { TurnOutcome, SessionContext } from '../../machines/sessionMachine.ts';
import type { LanguageModel } from '../models/languageModel.ts';
import { DEFAULT_CONTEXT_WINDOW } from '../models/modelProfiles.ts';
import { sessionStream, UnknownSessionError } from './sessionStreams.ts';
import { CONTEXT_RULES } from '../../projections/sessionState/sessionState.ts';
import type { ActorRuntime } from './actorRuntime.ts';

export interface SessionSettings {
  model: string;
  fallbackModel?: string | null;
  modelTimeoutMs?: number;
  maxAttempts?: number;
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  outputReserveTokens?: number;
  /** The session's token budget (default 20 000). */
  budgetTokens?: number;
  /** The agents' context window (default: the model profile's, else 128 000 tokens). */
  contextWindow?: number;
  /** Context-window shares at which agents report pressure (default 0.70 / 0.75 / 0.85 / 0.95). */
  contextThresholds?: AgentConfig['contextThresholds'];
  /** How long a hand-off waits for readiness (default 5 000 ms). */
  handoffReadinessMs?: number;
  /** The base of the backoff before retrying a failure without a retry-after (default 500 ms: a first wait of 250–500 ms, doubled per attempt). */
  retryBackoffMs?: number;
}

export const DEFAULT_RETRY_BACKOFF_MS = 500;

export interface Query {
  text: string;
  region: string;
  purpose: string;
}

/** The agent configuration a session records at its start: every default spelled out, so replay needs no defaults. */
/** An agent's attempts per turn, and the failures in a row that open its breaker, unless the session says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BREAKER_THRESHOLD = 2;

export function agentConfigFor(settings: SessionSettings, resolve: (spec: string) => LanguageModel): AgentConfig {
  return {
    model: settings.model,
    fallbackModel: settings.fallbackModel ?? null,
    contextWindow: settings.contextWindow ?? resolve(settings.model).profile?.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    modelTimeoutMs: settings.modelTimeoutMs ?? 30_000,
    maxAttempts: settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    breakerThreshold: settings.breakerThreshold ?? DEFAULT_BREAKER_THRESHOLD,
    breakerCooldownMs: settings.breakerCooldownMs ?? 60_000,
    outputReserveTokens: settings.outputReserveTokens ?? 512,
    contextThresholds: settings.contextThresholds ?? { ...DEFAULT_CONTEXT_THRESHOLDS },
    handoffReadinessMs: settings.handoffReadinessMs ?? DEFAULT_READINESS_MS,
    retryBackoffMs: settings.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
  };
}

export const DEFAULT_BUDGET_TOKENS = 20_000;

export async function startSession(runtime: ActorRuntime, sessionId: string, agent: AgentConfig, budgetTokens = DEFAULT_BUDGET_TOKENS): Promise<void> {
  await runtime.deliver(sessionStream(sessionId), { type: 'session.started', data: { sessionId, agent, budgetTokens, contextRules: CONTEXT_RULES }, causationId: null });
}

/**
 * Starts a session with its first query in one write, and resolves with that turn's outcome. Started and asked one
 * after the other, a process stopped between the two writes (or a store that refused the second) would leave a
 * session with no turn, which nothing resumes. Delivered as one batch: written in one append, and should that fail,
 * retried whole, never one without the other.
 */
export async function startSessionAndAsk(runtime: ActorRuntime, sessionId: string, agent: AgentConfig, budgetTokens: number, query: Query): Promise<TurnOutcome> {
  const release = await runtime.admission.admit(await runtime.admissionPriority(query));
  try {
    await startSessionWithQuery(runtime, sessionId, agent, budgetTokens, query);
    return await outcomeOfTurn(runtime, sessionId, 0);
  } finally {
    release();
  }
}

/** Records a new session and its first query (turn 0) in one write, without waiting for the answer (`submit`). */
export async function startSessionWithQuery(runtime: ActorRuntime, sessionId: string, agent: AgentConfig, budgetTokens: number, query: Query): Promise<void> {
  const stream = sessionStream(sessionId);
  const batch = {};
  await Promise.all([
    runtime.deliver(stream, { type: 'session.started', data: { sessionId, agent, budgetTokens, contextRules: CONTEXT_RULES }, causationId: null }, { batch }),
    runtime.deliver(stream, { type: 'query.received', data: query, causationId: null }, { batch }),
  ]);
}

/**
 * Asks a query in a session and resolves with that turn's outcome once the session has recorded it. When the
 * runtime is saturated (`maxActiveTurns`), the query waits for a slot, admitted by its climate-justice priority.
 */
export async function askInSession(runtime: ActorRuntime, sessionId: string, query: Query): Promise<TurnOutcome> {
  await assertOpen(runtime, sessionId);
  const release = await runtime.admission.admit(await runtime.admissionPriority(query));
  try {
    return await askAdmitted(runtime, sessionId, query);
  } finally {
    release();
  }
}

/**
 * Records a query in a session and returns its turn number, without waiting for the answer: with a runtime that
 * records effects without performing them, this is how a client hands a turn to whichever worker holds the session.
 */
export async function submitQuery(runtime: ActorRuntime, sessionId: string, query: Query): Promise<number> {
  await assertOpen(runtime, sessionId);
  return recordQuery(runtime, sessionId, query);
}

export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
}

/** A query to a session that was never started, or is closed, would be recorded and never answered. */
async function assertOpen(runtime: ActorRuntime, sessionId: string): Promise<void> {
  const snapshot = await runtime.snapshotOf(sessionStream(sessionId));
  if (snapshot.matches('new')) throw new UnknownSessionError(sessionId);
  if (snapshot.matches('closed')) throw new SessionClosedError(`Session ${sessionId} is closed; start a new session to ask more.`);
}

/** Each runtime's asks per session, one after another: a query's turn is read right after it is recorded. */
const asking = new WeakMap<ActorRuntime, Map<string, Promise<unknown>>>();

function recordQuery(runtime: ActorRuntime, sessionId: string, query: Query): Promise<number> {
  let queues = asking.get(runtime);
  if (!queues) asking.set(runtime, queues = new Map());
  const previous = queues.get(sessionId) ?? Promise.resolve();
  const recorded = previous.catch(() => undefined).then(async () => {
    const stream = sessionStream(sessionId);
    await runtime.deliver(stream, { type: 'query.received', data: query, causationId: null });
    // Queries are turns in the order they are received; no other ask of this session can come between.
    return ((await runtime.snapshotOf(stream)).context as SessionContext).received - 1;
  });
  queues.set(sessionId, recorded);
  return recorded;
}

async function askAdmitted(runtime: ActorRuntime, sessionId: string, query: Query): Promise<TurnOutcome> {
  return outcomeOfTurn(runtime, sessionId, await recordQuery(runtime, sessionId, query));
}

async function outcomeOfTurn(runtime: ActorRuntime, sessionId: string, turn: number): Promise<TurnOutcome> {
  const stream = sessionStream(sessionId);
  // Checked on every step the session takes, and a step finishes at most one turn, so the outcome is still among the recent ones.
  const after = await runtime.waitFor(stream, (s) => (s.context as SessionContext).turn > turn);
  const outcome = (after.context as SessionContext).recentOutcomes.find((o) => o.turn === turn);
  if (!outcome) throw new Error(`turn ${turn} of session ${sessionId} finished, but its outcome is no longer among the session's recent outcomes; read it from the log`);
  return outcome;
}
