import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/createModel.ts';
import { ModelCallError } from '../../src/models/modelCallError.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { countTokens } from '../../src/models/tokenCount.ts';
import { SimulatedClock } from './simulatedWait.ts';

const PROMPT = 'You are the analyst. Answer for a climate-adaptation planner: how should Mombasa prioritise flood defences against heat adaptation this decade?';
let ids = 0;
const request = (prompt: string, extra: Record<string, unknown> = {}) => ({ requestId: `req-${++ids}`, prompt, ...extra });

async function outcome(promise: Promise<unknown>): Promise<ModelCallError | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ModelCallError);
    return error as ModelCallError;
  }
}

describe('scripted model: determinism', () => {
  it('gives the same text and usage for the same seed and prompt, whatever the request id or model instance', async () => {
    const a = await createModel('scripted:seed=7').call(request(PROMPT));
    const b = await createModel('scripted:seed=7').call(request(PROMPT));
    expect(b.text).toBe(a.text);
    expect(b.usage).toEqual(a.usage);
    expect(a).toMatchObject({ model: 'scripted-small', provider: 'scripted', region: 'local', usageSource: 'tiktoken', latencyMs: 0 });
  });

  it('gives different text for a different seed or a different prompt', async () => {
    const base = await createModel('scripted:seed=7').call(request(PROMPT));
    expect((await createModel('scripted:seed=8').call(request(PROMPT))).text).not.toBe(base.text);
    expect((await createModel('scripted:seed=7').call(request(`${PROMPT} Consider groundwater too.`))).text).not.toBe(base.text);
  });

  it('counts usage with tiktoken in the profile\'s encoding, system and prompt as separate messages', async () => {
    const system = 'You are a careful climate-adaptation analyst.';
    for (const model of ['scripted-small', 'llama-3.1-8b']) {
      const m = createModel(`scripted:model=${model}`);
      const encoding = m.profile!.encoding;
      const reply = await m.call(request(PROMPT, { system }));
      const expected = { inputTokens: countTokens(system, encoding) + countTokens(PROMPT, encoding), outputTokens: countTokens(reply.text, encoding) };
      expect(reply.usage).toEqual(expected);
      expect(reply.estimatedUsage).toEqual(expected);
      expect(m.estimateTokens(reply.text)).toBe(expected.outputTokens);
    }
  });

  it('writes replies of 40 to 400 tokens that grow with the prompt and with the model size', async () => {
    const small = createModel('scripted:seed=1');
    const large = createModel('scripted:seed=1,model=scripted-large');
    const lengths = { short: [] as number[], long: [] as number[], large: [] as number[] };
    for (let i = 0; i < 60; i++) {
      const short = `Question ${i}: which ward floods first?`;
      const long = `${PROMPT} ${'Context: rainfall records, tide gauges and census tables for each ward. '.repeat(20)} (${i})`;
      lengths.short.push((await small.call(request(short))).usage.outputTokens);
      lengths.long.push((await small.call(request(long))).usage.outputTokens);
      lengths.large.push((await large.call(request(long))).usage.outputTokens);
    }
    const all = Object.values(lengths).flat();
    expect(Math.min(...all)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...all)).toBeLessThanOrEqual(400);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(lengths.long)).toBeGreaterThan(mean(lengths.short) + 40);
    expect(mean(lengths.large)).toBeGreaterThan(mean(lengths.long) + 40);
  });

  it('reads as prose about the prompt\'s subject', async () => {
    const { text } = await createModel('scripted:seed=3').call(request('Which flood defences should Mombasa build first?'));
    expect(text).toMatch(/defences|Mombasa/);
    expect(text).toMatch(/^[A-Z].*\.$/s);
    // Words of any script are echoed whole, not cut at their first non-ASCII letter.
    const { text: german } = await createModel('scripted:seed=3').call(request('Wie schützen wir Dhaka vor Überschwemmungen?'));
    expect(german).toContain('Überschwemmungen');
    expect(german).not.toMatch(/(^|[^Ü])berschwemmungen/);
  });

  it('stops at maxOutputTokens as a real model would, and says so', async () => {
    const m = createModel('scripted:seed=2');
    const full = await m.call(request(PROMPT));
    const cut = await m.call(request(PROMPT, { maxOutputTokens: 12 }));
    expect(cut.usage.outputTokens).toBeLessThanOrEqual(12);
    expect(full.text.startsWith(cut.text)).toBe(true);
    expect(cut.truncated).toBe(true);
    const roomy = await m.call(request(PROMPT, { maxOutputTokens: full.usage.outputTokens }));
    expect(roomy).toMatchObject({ text: full.text });
    expect(roomy).not.toHaveProperty('truncated');
  });
});

describe('scripted model: failures', () => {
  it('fails at about failRate over 1000 prompts, spread over failKinds, with the right retryable flags', async () => {
    const m = createModel('scripted:seed=11,failRate=0.2,failKinds=rate-limit|server|auth|refused');
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const result = await outcome(m.call(request(`prompt number ${i}`, { attempt: 1 })));
      const key = result === 'ok' ? 'ok' : result.kind;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (result !== 'ok') expect(result.retryable).toBe(result.kind === 'rate-limit' || result.kind === 'server');
    }
    const failures = 1000 - (counts.get('ok') ?? 0);
    // Binomial(1000, 0.2): sd ≈ 12.6, so ±45 is beyond 3.5 sd.
    expect(failures).toBeGreaterThan(155);
    expect(failures).toBeLessThan(245);
    for (const kind of ['rate-limit', 'server', 'auth', 'refused']) {
      expect(counts.get(kind) ?? 0).toBeGreaterThan(failures / 4 - 25);
      expect(counts.get(kind) ?? 0).toBeLessThan(failures / 4 + 25);
    }
  });

  it('draws the same failures on every run, and a retry (next attempt) draws afresh', async () => {
    const kinds = async (attempt: number) => {
      const m = createModel('scripted:seed=5,failRate=0.5');
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await outcome(m.call(request(`p${i}`, { attempt })));
        out.push(r === 'ok' ? 'ok' : r.kind);
      }
      return out;
    };
    expect(await kinds(1)).toEqual(await kinds(1));
    expect(await kinds(2)).not.toEqual(await kinds(1));
  });

  it('counts attempts per prompt itself when the runtime does not say', async () => {
    const explicit = createModel('scripted:seed=5,failRate=0.5');
    const counted = createModel('scripted:seed=5,failRate=0.5');
    for (let attempt = 1; attempt <= 6; attempt++) {
      const a = await outcome(explicit.call(request('the same prompt', { attempt })));
      const b = await outcome(counted.call(request('the same prompt')));
      expect(b === 'ok' ? 'ok' : b.reason).toBe(a === 'ok' ? 'ok' : a.reason);
    }
  });

  it('maps every failure kind to its retryable flag', async () => {
    const expected = { timeout: true, 'rate-limit': true, server: true, network: true, malformed: false, auth: false, refused: false };
    for (const [kind, retryable] of Object.entries(expected)) {
      const error = await outcome(createModel(`scripted:failRate=1,failKinds=${kind}`).call(request(PROMPT)));
      expect(error).not.toBe('ok');
      expect(error).toMatchObject({ kind, retryable });
      expect((error as ModelCallError).reason).toMatch(new RegExp(`^${kind}: `));
    }
  });
});

describe('scripted model: latency and abort', () => {
  it('waits its latency through the injected wait and reports it', async () => {
    const clock = new SimulatedClock();
    const m = createModel('scripted:latency=1000,seed=4', { wait: clock.wait });
    let settled = false;
    const pending = m.call(request(PROMPT)).then((r) => { settled = true; return r; });
    await clock.untilWaiting();
    const asked = clock.requested[0]!;
    expect(asked).toBeGreaterThanOrEqual(750);
    expect(asked).toBeLessThanOrEqual(1250);
    await clock.advance(asked - 1);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect((await pending).latencyMs).toBe(asked);
  });

  it('draws the same latency for the same prompt and attempt', async () => {
    const latencies = async () => {
      const clock = new SimulatedClock();
      const m = createModel('scripted:latency=400,seed=4', { wait: clock.wait });
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const pending = m.call(request(`p${i}`, { attempt: 1 }));
        await clock.untilWaiting();
        await clock.advance(1000);
        out.push((await pending).latencyMs);
      }
      return out;
    };
    const first = await latencies();
    expect(await latencies()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it('rejects with kind aborted when the caller aborts mid-wait', async () => {
    const clock = new SimulatedClock();
    const m = createModel('scripted:latency=1000', { wait: clock.wait });
    const controller = new AbortController();
    const pending = outcome(m.call(request(PROMPT, { abortSignal: controller.signal })));
    await clock.untilWaiting();
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'aborted', retryable: false });
    expect(clock.pending).toBe(0);
  });

  it('rejects with kind timeout when the caller aborts because its deadline passed', async () => {
    const m = createModel('scripted:latency=5000');
    expect(await outcome(m.call(request(PROMPT, { abortSignal: AbortSignal.timeout(20) })))).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const clock = new SimulatedClock();
    const m = createModel('scripted:latency=1000', { wait: clock.wait });
    expect(await outcome(m.call(request(PROMPT, { abortSignal: AbortSignal.abort() })))).toMatchObject({ kind: 'aborted' });
    expect(clock.requested).toEqual([]);
  });

  it('honours the signal even when the injected wait ignores it', async () => {
    const m = createScriptedModel({ latencyMs: 1000, wait: () => new Promise(() => undefined) });
    const controller = new AbortController();
    const pending = outcome(m.call(request(PROMPT, { abortSignal: controller.signal })));
    controller.abort(new Error('session cancelled'));
    expect(await pending).toMatchObject({ kind: 'aborted', reason: 'aborted: the caller aborted the call (session cancelled)' });
  });
});

describe('scripted model: request ids', () => {
  it('joins a second call with the same request id instead of calling again', async () => {
    const calls: string[] = [];
    const m = createScriptedModel({ replies: (r) => { calls.push(r.requestId); return `reply ${calls.length}`; } });
    const [a, b] = await Promise.all([m.call({ requestId: 'r1', prompt: 'x' }), m.call({ requestId: 'r1', prompt: 'x' })]);
    expect(a).toBe(b);
    expect((await m.call({ requestId: 'r1', prompt: 'x' })).text).toBe('reply 1');
    expect((await m.call({ requestId: 'r2', prompt: 'x' })).text).toBe('reply 2');
    expect(calls).toEqual(['r1', 'r2']);
  });

  it('lets a joined caller abort its own wait without cancelling the first caller', async () => {
    const clock = new SimulatedClock();
    const m = createScriptedModel({ latencyMs: 100, wait: clock.wait, replies: ['only once'] });
    const first = m.call({ requestId: 'r1', prompt: 'x' });
    await clock.untilWaiting();
    const second = outcome(m.call({ requestId: 'r1', prompt: 'x', abortSignal: AbortSignal.abort() }));
    expect(await second).toMatchObject({ kind: 'aborted' });
    await clock.advance(100);
    expect((await first).text).toBe('only once');
  });

  it('when the first caller aborts the call, a joined caller still waiting gets it made again and answered', async () => {
    const clock = new SimulatedClock();
    const m = createScriptedModel({ latencyMs: 100, wait: clock.wait, replies: ['never delivered', 'for the one still waiting'] });
    const giveUp = new AbortController();
    const first = outcome(m.call({ requestId: 'r1', prompt: 'x', abortSignal: giveUp.signal }));
    await clock.untilWaiting();
    const second = m.call({ requestId: 'r1', prompt: 'x' });
    giveUp.abort(new Error('the worker lost the session'));
    expect(await first).toMatchObject({ kind: 'aborted' });
    await clock.untilWaiting();
    await clock.advance(100);
    expect((await second).text).toBe('for the one still waiting');
  });

  it('does not remember failures, so a failed id can be tried again', async () => {
    const m = createScriptedModel({ replies: [new ModelCallError('server', 'HTTP 500'), 'second time lucky'] });
    expect(await outcome(m.call({ requestId: 'r1', prompt: 'x' }))).toMatchObject({ kind: 'server' });
    expect((await m.call({ requestId: 'r1', prompt: 'x' })).text).toBe('second time lucky');
  });
});

describe('scripted model: fully scripted mode', () => {
  it('plays a list of replies and failures in order, then says it ran out', async () => {
    const m = createScriptedModel({
      replies: ['first answer', new ModelCallError('rate-limit', 'slow down'), { text: 'third', usage: { inputTokens: 100, outputTokens: 5 }, latencyMs: 42 }],
    });
    expect(await m.call(request('a'))).toMatchObject({ text: 'first answer', usageSource: 'tiktoken', usage: { outputTokens: countTokens('first answer') } });
    expect(await outcome(m.call(request('b')))).toMatchObject({ kind: 'rate-limit', retryable: true, reason: 'rate-limit: slow down' });
    const third = await m.call(request('c'));
    expect(third).toMatchObject({ text: 'third', usageSource: 'provider', usage: { inputTokens: 100, outputTokens: 5 }, latencyMs: 42 });
    expect(third.estimatedUsage).toEqual({ inputTokens: countTokens('c'), outputTokens: countTokens('third') });
    await expect(m.call(request('d'))).rejects.toThrow(/ran out of replies: 3 scripted, call 4/);
  });

  it('computes replies from the request and the attempt number', async () => {
    const m = createScriptedModel({
      replies: (r, attempt) => (attempt < 3 ? new ModelCallError('server', `attempt ${attempt}`) : `answered "${r.prompt}" on attempt ${attempt}`),
    });
    expect(await outcome(m.call(request('q')))).toMatchObject({ reason: 'server: attempt 1' });
    expect(await outcome(m.call(request('q')))).toMatchObject({ reason: 'server: attempt 2' });
    expect((await m.call(request('q'))).text).toBe('answered "q" on attempt 3');
    expect(await outcome(m.call(request('q', { attempt: 1 })))).toMatchObject({ reason: 'server: attempt 1' });
  });
});
