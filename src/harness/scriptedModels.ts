import type { LanguageModel, ModelReply, ModelRequest } from '../models/languageModel.ts';
import { abortedCallError, ModelCallError } from '../models/modelCallError.ts';
import { findModelProfile } from '../models/modelProfiles.ts';
import { formatModelSpec, parseModelSpec, SCRIPTED_DEFAULTS, type ModelSpec } from '../models/modelSpec.ts';
import { ScriptedModel } from '../models/scriptedModel.ts';
import { untilAborted, type Wait } from '../models/wait.ts';
import { describeStep, scriptedStep, type ModelCall, type ModelScript } from './modelScript.ts';

/** Where a request was recorded: read from the runtime's own `model.requested`, so the role is never guessed. */
export interface CallSite { streamId: string; sessionId: string; role: string; turn: number }

/** A call the harness's models answered: the call, and the scripted step it got (null: unscripted). */
export interface AnsweredCall extends ModelCall { step: string | null }

export interface HarnessModelOptions {
  script: ModelScript;
  /** Simulated latency of every call a step does not time itself. */
  latencyMs: number;
  /** Unscripted calls: answered by the deterministic scripted model, or failed and reported. */
  unscripted: 'generate' | 'fail';
  wait: Wait;
  siteOf: (requestId: string) => CallSite | undefined;
  onCall: (call: AnsweredCall) => void;
}

const ROLE_LINE = /^You are the (\S+) (?:agent|role)\b/;
const TURN_LINE = /^Question \(turn (\d+)\): /m;

/**
 * One model per spec, every spec answered offline: a call whose role and turn the script covers gets its scripted
 * reply or failure; any other is answered by the deterministic scripted model (or failed, when so configured).
 * Specs need not be real: `primary` and `fallback` are as good as `openai:gpt-4o-mini`, whose profile is then used.
 */
export function harnessModels(options: HarnessModelOptions): (spec: string) => LanguageModel {
  const models = new Map<string, HarnessModel>();
  const calls = new Map<string, ModelCall>();
  const perRole = new Map<string, number>();

  function describe(request: ModelRequest, model: string): ModelCall {
    const known = calls.get(request.requestId);
    if (known) return known;
    // The runtime passes no role: it is the recording stream's, found by the request's id (the prompt otherwise).
    const site = options.siteOf(request.requestId) ?? siteFromPrompt(request.prompt);
    const index = perRole.get(site.role) ?? 0;
    perRole.set(site.role, index + 1);
    const call: ModelCall = { requestId: request.requestId, ...site, attempt: request.attempt ?? 1, model, prompt: request.prompt, index };
    calls.set(request.requestId, call);
    return call;
  }

  return (spec) => {
    let model = models.get(spec);
    if (!model) models.set(spec, model = new HarnessModel(spec, options, describe));
    return model;
  };
}

function siteFromPrompt(prompt: string): CallSite {
  const role = ROLE_LINE.exec(prompt)?.[1] ?? 'unknown';
  const turn = Number(TURN_LINE.exec(prompt)?.[1] ?? 0);
  return { streamId: '', sessionId: '', role, turn };
}

class HarnessModel implements LanguageModel {
  readonly spec: string;
  readonly id: string;
  readonly provider = 'scripted';
  readonly region: string;
  readonly profile: LanguageModel['profile'];
  readonly #options: HarnessModelOptions;
  readonly #describe: (request: ModelRequest, model: string) => ModelCall;
  readonly #generated: ScriptedModel;
  readonly #replies: ScriptedModel;
  readonly #planned = new Map<string, { text: string; usage?: ModelReply['usage']; latencyMs?: number }>();

  constructor(spec: string, options: HarnessModelOptions, describe: (request: ModelRequest, model: string) => ModelCall) {
    this.spec = spec;
    this.#options = options;
    this.#describe = describe;
    const generated = generatorFor(spec, options);
    this.#generated = generated;
    // Scripted replies go through the scripted model too, so their usage is counted exactly as any other reply's.
    this.#replies = new ScriptedModel({
      spec, model: generated.profile.id, latencyMs: options.latencyMs, wait: options.wait,
      replies: (request) => this.#planned.get(request.requestId) ?? '',
    });
    this.id = generated.id;
    this.region = generated.region;
    this.profile = generated.profile;
  }

  estimateTokens(text: string): number {
    return this.#generated.estimateTokens(text);
  }

  async call(request: ModelRequest): Promise<ModelReply> {
    const call = this.#describe(request, this.spec);
    const step = scriptedStep(this.#options.script[call.role], call);
    this.#options.onCall({ ...call, step: step === undefined ? null : describeStep(step) });
    if (step === undefined) {
      if (this.#options.unscripted === 'generate') return this.#generated.call(request);
      throw new ModelCallError('refused', `harness: nothing scripted for the ${call.role} role, turn ${call.turn}, attempt ${call.attempt} (model ${this.spec})`);
    }
    if (typeof step !== 'string' && 'hang' in step) return hang(request.abortSignal);
    if (typeof step !== 'string' && 'fail' in step) {
      await this.#wait(step.latencyMs ?? this.#options.latencyMs, request.abortSignal);
      throw new ModelCallError(step.fail, step.reason ?? `scripted ${step.fail} for the ${call.role} role on turn ${call.turn}, attempt ${call.attempt}`);
    }
    this.#planned.set(request.requestId, typeof step === 'string' ? { text: step } : step);
    try {
      return await this.#replies.call(request);
    } finally {
      this.#planned.delete(request.requestId);
    }
  }

  async #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (ms <= 0) return;
    await untilAborted(this.#options.wait(ms, signal), signal, () => abortedCallError(signal!)).catch((error: unknown) => {
      throw signal?.aborted ? abortedCallError(signal) : error;
    });
  }
}

/** A call that answers only by being aborted (the agent's timeout cancels it). */
function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal?.aborted) return reject(abortedCallError(signal));
    signal?.addEventListener('abort', () => reject(abortedCallError(signal)), { once: true });
  });
}

/**
 * The deterministic model that answers unscripted calls: a `scripted:` spec as it says (with the harness's latency
 * when it sets none), any other spec as the default scripted model under that model's profile when one is known.
 */
function generatorFor(spec: string, options: HarnessModelOptions): ScriptedModel {
  let parsed: ModelSpec | undefined;
  try {
    parsed = parseModelSpec(spec);
  } catch {
    parsed = undefined;
  }
  if (parsed?.provider === 'scripted') {
    return new ScriptedModel({
      latencyMs: parsed.latencyMs > 0 ? parsed.latencyMs : options.latencyMs, failRate: parsed.failRate, seed: parsed.seed,
      failKinds: parsed.failKinds, model: parsed.model, spec: formatModelSpec(parsed), wait: options.wait,
    });
  }
  const profile = parsed === undefined ? undefined : findModelProfile(parsed.model);
  return new ScriptedModel({ spec, latencyMs: options.latencyMs, wait: options.wait, model: profile?.id ?? SCRIPTED_DEFAULTS.model });
}
