import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiSdkModel } from '../../src/models/aiSdkModel.ts';
import { createModel } from '../../src/models/createModel.ts';
import { ModelCallError } from '../../src/models/modelCallError.ts';
import { countTokens } from '../../src/models/tokenCount.ts';
import { closedPort, FAKE_TEXT, startFakeProviderServer, type FakeProviderServer } from './fakeProviderServer.ts';

const KEY = 'sk-test-0123456789abcdefSECRET';
let server: FakeProviderServer;
let ids = 0;

beforeAll(async () => { server = await startFakeProviderServer(); });
afterAll(async () => { await server.close(); });

const compatible = (model: string, env: Record<string, string | undefined> = { OPENAI_COMPATIBLE_API_KEY: KEY }) =>
  createModel(`openai-compatible:${server.baseURL}#${model}`, { env });
const request = (extra: Record<string, unknown> = {}) => ({ requestId: `req-${++ids}`, prompt: 'Which flood defences first?', ...extra });

async function failure(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

describe('AI SDK model against a local OpenAI-compatible server', () => {
  it('returns the completion with the provider\'s usage, and our estimate beside it', async () => {
    const reply = await compatible('ok').call(request({ system: 'Be brief.' }));
    expect(reply).toMatchObject({
      text: FAKE_TEXT, usage: { inputTokens: 21, outputTokens: 13 }, usageSource: 'provider', model: 'ok', provider: 'openai-compatible', region: 'local',
    });
    expect(reply.estimatedUsage).toEqual({ inputTokens: countTokens('Be brief.') + countTokens('Which flood defences first?'), outputTokens: countTokens(FAKE_TEXT) });
    expect(reply.latencyMs).toBeGreaterThan(0);
  });

  it('sends the prompt, system, output limit, key and request id as the idempotency key', async () => {
    const req = request({ system: 'Be brief.', maxOutputTokens: 64 });
    await compatible('ok').call(req);
    const sent = server.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({
      model: 'ok', max_tokens: 64, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Which flood defences first?' }],
    });
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers['idempotency-key']).toBe(req.requestId);
    expect(sent.headers['x-client-request-id']).toBe(req.requestId);
  });

  it('falls back to the tiktoken estimate when the provider reports no usage', async () => {
    const reply = await compatible('no-usage').call(request());
    expect(reply.usageSource).toBe('tiktoken');
    expect(reply.usage).toEqual(reply.estimatedUsage);
    expect(reply.usage.outputTokens).toBe(countTokens(FAKE_TEXT));
  });

  it.each(['fractional-usage', 'negative-usage', 'null-usage', 'half-usage'])('records the tiktoken estimate when the provider\'s usage is not whole counts for both sides (%s)', async (model) => {
    const reply = await compatible(model).call(request());
    expect(reply.usageSource).toBe('tiktoken');
    expect(reply.usage).toEqual(reply.estimatedUsage);
    expect(reply.usage.inputTokens).toBeGreaterThan(0);
    expect(reply.usage.outputTokens).toBe(countTokens(FAKE_TEXT));
  });

  it('takes an empty answer for a malformed one, and marks an answer cut at the output limit', async () => {
    const empty = await failure(compatible('empty').call(request()));
    expect(empty).toMatchObject({ kind: 'malformed', retryable: false });
    expect(empty.reason).toMatch(/returned no text \(finish reason stop\)/);
    expect(await compatible('cut-short').call(request({ maxOutputTokens: 13 }))).toMatchObject({ text: FAKE_TEXT, truncated: true, usageSource: 'provider' });
    expect(await compatible('ok').call(request())).not.toHaveProperty('truncated');
  });

  it('calls without a key when none is set, as local servers need none', async () => {
    await compatible('ok', {}).call(request());
    expect(server.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it.each([
    ['boom', 'server', true, 500],
    ['busy', 'rate-limit', true, 429],
    ['denied', 'auth', false, 401],
    ['unknown-model', 'refused', false, 404],
    ['garbled', 'malformed', false, 200],
    ['wrong-shape', 'malformed', false, 200],
  ] as const)('maps model %s to kind %s (retryable %s)', async (model, kind, retryable, status) => {
    const error = await failure(compatible(model).call(request()));
    expect(error).toMatchObject({ kind, retryable, statusCode: status });
    expect(error.reason).toMatch(new RegExp(`^${kind}: HTTP ${status} from openai-compatible:`));
    expect(error.reason).not.toMatch(/\n/);
  });

  it('tries once: retries are the runtime\'s decision, each one recorded', async () => {
    const before = server.requests.length;
    await failure(compatible('boom').call(request()));
    expect(server.requests.length).toBe(before + 1);
  });

  it('never lets the key into an error, even when the provider echoes it', async () => {
    const error = await failure(compatible('denied').call(request()));
    expect(error.reason).toContain('Incorrect API key provided');
    for (const text of [error.reason, error.message, JSON.stringify(error), String(error.stack)]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('SECRET');
    }
  });

  it('redacts a key of any shape, not only sk- keys', async () => {
    const error = await failure(compatible('denied', { OPENAI_COMPATIBLE_API_KEY: 'vllm-token-4242' }).call(request()));
    expect(error.reason).toContain('[redacted]');
    expect(error.reason).not.toContain('vllm-token-4242');
  });

  it('redacts a short key echoed as a bearer token', async () => {
    const error = await failure(compatible('denied-bearer', { OPENAI_COMPATIBLE_API_KEY: 'k3y' }).call(request()));
    expect(error.reason).toMatch(/Incorrect API key provided: \[redacted\]/);
    expect(error.reason).not.toContain('k3y');
  });

  it('maps a content-filter stop to refused', async () => {
    expect(await failure(compatible('filtered').call(request()))).toMatchObject({ kind: 'refused', retryable: false });
  });

  it('maps an unreachable server to network', async () => {
    const port = await closedPort();
    const model = createModel(`openai-compatible:http://127.0.0.1:${port}/v1#ok`, { env: {} });
    expect(await failure(model.call(request()))).toMatchObject({ kind: 'network', retryable: true });
  });

  it('maps the caller\'s abort to aborted, and its deadline to timeout', async () => {
    const controller = new AbortController();
    const pending = failure(compatible('slow').call(request({ abortSignal: controller.signal })));
    setTimeout(() => controller.abort(), 30);
    expect(await pending).toMatchObject({ kind: 'aborted', retryable: false });
    expect(await failure(compatible('slow').call(request({ abortSignal: AbortSignal.timeout(30) })))).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('joins a second call with the same request id: one HTTP request', async () => {
    const model = compatible('ok');
    const before = server.requests.length;
    const req = request();
    const [a, b] = await Promise.all([model.call(req), model.call(req)]);
    expect(b).toBe(a);
    await model.call(req);
    expect(server.requests.length).toBe(before + 1);
  });
});

describe('AI SDK model: hosted providers', () => {
  it('builds openai and anthropic models offline, and fails at call time naming the missing key', async () => {
    for (const [spec, variable] of [['openai:gpt-4o-mini', 'OPENAI_API_KEY'], ['anthropic:claude-sonnet-4-20250514', 'ANTHROPIC_API_KEY']] as const) {
      const model = createModel(spec, { env: {} });
      expect(model.profile).toBeDefined();
      const error = await failure(model.call(request()));
      expect(error).toMatchObject({ kind: 'auth', retryable: false });
      expect(error.reason).toBe(`auth: ${variable} is not set; export it to call ${spec}`);
    }
  });

  it('talks to OpenAI\'s Responses API with the key, and reads its usage', async () => {
    const model = new AiSdkModel({ provider: 'openai', model: 'gpt-4o-mini', baseURL: server.baseURL, env: { OPENAI_API_KEY: KEY } });
    const reply = await model.call(request({ system: 'Be brief.' }));
    expect(reply).toMatchObject({ text: FAKE_TEXT, usage: { inputTokens: 30, outputTokens: 14 }, usageSource: 'provider', provider: 'openai', region: 'US' });
    const sent = server.requests.at(-1)!;
    expect(sent.path).toBe('/v1/responses');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', store: false });
  });

  it('talks to Anthropic\'s Messages API with the key, and reads its usage', async () => {
    const model = new AiSdkModel({ provider: 'anthropic', model: 'claude-sonnet-4-20250514', baseURL: server.baseURL, env: { ANTHROPIC_API_KEY: KEY } });
    const reply = await model.call(request({ system: 'Be brief.', maxOutputTokens: 100 }));
    expect(reply).toMatchObject({ text: FAKE_TEXT, usage: { inputTokens: 25, outputTokens: 15 }, usageSource: 'provider', provider: 'anthropic', model: 'claude-sonnet-4-20250514' });
    expect(reply.estimatedUsage.outputTokens).toBe(countTokens(FAKE_TEXT, 'cl100k_base'));
    const sent = server.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(KEY);
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-20250514', max_tokens: 100, system: [{ type: 'text', text: 'Be brief.' }] });
  });
});
