import { apiKeyFor, type HostedProvider } from './credentials.ts';
import type { LanguageModel, ModelReply, ModelRequest, TokenUsage } from './languageModel.ts';
import { ModelCallError, type BilledCall } from './modelCallError.ts';
import { findModelProfile, type ModelProfile } from './modelProfiles.ts';
import { RequestJoiner } from './requestJoiner.ts';
import { countTokens, encodingForModel, type TokenEncoding } from './tokenCount.ts';
import { estimateUsage } from './usageEstimate.ts';

export interface AiSdkModelOptions {
  provider: HostedProvider;
  /** The id the provider knows the model by, e.g. `gpt-4o-mini` or `llama3.1:8b`. */
  model: string;
  /** Required for openai-compatible; for openai and anthropic, a proxy (or a test server) in front of the API. */
  baseURL?: string;
  region?: string;
  /** Where keys are read from at each call; process.env by default. */
  env?: Record<string, string | undefined>;
  spec?: string;
}

/** Where inference runs when neither the caller nor the profile says: a loopback server is this machine. */
function defaultRegion(provider: HostedProvider, baseURL: string | undefined): string {
  if (provider !== 'openai-compatible') return 'US';
  const host = baseURL ? new URL(baseURL).hostname : '';
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' ? 'local' : 'unknown';
}

/**
 * Real providers through the Vercel AI SDK. Nothing touches the network or the keys until `call`, so specs for
 * hosted models can be parsed and models built offline. The SDK's own retries are off: every attempt must be a
 * recorded fact, so retrying is the runtime's decision.
 */
export class AiSdkModel implements LanguageModel {
  readonly spec: string;
  readonly id: string;
  readonly provider: HostedProvider;
  readonly region: string;
  readonly profile: ModelProfile | undefined;
  readonly #encoding: TokenEncoding;
  readonly #baseURL: string | undefined;
  readonly #env: Record<string, string | undefined>;
  readonly #joiner = new RequestJoiner();

  constructor(options: AiSdkModelOptions) {
    if (options.provider === 'openai-compatible' && !options.baseURL) throw new TypeError('an openai-compatible model needs a baseURL');
    this.provider = options.provider;
    this.id = options.model;
    this.#baseURL = options.baseURL;
    this.#env = options.env ?? process.env;
    this.profile = findModelProfile(options.model);
    this.#encoding = this.profile?.encoding ?? encodingForModel(options.model);
    this.region = options.region ?? this.profile?.region ?? defaultRegion(options.provider, options.baseURL);
    this.spec = options.spec ?? (options.provider === 'openai-compatible' ? `openai-compatible:${options.baseURL}#${options.model}` : `${options.provider}:${options.model}`);
  }

  estimateTokens(text: string): number {
    return countTokens(text, this.#encoding);
  }

  call(request: ModelRequest): Promise<ModelReply> {
    return this.#joiner.run(request, (r) => this.#perform(r));
  }

  async #perform(request: ModelRequest): Promise<ModelReply> {
    // The SDK (~0.2 s to load) is loaded by the first call, not by every command that could make one.
    const { generateText, sdkModel, toModelCallError } = await import('./aiSdkCall.ts');
    let key: string | undefined;
    const startedAt = performance.now();
    try {
      key = apiKeyFor(this.provider, this.#env, this.spec);
      const result = await generateText({
        model: sdkModel(this.provider, this.id, key, this.#baseURL),
        prompt: request.prompt,
        ...(request.system === undefined ? {} : { instructions: request.system }),
        ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
        ...(request.abortSignal === undefined ? {} : { abortSignal: request.abortSignal }),
        maxRetries: 0,
        // Providers that deduplicate by key do so on these; the others ignore them.
        headers: { 'Idempotency-Key': request.requestId, 'X-Client-Request-Id': request.requestId },
        // The event log is the record of this call; the provider need not keep one.
        providerOptions: { openai: { store: false } },
      });
      const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
      // A call that gave no answer may still have been billed (a reasoning model spends output tokens on reasoning
      // it does not show): what the provider reported is recorded with the failure, for the ledger and the climate.
      const billed = this.#billed(request, result.usage, latencyMs);
      if (result.finishReason === 'content-filter') {
        throw new ModelCallError('refused', `${this.spec} stopped its answer on a content filter`, { ...billed });
      }
      // No text is no answer, whatever the status: recorded as a failure, so the fallback (or the turn's failure)
      // takes over rather than an empty answer passing for one.
      if (result.text.trim() === '') {
        throw new ModelCallError('malformed', `${this.spec} returned no text (finish reason ${result.finishReason}${result.finishReason === 'length' ? ': the output limit was used up before any text' : ''})`, { ...billed });
      }
      return this.#reply(request, result.text, result.usage, latencyMs, result.finishReason === 'length');
    } catch (error) {
      // The endpoint URL goes into the reason beside the label, so the label need not repeat the base URL.
      throw toModelCallError(error, { label: `${this.provider}:${this.id}`, signal: request.abortSignal, secrets: [key] });
    }
  }

  /** The provider's usage for a call that gave no answer, when it reported plausible counts (none is estimated: no text). */
  #billed(request: ModelRequest, reported: { inputTokens: unknown; outputTokens: unknown }, latencyMs: number): { billed?: BilledCall } {
    const usage = plausibleUsage(reported, estimateUsage(request, '', this.#encoding));
    if (!usage || usage.inputTokens + usage.outputTokens === 0) return {};
    return { billed: { usage, latencyMs, model: this.id, provider: this.provider, region: this.region } };
  }

  #reply(request: ModelRequest, text: string, reported: { inputTokens: unknown; outputTokens: unknown }, latencyMs: number, truncated: boolean): ModelReply {
    const estimatedUsage = estimateUsage(request, text, this.#encoding);
    // Usage is taken whole from one source, so a ledger never mixes a provider count with an estimate.
    const usage = plausibleUsage(reported, estimatedUsage);
    return {
      text,
      ...(truncated ? { truncated } : {}),
      usage: usage ?? estimatedUsage,
      usageSource: usage ? 'provider' : 'tiktoken',
      estimatedUsage,
      latencyMs,
      model: this.id,
      provider: this.provider,
      region: this.region,
    };
  }
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * The provider's counts, when they are counts at all: whole, non-negative, and not zero for a side our estimate
 * finds tokens on. Servers report usage unevenly — some send null or leave a field out, which the AI SDK's
 * OpenAI-compatible adapter turns into 0, and some send fractions — and a call recorded at 0 tokens would be
 * charged nothing in the ledger and cost no energy in the climate report. Otherwise undefined: the estimate is used.
 */
function plausibleUsage(reported: { inputTokens: unknown; outputTokens: unknown }, estimated: TokenUsage): TokenUsage | undefined {
  const { inputTokens, outputTokens } = reported;
  if (!isCount(inputTokens) || !isCount(outputTokens)) return undefined;
  if ((inputTokens === 0 && estimated.inputTokens > 0) || (outputTokens === 0 && estimated.outputTokens > 0)) return undefined;
  return { inputTokens, outputTokens };
}
