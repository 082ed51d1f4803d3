import type { LanguageModel, ModelReply, ModelRequest, TokenUsage } from './languageModel.ts';
import { abortedCallError, ModelCallError } from './modelCallError.ts';
import { modelProfile, type ModelProfile } from './modelProfiles.ts';
import { formatModelSpec, SCRIPTED_DEFAULTS, type ScriptedFailureKind } from './modelSpec.ts';
import { RequestJoiner } from './requestJoiner.ts';
import { pick, seededRandom } from './seededRandom.ts';
import { scriptedText } from './scriptedText.ts';
import { countTokens, truncateToTokens } from './tokenCount.ts';
import { estimateUsage } from './usageEstimate.ts';
import { realWait, untilAborted, type Wait } from './wait.ts';

/** One scripted outcome: a reply text, a reply with its own usage or latency, or a failure. */
export type ScriptedStep = string | { text: string; usage?: TokenUsage; latencyMs?: number } | ModelCallError;
export type ScriptedReplies = readonly ScriptedStep[] | ((request: ModelRequest, attempt: number) => ScriptedStep | Promise<ScriptedStep>);

export interface ScriptedModelOptions {
  /** Mean latency in ms; each call draws within ±25% of it. Default 0. */
  latencyMs?: number;
  /** Probability that an attempt fails, from 0 to 1. Default 0. */
  failRate?: number;
  seed?: number;
  /** The kinds a failure is drawn from, evenly. */
  failKinds?: readonly ScriptedFailureKind[];
  /** The profile whose name, encoding and verbosity the replies take. Default scripted-small. */
  model?: string;
  region?: string;
  wait?: Wait;
  /**
   * Fully scripted mode, for tests: the outcomes in call order (a list), or computed per call. Generated text,
   * latency draws and failRate are then not used; `latencyMs` still applies unless a step sets its own.
   */
  replies?: ScriptedReplies;
  /** Recorded as the model's spec; defaults to the canonical scripted spec. */
  spec?: string;
}

/** What one call will do once its latency has passed. */
interface PlannedCall { latencyMs: number; outcome: { text: string; usage?: TokenUsage } | ModelCallError }

const FAILURE_DETAIL: Record<ScriptedFailureKind, string> = {
  timeout: 'scripted provider timed out (HTTP 504)',
  'rate-limit': 'scripted provider is rate limiting (HTTP 429)',
  server: 'scripted provider had an internal error (HTTP 500)',
  malformed: 'scripted provider returned a response that is not a chat completion',
  auth: 'scripted provider rejected the credentials (HTTP 401)',
  network: 'scripted provider could not be reached (connection reset)',
  refused: 'scripted provider refused to answer (content filter)',
};
const FAILURE_STATUS: Partial<Record<ScriptedFailureKind, number>> = { timeout: 504, 'rate-limit': 429, server: 500, auth: 401 };

/** Larger profiles answer at more length, as larger models tend to. */
function verbosityOf(profile: ModelProfile): number {
  return profile.parameters.totalBillions >= 50 ? 1.5 : 1;
}

/**
 * The default model: offline and deterministic. The reply text is a pure function of (seed, system, prompt);
 * latency and failure are drawn from (seed, system, prompt, attempt), so a retry may succeed where the first attempt
 * failed, exactly as often on every run.
 */
export class ScriptedModel implements LanguageModel {
  readonly spec: string;
  readonly id: string;
  readonly provider = 'scripted';
  readonly region: string;
  readonly profile: ModelProfile;
  readonly #latencyMs: number;
  readonly #failRate: number;
  readonly #seed: number;
  readonly #failKinds: readonly ScriptedFailureKind[];
  readonly #wait: Wait;
  readonly #replies: ScriptedReplies | undefined;
  readonly #joiner = new RequestJoiner();
  readonly #attempts = new Map<string, number>();
  #calls = 0;

  constructor(options: ScriptedModelOptions = {}) {
    this.profile = modelProfile(options.model ?? SCRIPTED_DEFAULTS.model);
    this.id = this.profile.id;
    this.region = options.region ?? this.profile.region;
    this.#latencyMs = options.latencyMs ?? SCRIPTED_DEFAULTS.latencyMs;
    this.#failRate = options.failRate ?? SCRIPTED_DEFAULTS.failRate;
    this.#seed = options.seed ?? SCRIPTED_DEFAULTS.seed;
    this.#failKinds = options.failKinds ?? SCRIPTED_DEFAULTS.failKinds;
    if (!(this.#failRate >= 0 && this.#failRate <= 1)) throw new RangeError(`failRate must be from 0 to 1, got ${this.#failRate}`);
    if (!(this.#latencyMs >= 0)) throw new RangeError(`latencyMs cannot be negative, got ${this.#latencyMs}`);
    if (this.#failRate > 0 && this.#failKinds.length === 0) throw new RangeError('failKinds cannot be empty when failRate is above 0');
    this.#wait = options.wait ?? realWait;
    this.#replies = options.replies;
    this.spec = options.spec ?? formatModelSpec({
      provider: 'scripted', latencyMs: this.#latencyMs, failRate: this.#failRate, seed: this.#seed, failKinds: [...this.#failKinds], model: this.id,
    });
  }

  estimateTokens(text: string): number {
    return countTokens(text, this.profile.encoding);
  }

  call(request: ModelRequest): Promise<ModelReply> {
    return this.#joiner.run(request, (r) => this.#perform(r));
  }

  async #perform(request: ModelRequest): Promise<ModelReply> {
    const signal = request.abortSignal;
    if (signal?.aborted) throw abortedCallError(signal);
    const attempt = this.#attemptOf(request);
    const step = this.#replies ? await this.#scriptedStep(request, attempt) : this.#generatedStep(request, attempt);
    const { latencyMs } = step;
    if (latencyMs > 0) {
      await untilAborted(this.#wait(latencyMs, signal), signal, () => abortedCallError(signal!)).catch((error: unknown) => {
        throw signal?.aborted ? abortedCallError(signal) : error;
      });
    }
    if (step.outcome instanceof ModelCallError) throw step.outcome;
    return this.#reply(request, step.outcome, latencyMs);
  }

  /** The attempt number: the runtime's when given, else this process's count of calls with the same prompt. */
  #attemptOf(request: ModelRequest): number {
    if (request.attempt !== undefined) return request.attempt;
    const key = `${request.system ?? ''}\u0000${request.prompt}`;
    const attempt = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempt);
    return attempt;
  }

  #generatedStep(request: ModelRequest, attempt: number): PlannedCall {
    const system = request.system ?? '';
    const random = seededRandom('attempt', this.#seed, system, request.prompt, attempt);
    const latencyMs = Math.round(this.#latencyMs * (0.75 + 0.5 * random()));
    if (random() < this.#failRate) {
      const kind = pick(random, this.#failKinds);
      const status = FAILURE_STATUS[kind];
      return { latencyMs, outcome: new ModelCallError(kind, `${FAILURE_DETAIL[kind]} on attempt ${attempt}`, status === undefined ? {} : { statusCode: status }) };
    }
    const text = scriptedText({ seed: this.#seed, prompt: request.prompt, system, encoding: this.profile.encoding, verbosity: verbosityOf(this.profile) });
    return { latencyMs, outcome: { text } };
  }

  async #scriptedStep(request: ModelRequest, attempt: number): Promise<PlannedCall> {
    const replies = this.#replies!;
    const index = this.#calls++;
    let step: ScriptedStep | undefined;
    if (typeof replies === 'function') step = await replies(request, attempt);
    else {
      step = replies[index];
      if (step === undefined) throw new Error(`scripted model ran out of replies: ${replies.length} scripted, call ${index + 1} (request ${request.requestId})`);
    }
    if (typeof step === 'string') return { latencyMs: this.#latencyMs, outcome: { text: step } };
    if (step instanceof ModelCallError) return { latencyMs: this.#latencyMs, outcome: step };
    return { latencyMs: step.latencyMs ?? this.#latencyMs, outcome: step };
  }

  #reply(request: ModelRequest, outcome: { text: string; usage?: TokenUsage }, latencyMs: number): ModelReply {
    const encoding = this.profile.encoding;
    let text = outcome.text;
    let estimatedUsage = estimateUsage(request, text, encoding);
    // A real model stops at its output limit, and says so; so does this one. Counted first: most replies fit.
    const truncated = request.maxOutputTokens !== undefined && estimatedUsage.outputTokens > request.maxOutputTokens;
    if (truncated) estimatedUsage = estimateUsage(request, text = truncateToTokens(text, request.maxOutputTokens!, encoding), encoding);
    return {
      text,
      ...(truncated ? { truncated } : {}),
      usage: outcome.usage ?? estimatedUsage,
      usageSource: outcome.usage ? 'provider' : 'tiktoken',
      estimatedUsage,
      latencyMs,
      model: this.id,
      provider: this.provider,
      region: this.region,
    };
  }
}

export function createScriptedModel(options: ScriptedModelOptions = {}): ScriptedModel {
  return new ScriptedModel(options);
}
