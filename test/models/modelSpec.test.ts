import { describe, expect, it } from 'vitest';
import { ACCEPTED_MODEL_SPEC_FORMS, formatModelSpec, ModelSpecError, parseModelSpec, SCRIPTED_DEFAULTS } from '../../src/models/modelSpec.ts';

function specError(spec: string): ModelSpecError {
  try {
    parseModelSpec(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelSpecError);
    return error as ModelSpecError;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
}

describe('parseModelSpec: accepted forms', () => {
  it('reads bare `scripted` as the scripted defaults', () => {
    expect(parseModelSpec('scripted')).toEqual({ provider: 'scripted', ...SCRIPTED_DEFAULTS });
    expect(parseModelSpec('scripted:')).toEqual({ provider: 'scripted', ...SCRIPTED_DEFAULTS });
  });

  it('reads every scripted option', () => {
    expect(parseModelSpec('scripted:latency=250,failRate=0.2,seed=42,failKinds=rate-limit|auth,model=scripted-large')).toEqual({
      provider: 'scripted', latencyMs: 250, failRate: 0.2, seed: 42, failKinds: ['rate-limit', 'auth'], model: 'scripted-large',
    });
  });

  it('accepts options in any order, with spaces around them, and a profile alias as model', () => {
    expect(parseModelSpec('  scripted: seed=-3 , failRate=1, model=llama3.1:8b ')).toMatchObject({ seed: -3, failRate: 1, model: 'llama-3.1-8b' });
  });

  it('reads openai and anthropic specs', () => {
    expect(parseModelSpec('openai:gpt-4o-mini')).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(parseModelSpec('anthropic:claude-sonnet-4-20250514')).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-20250514' });
  });

  it('reads openai-compatible specs, splitting at the last # so model tags may hold colons', () => {
    expect(parseModelSpec('openai-compatible:http://localhost:11434/v1#llama3.1:8b')).toEqual({ provider: 'openai-compatible', baseURL: 'http://localhost:11434/v1', model: 'llama3.1:8b' });
    expect(parseModelSpec('openai-compatible:https://vllm.internal:8000/v1/#meta-llama/Llama-3.1-70B-Instruct')).toEqual({
      provider: 'openai-compatible', baseURL: 'https://vllm.internal:8000/v1', model: 'meta-llama/Llama-3.1-70B-Instruct',
    });
  });

  it('formats every form canonically, and the canonical form parses back to the same spec', () => {
    for (const spec of ['scripted', 'scripted:seed=9,failKinds=server', 'openai:gpt-4o', 'anthropic:claude-sonnet-4', 'openai-compatible:http://127.0.0.1:1234/v1#qwen2.5']) {
      const parsed = parseModelSpec(spec);
      expect(parseModelSpec(formatModelSpec(parsed))).toEqual(parsed);
    }
    expect(formatModelSpec(parseModelSpec('scripted'))).toBe('scripted:latency=0,failRate=0,seed=0,failKinds=rate-limit|server|timeout,model=scripted-small');
  });
});

describe('parseModelSpec: malformed specs', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['gemini:pro', /unknown provider "gemini"/],
    ['gpt-4o', /unknown provider "gpt-4o"/],
    ['openai', /model name is missing/],
    ['openai:', /model name is missing/],
    ['anthropic:claude sonnet', /cannot contain spaces/],
    ['openai-compatible:http://localhost:11434/v1', /<baseURL>#<model>/],
    ['openai-compatible:http://localhost:11434/v1#', /model name is missing/],
    ['openai-compatible:localhost:11434#llama3', /http\(s\) URL/],
    ['openai-compatible:ftp://host/v1#llama3', /http\(s\) URL/],
    ['openai-compatible:http://user:secret@host/v1#llama3', /OPENAI_COMPATIBLE_API_KEY/],
    ['openai-compatible:http://localhost:11434/v1?api_key=secret#llama3', /cannot carry a query string .*OPENAI_COMPATIBLE_API_KEY/],
    ['scripted:latency=-5', /negative/],
    ['scripted:latency=99999999999', /at most 2147483647 ms/],
    ['scripted:latency=fast', /latency must be a number/],
    ['scripted:failRate=1.5', /failRate must be from 0 to 1/],
    ['scripted:failRate=lots', /failRate must be a number/],
    ['scripted:seed=1.5', /seed must be an integer/],
    ['scripted:failKinds=server|meltdown', /failKinds must be kinds joined by "\|"/],
    ['scripted:failKinds=aborted', /failKinds must be kinds/],
    ['scripted:model=gpt-5-turbo-max', /not a profile; known profiles: scripted-small/],
    ['scripted:temperature=0.7', /unknown scripted option temperature; options are latency, failRate, seed, failKinds, model/],
    ['scripted:seed=1,seed=2', /given twice/],
    ['scripted:seed', /key=value pairs/],
    ['scripted:seed=1,,failRate=0', /key=value pairs/],
  ];

  it.each(cases)('rejects %j, naming the problem', (spec, problem) => {
    expect(specError(spec).problem).toMatch(problem);
  });

  it('lists every accepted form in the message', () => {
    const { message } = specError('gemini:pro');
    expect(message).toContain('Invalid model spec "gemini:pro": unknown provider "gemini".');
    for (const form of ACCEPTED_MODEL_SPEC_FORMS) expect(message).toContain(form);
    for (const start of ['scripted[:latency=<ms>', 'openai:<model>', 'anthropic:<model>', 'openai-compatible:<baseURL>#<model>']) expect(message).toContain(start);
  });
});
