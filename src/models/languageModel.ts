import type { ModelProfile } from './modelProfiles.ts';

export { ModelCallError, MODEL_FAILURE_KINDS, type ModelFailureKind } from './modelCallError.ts';

/** One model call the runtime performs for an agent, after the `model.requested` fact is durable. */
export interface ModelRequest {
  /**
   * The `model.requested` event's id, used as the idempotency key: sent to providers that accept one, and within
   * one process a second call with the same id joins the first instead of calling again.
   */
  requestId: string;
  prompt: string;
  system?: string;
  maxOutputTokens?: number;
  /** The runtime aborts on its own timeout (with a `TimeoutError` reason) or when the session is cancelled. */
  abortSignal?: AbortSignal;
  /**
   * 1 for the first attempt at this prompt, 2 for its first retry, …, counted by the runtime from the log. The
   * scripted model draws its failures from it; when absent it counts attempts per prompt itself.
   */
  attempt?: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What `model.responded` records, plus how the usage was obtained. */
export interface ModelReply {
  text: string;
  /** Present when the model stopped at `maxOutputTokens` (a provider's finish reason "length"): the text is cut short. */
  truncated?: true;
  usage: TokenUsage;
  /** `provider` when the provider reported both counts, else `tiktoken` (then `usage` equals `estimatedUsage`). */
  usageSource: 'provider' | 'tiktoken';
  /** Always our tiktoken estimate, so provider counts can be checked against it. */
  estimatedUsage: TokenUsage;
  latencyMs: number;
  model: string;
  provider: string;
  region: string;
}

/** The port the runtime calls models through. Implementations reject only with `ModelCallError`. */
export interface LanguageModel {
  /** The spec string this model was created from, e.g. `openai:gpt-4o-mini`. */
  readonly spec: string;
  /** The model id sent to the provider (or the scripted profile id). */
  readonly id: string;
  readonly provider: string;
  readonly region: string;
  /** The profile for this model (context window, prices, parameters), when the table knows it. */
  readonly profile: ModelProfile | undefined;
  /** Counts tokens with this model's encoding: what agents use to estimate prompts and track their context window. */
  estimateTokens(text: string): number;
  call(request: ModelRequest): Promise<ModelReply>;
}
