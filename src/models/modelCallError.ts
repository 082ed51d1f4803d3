import type { TokenUsage } from './languageModel.ts';

/** Why a model call failed, in the runtime's terms: what it records in `model.failed` and whether to retry. */
export const MODEL_FAILURE_KINDS = ['timeout', 'rate-limit', 'server', 'malformed', 'auth', 'network', 'aborted', 'refused'] as const;
export type ModelFailureKind = (typeof MODEL_FAILURE_KINDS)[number];

/**
 * Transient failures are worth another attempt; the rest would fail the same way again. `aborted` is the caller
 * cancelling on purpose, so retrying it would undo the caller's own decision.
 */
const RETRYABLE: Record<ModelFailureKind, boolean> = {
  timeout: true,
  'rate-limit': true,
  server: true,
  network: true,
  malformed: false,
  auth: false,
  refused: false,
  aborted: false,
};

/** A failed call the provider still billed: its reported usage, and where and how long it ran. */
export interface BilledCall {
  usage: TokenUsage;
  latencyMs: number;
  /** The model id, as an answer's `model` names it (not the spec). */
  model: string;
  provider: string;
  region: string;
}

export function isRetryableKind(kind: ModelFailureKind): boolean {
  return RETRYABLE[kind];
}

/**
 * The one error a `LanguageModel` rejects with. `reason` is a single line fit for the event log (`model.failed
 * {reason, retryable}`): it starts with the kind and never holds a credential.
 */
export class ModelCallError extends Error {
  readonly kind: ModelFailureKind;
  readonly retryable: boolean;
  readonly reason: string;
  /** The HTTP status the provider answered with, when there was one. */
  readonly statusCode: number | undefined;
  /** How long the provider asked to be left alone before the next call (retry-after), when it said. */
  readonly retryAfterMs: number | undefined;
  /** What the provider billed for a call that still gave no answer (see `model.failed`'s `billed`), when it said. */
  readonly billed: BilledCall | undefined;

  constructor(kind: ModelFailureKind, detail: string, options: { statusCode?: number; retryAfterMs?: number; billed?: BilledCall } = {}) {
    const reason = `${kind}: ${detail}`;
    super(reason);
    this.name = 'ModelCallError';
    this.kind = kind;
    this.retryable = RETRYABLE[kind];
    this.reason = reason;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.billed = options.billed;
  }
}

/**
 * The error for a call its caller aborted. A signal aborted with a `TimeoutError` reason (what
 * `AbortSignal.timeout()` produces, and what the runtime passes when its own deadline passes) is a timeout, which is
 * worth retrying; any other reason is a deliberate cancel.
 */
export function abortedCallError(signal: AbortSignal): ModelCallError {
  const reason: unknown = signal.reason;
  const name = reason instanceof Error || reason instanceof DOMException ? reason.name : undefined;
  const message = reason instanceof Error || reason instanceof DOMException ? reason.message : typeof reason === 'string' ? reason : '';
  if (name === 'TimeoutError') return new ModelCallError('timeout', `the caller's deadline passed before the model answered${message ? ` (${message})` : ''}`);
  return new ModelCallError('aborted', message ? `the caller aborted the call (${message})` : 'the caller aborted the call');
}
