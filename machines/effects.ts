import type { MarketSettleEffect } from './marketMachine.ts';

/**
 * The effects a machine may request (XState `emit`). The runtime performs them after the event that caused them
 * is durable, and records each request in the actor's own stream in the same atomic append (ARCHITECTURE.md §3).
 */
/**
 * `turn` and `outputReserveTokens` let the runtime reserve the call's tokens in the session's ledger first;
 * `promptParts` (what `prompt` joins with line breaks) let it estimate the prompt part by part.
 */
export type ModelCallEffect = { type: 'model.call'; model: string; prompt: string; promptParts: string[]; attempt: number; turn: number; outputReserveTokens: number };
/** Gives up on a call the agent no longer waits for (its timeout fired), so the provider call is aborted. */
export type ModelCancelEffect = { type: 'model.cancel'; requestId: string };
export type TimerStartEffect = { type: 'timer.start'; key: string; delayMs: number };
export type TimerCancelEffect = { type: 'timer.cancel'; key: string };
export type MessageSendEffect = { type: 'message.send'; to: string; messageType: string; data: Record<string, unknown> };

/**
 * Asks the runtime to triage a turn's query: it records the decision (`triage.decided`), the request's priority
 * (`priority.assigned`) and the turn's budget (`budget.estimated`) in the same write, so replay reads them and
 * never re-decides under rules or emergencies that have since changed.
 */
export type TriageRequestEffect = { type: 'triage.request'; turn: number; query: { text: string; region: string; purpose: string } };
/** Asks the runtime to record that a turn is over (`turn.completed`): the ledger reconciles the turn's budget on it. */
export type TurnCompleteEffect = { type: 'turn.complete'; turn: number; status: 'answered' | 'failed'; mode: 'express' | 'council' | 'emergency'; agents: string[] };

export type Effect = ModelCallEffect | ModelCancelEffect | TimerStartEffect | TimerCancelEffect | MessageSendEffect | TriageRequestEffect | TurnCompleteEffect | MarketSettleEffect;

export const EFFECT_TYPES: ReadonlySet<string> = new Set(['model.call', 'model.cancel', 'timer.start', 'timer.cancel', 'message.send', 'triage.request', 'turn.complete', 'market.settle']);
