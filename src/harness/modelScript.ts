import { z } from 'zod';
import type { TokenUsage } from '../models/languageModel.ts';
import { SCRIPTED_FAILURE_KINDS, type ScriptedFailureKind } from '../models/modelSpec.ts';

/** A reply the model gives: its text, and optionally the usage a provider would report and its own latency. */
export interface ScriptReply { text: string; usage?: TokenUsage; latencyMs?: number }
/** A failure the model answers with, as a provider would: `timeout`, `rate-limit`, `server`, `auth`, … */
export interface ScriptFailure { fail: ScriptedFailureKind; reason?: string; latencyMs?: number }
/** A call that never answers: only the agent's own timeout (or an abort) ends it. */
export interface ScriptHang { hang: true }
/** One scripted call: a reply (a bare string is its text), a failure, or a hang. */
export type ScriptStep = string | ScriptReply | ScriptFailure | ScriptHang;

/** What a scripted model knows about the call it is answering. */
export interface ModelCall {
  requestId: string;
  /** The agent's role (`express`, `analyst`, `synthesiser`, …) or `triage` for a session's delegated triage. */
  role: string;
  /** The session's turn the call is for. */
  turn: number;
  /** 1 for the first attempt at the turn's task, 2 for its first retry, … */
  attempt: number;
  /** The model spec the call went to: the agent's primary or, while its breaker is open, its fallback. */
  model: string;
  sessionId: string;
  /** The stream that recorded the request (`agent-<session>.<role>.<n>`, or `session-<id>` for triage). */
  streamId: string;
  prompt: string;
  /** How many calls this role had before this one, across turns, attempts and sessions. */
  index: number;
}

/**
 * A role's script. A list is consumed call by call (every attempt takes the next step, whatever its turn). An
 * object is keyed by turn: one step answers every attempt of that turn, a list answers attempt by attempt. A
 * function decides per call; `undefined` leaves the call unscripted.
 */
export type RoleScript =
  | readonly ScriptStep[]
  | Readonly<Record<number, ScriptStep | readonly ScriptStep[]>>
  | ((call: ModelCall) => ScriptStep | undefined);

/** Scripts by role; `triage` scripts a delegated triage (and turns it on). */
export type ModelScript = Readonly<Record<string, RoleScript>>;

const usageSchema = z.strictObject({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() });
const latencySchema = z.number().nonnegative().optional();
export const scriptStepSchema = z.union([
  z.string(),
  z.strictObject({ text: z.string(), usage: usageSchema.optional(), latencyMs: latencySchema }),
  z.strictObject({ fail: z.enum(SCRIPTED_FAILURE_KINDS), reason: z.string().min(1).optional(), latencyMs: latencySchema }),
  z.strictObject({ hang: z.literal(true) }),
]);
const roleScriptSchema = z.union([
  z.array(scriptStepSchema),
  z.record(z.string().regex(/^\d+$/, 'a turn number'), z.union([scriptStepSchema, z.array(scriptStepSchema)])),
  z.custom<(call: ModelCall) => ScriptStep | undefined>((value) => typeof value === 'function', 'a function of the call'),
]);
export const modelScriptSchema = z.record(z.string().min(1), roleScriptSchema);

/** The step a role's script gives a call, or undefined when the script says nothing about it. */
export function scriptedStep(script: RoleScript | undefined, call: ModelCall): ScriptStep | undefined {
  if (script === undefined) return undefined;
  if (typeof script === 'function') return script(call);
  if (Array.isArray(script)) return (script as readonly ScriptStep[])[call.index];
  const forTurn = (script as Readonly<Record<number, ScriptStep | readonly ScriptStep[]>>)[call.turn];
  return Array.isArray(forTurn) ? (forTurn as readonly ScriptStep[])[call.attempt - 1] : forTurn as ScriptStep | undefined;
}

export function describeStep(step: ScriptStep): string {
  if (typeof step === 'string') return `reply "${step}"`;
  if ('hang' in step) return 'hang';
  if ('fail' in step) return `fail (${step.fail})`;
  return `reply "${step.text}"`;
}
