import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentContext } from '../../machines/agentMachine.ts';
import type { TurnOutcome } from '../../machines/sessionMachine.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { ActorRuntime, type RuntimeOptions } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { replayStream } from '../../src/runtime/replay.ts';
import { agentConfigFor, askInSession, startSession, type SessionSettings } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { PROVIDER_TEXT, startFaultyProvider, type Fault, type FaultyProvider } from '../support/faultyProvider.ts';
import { logProblems } from '../support/logInvariants.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import { evolveClimate } from '../../projections/climate/evolveClimate.ts';
import { initialClimateState } from '../../projections/climate/climateState.ts';
import { defaultFactorSet } from '../../src/policy/climate/factorSets.ts';

/**
 * Real sessions on the real clock and the SQLite store, with a real OpenAI-compatible provider on loopback (through
 * the AI SDK) as the primary model that fails on cue, and the scripted model as the fallback. Everything asserted
 * is read back from the recorded log.
 */

// Shaped like a real key, so the redaction of key shapes and of the exact key are both exercised.
const KEY = 'sk-fault-0123456789abcdefSECRET';
const FALLBACK = 'scripted:latency=5';
/** Loose upper bound for one turn, however the provider misbehaves: a hang shows up as this failing, not as a stuck run. */
const TURN_BOUND_MS = 8_000;

const dir = mkdtempSync(join(tmpdir(), 'chronicle-provider-faults-'));
// The key reaches the provider the way it does in production: from the environment, read at call time.
beforeAll(() => { vi.stubEnv('OPENAI_COMPATIBLE_API_KEY', KEY); });
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** Rejects when `promise` has not settled after `ms`, naming what hung. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

interface Call {
  model: string;
  attempt: number;
  /** The breaker's state when the call was requested, replayed from the log. */
  breaker: string;
  outcome: string;
  kind?: string;
  retryable?: boolean;
  reason?: string;
  provider?: string;
}

/** Sessions (one unless told) whose primary model is the faulty provider, on their own SQLite file. */
class FaultyRun {
  readonly name: string;
  readonly provider: FaultyProvider;
  readonly path: string;
  readonly primary: string;
  readonly store: SqliteEventStore;
  readonly runtime: ActorRuntime;
  /** Turns asked so far, by session. */
  readonly turns = new Map<string, number>();
  /** The agent that answered the named session's latest turn. */
  agentStream = '';

  constructor(name: string, provider: FaultyProvider, runtimeOptions: Partial<RuntimeOptions> = {}) {
    this.name = name;
    this.provider = provider;
    this.path = join(dir, `${name}.db`);
    this.primary = `openai-compatible:${provider.baseURL}#flood-planner`;
    this.store = new SqliteEventStore(this.path);
    // The resolver the CLI uses: the primary is a real AI SDK model, reading its key from the environment.
    this.runtime = new ActorRuntime({ store: this.store, models: modelResolver(systemClock), checkpointEveryTokens: 0, ...runtimeOptions });
  }

  async start(settings: Omit<SessionSettings, 'model' | 'fallbackModel'>, sessionId = this.name): Promise<void> {
    await startSession(this.runtime, sessionId, agentConfigFor({ model: this.primary, fallbackModel: FALLBACK, ...settings }, modelResolver(systemClock)));
    this.turns.set(sessionId, 0);
  }

  async ask(sessionId = this.name): Promise<TurnOutcome & { elapsedMs: number }> {
    const started = performance.now();
    const turn = this.turns.get(sessionId)!;
    this.turns.set(sessionId, turn + 1);
    const query = { text: `Turn ${turn}: which clinics lose power first in a flood?`, region: 'BD', purpose: 'disaster_response' };
    const outcome = await within(TURN_BOUND_MS, `turn ${turn} of ${sessionId}`, askInSession(this.runtime, sessionId, query));
    if (sessionId === this.name) this.agentStream = outcome.agentStream;
    return { ...outcome, elapsedMs: performance.now() - started };
  }

  async breaker(): Promise<AgentContext['breaker']> {
    return ((await this.runtime.snapshotOf(this.agentStream)).context as AgentContext).breaker;
  }

  /** Waits (on the real clock) for the breaker's cool-down to fire: the next call is the half-open probe. */
  async halfOpen(): Promise<void> {
    await within(3_000, 'the breaker cool-down', this.runtime.waitFor(this.agentStream, (s) => (s.context as AgentContext).breaker.state === 'halfOpen'));
  }

  async log(): Promise<RecordedEvent[]> {
    return collect(this.store.readAll());
  }

  /** Every model call of the agent, in order, with the breaker's state then and the outcome the log records for it. */
  async calls(): Promise<Call[]> {
    const agent = (await this.log()).filter((e) => e.streamId === this.agentStream);
    return agent.flatMap((request, index) => {
      if (request.type !== 'model.requested') return [];
      const { requestId, model, attempt } = request.data as { requestId: string; model: string; attempt: number };
      const breaker = (replayStream(this.agentStream, agent.slice(0, index + 1)).context as AgentContext).breaker.state;
      const outcome = agent.find((e) => (e.type === 'model.responded' || e.type === 'model.failed') && (e.data as { requestId: string }).requestId === requestId);
      const data = (outcome?.data ?? {}) as Record<string, unknown>;
      return [{ model: model === this.primary ? 'primary' : model === FALLBACK ? 'fallback' : model, attempt, breaker, outcome: outcome?.type ?? 'none', ...pick(data) }];
    });
  }

  /**
   * What every run must leave behind: each turn ended once, every request has exactly one outcome, the ledger
   * balances, chains verify; the provider holds no request open; and the key it was sent is nowhere in the store.
   */
  async finish(): Promise<void> {
    await within(5_000, 'the runtime settling', this.runtime.settled());
    const log = await this.log();
    for (const [sessionId, turns] of this.turns) expect(logProblems(log.filter((e) => e.metadata.sessionId === sessionId), sessionId, turns)).toEqual([]);
    await within(2_000, 'the provider closing its requests', (async () => { while (this.provider.openRequests() > 0) await new Promise((r) => setTimeout(r, 10)); })());
    expect(this.provider.requests.length).toBeGreaterThan(0);
    for (const request of this.provider.requests) expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    const leaks = log.filter((e) => JSON.stringify([e.data, e.metadata]).includes(KEY)).map((e) => `${e.streamId}@${e.revision} ${e.type}`);
    expect(leaks).toEqual([]);
    this.runtime.stop();
    await this.store.close();
    for (const file of [this.path, `${this.path}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(KEY)).toBe(false);
    }
  }
}

function pick(data: Record<string, unknown>): Partial<Call> {
  const out: Partial<Call> = {};
  for (const key of ['kind', 'retryable', 'reason', 'provider'] as const) if (data[key] !== undefined) (out as Record<string, unknown>)[key] = data[key];
  return out;
}

async function run(name: string, faults: Fault[], body: (run: FaultyRun) => Promise<void>, runtimeOptions: Partial<RuntimeOptions> = {}): Promise<void> {
  const provider = await startFaultyProvider();
  provider.script(...faults);
  const faulty = new FaultyRun(name, provider, runtimeOptions);
  try {
    await body(faulty);
    await faulty.finish();
  } finally {
    faulty.runtime.stop();
    await faulty.store.close();
    await provider.close();
  }
}

const BREAKER = { maxAttempts: 3, breakerThreshold: 2, breakerCooldownMs: 600 } as const;

describe('provider faults: each is recorded, retried as configured, trips the breaker to the fallback, and nothing hangs', () => {
  it.each<[string, Fault, string, RegExp]>([
    ['HTTP 500', { type: 'status', status: 500, echoKey: true }, 'server', /^server: HTTP 500 from openai-compatible:flood-planner at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: The server had an error/],
    ['HTTP 502', { type: 'status', status: 502, echoKey: true }, 'server', /^server: HTTP 502 .*: Bad gateway: \[redacted\]\.$/],
    ['HTTP 503 with retry-after', { type: 'status', status: 503, headers: { 'retry-after': '2' }, echoKey: true }, 'server', /^server: HTTP 503 .* \(retry after 2 s\): The engine is currently overloaded/],
    ['HTTP 429', { type: 'status', status: 429, echoKey: true }, 'rate-limit', /^rate-limit: HTTP 429 .*\/chat\/completions: Rate limit reached/],
    ['HTTP 429 with retry-after-ms', { type: 'status', status: 429, headers: { 'retry-after-ms': '1500' }, echoKey: true }, 'rate-limit', /^rate-limit: HTTP 429 .* \(retry after 1500 ms\): Rate limit reached/],
    ['a body cut off and the connection dropped', { type: 'cut-off' }, 'network', /^network: the connection to openai-compatible:flood-planner .* dropped mid-answer \(HTTP 200\)/],
    ['a connection reset', { type: 'reset' }, 'network', /^network: openai-compatible:flood-planner could not be reached .*ECONNRESET/],
  ])('%s: retryable, retried, breaker opens, fallback answers; the half-open probe closes it once the provider recovers', async (name, fault, kind, reason) => {
    await run(`transient-${name.replace(/\W+/g, '-')}`, [fault, fault], async (faulty) => {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 5_000 });

      const first = await faulty.ask();
      expect(first).toMatchObject({ status: 'answered', model: expect.stringMatching(/^scripted/) });

      await faulty.halfOpen();
      const second = await faulty.ask();
      expect(second).toMatchObject({ status: 'answered', text: PROVIDER_TEXT, model: 'flood-planner' });
      expect(await faulty.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 1 });

      const calls = await faulty.calls();
      expect(calls.map((c) => [c.model, c.attempt, c.breaker, c.outcome, c.kind ?? c.provider])).toEqual([
        ['primary', 1, 'closed', 'model.failed', kind],
        ['primary', 2, 'closed', 'model.failed', kind],
        ['fallback', 3, 'open', 'model.responded', 'scripted'],
        ['primary', 1, 'halfOpen', 'model.responded', 'openai-compatible'],
      ]);
      for (const failed of calls.slice(0, 2)) {
        expect(failed.retryable).toBe(true);
        expect(failed.reason).toMatch(reason);
      }
      expect(faulty.provider.requests).toHaveLength(3);
    });
  });

  it.each<[string, Fault]>([
    ['a provider that never answers', { type: 'hang' }],
    ['a stream that sends headers, then a byte every 100 ms', { type: 'dribble', byteEveryMs: 100 }],
  ])('%s: the model timeout fires, the call is aborted at the provider, retried, and the fallback answers', async (name, fault) => {
    await run(`timeout-${fault.type}`, [fault, fault], async (faulty) => {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 800 });

      const first = await faulty.ask();
      expect(first).toMatchObject({ status: 'answered', model: expect.stringMatching(/^scripted/) });
      // Two timeouts of 800 ms and a quick fallback: well under the bound, whatever the provider does.
      expect(first.elapsedMs).toBeLessThan(5_000);
      // The provider saw both connections closed by the client: the abort reached the socket.
      await within(2_000, 'the provider seeing the aborts', (async () => { while (!faulty.provider.requests.every((r) => r.clientGaveUp)) await new Promise((r) => setTimeout(r, 10)); })());

      await faulty.halfOpen();
      expect(await faulty.ask()).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      expect(await faulty.breaker()).toMatchObject({ state: 'closed', trips: 1 });

      await within(5_000, 'the runtime settling', faulty.runtime.settled());
      const agent = (await faulty.log()).filter((e) => e.streamId === faulty.agentStream);
      const timeouts = agent.filter((e) => e.type === 'timer.fired' && (e.data as { key: string }).key === 'modelTimeout');
      const cancels = agent.filter((e) => e.type === 'model.cancelled');
      expect(timeouts).toHaveLength(2);
      // Each timeout abandons exactly the call it timed, recorded as caused by the timer's firing.
      expect(cancels.map((e) => e.metadata.causationId)).toEqual(timeouts.map((e) => e.eventId));
      const calls = await faulty.calls();
      expect(calls.map((c) => [c.model, c.breaker, c.outcome, c.kind ?? c.provider])).toEqual([
        // The abandoned call's outcome says it timed out: the agent's timer (recorded above) fired first.
        ['primary', 'closed', 'model.failed', 'timeout'],
        ['primary', 'closed', 'model.failed', 'timeout'],
        ['fallback', 'open', 'model.responded', 'scripted'],
        ['primary', 'halfOpen', 'model.responded', 'openai-compatible'],
      ]);
      expect(calls[0]!.reason).toMatch(/model timeout fired/);
    });
  });

  it('a provider slower than the runtime\'s own deadline: recorded as a retryable timeout, and the retry answers', async () => {
    await run('provider-deadline', [{ type: 'hang' }], async (faulty) => {
      await faulty.start({ maxAttempts: 2, breakerThreshold: 5, breakerCooldownMs: 60_000, modelTimeoutMs: 10_000 });
      const outcome = await faulty.ask();
      expect(outcome).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      expect(outcome.elapsedMs).toBeLessThan(4_000);
      const calls = await faulty.calls();
      expect(calls.map((c) => [c.model, c.attempt, c.outcome, c.kind ?? c.provider])).toEqual([
        ['primary', 1, 'model.failed', 'timeout'],
        ['primary', 2, 'model.responded', 'openai-compatible'],
      ]);
      expect(calls[0]).toMatchObject({ retryable: true, reason: expect.stringMatching(/^timeout: /) });
      expect(faulty.provider.requests[0]!.clientGaveUp).toBe(true);
    }, { providerDeadlineMs: 1_000 });
  });

  it('records an answer the provider stopped at its output limit as cut short, and sends no output limit of its own', async () => {
    await run('output-limit', [{ type: 'cut-at-limit' }], async (faulty) => {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 5_000 });
      expect(await faulty.ask()).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      expect(await faulty.ask()).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      // Reasoning models spend hidden reasoning from the limit: the ledger's output reserve is not one.
      expect(faulty.provider.requests.map((r) => r.body.max_tokens)).toEqual([undefined, undefined]);
      const responded = (await faulty.log()).filter((e) => e.type === 'model.responded').map((e) => e.data as { truncated?: boolean });
      expect(responded.map((d) => d.truncated ?? false)).toEqual([true, false]);
    });
  });

  it('a call billed without an answer (a reasoning model that spent its limit reasoning) is settled at what it billed and counted in the climate report; the fallback answers', async () => {
    await run('billed-empty', [{ type: 'reasoning-only' }], async (faulty) => {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 5_000 });
      expect(await faulty.ask()).toMatchObject({ status: 'answered' });
      const log = await faulty.log();
      const failed = log.find((e) => e.type === 'model.failed')!;
      expect(failed.data).toMatchObject({ kind: 'malformed', billed: { usage: { inputTokens: 40, outputTokens: 512 }, model: 'flood-planner', provider: 'openai-compatible' } });
      expect((failed.data as { reason: string }).reason).toMatch(/returned no text \(finish reason length: the output limit was used up before any text\)/);
      const requestId = (failed.data as { requestId: string }).requestId;
      const ledger = log.filter((e) => e.streamId.startsWith('ledger-'));
      expect(ledger.find((e) => e.type === 'tokens.settled' && (e.data as { requestId: string }).requestId === requestId)!.data).toMatchObject({ usage: { inputTokens: 40, outputTokens: 512 } });
      expect(ledger.some((e) => e.type === 'tokens.released' && (e.data as { requestId: string }).requestId === requestId)).toBe(false);
      const climateUpTo = (events: RecordedEvent[]) => events.reduce((state, event) => evolveClimate(state, event, defaultFactorSet), initialClimateState(defaultFactorSet));
      // The climate state keeps the latest call in full: as of the failure, that is the billed one.
      const billed = climateUpTo(log.filter((e) => e.position <= failed.position)).recentCalls.at(-1)!;
      expect(billed.requestId).toBe(requestId);
      const climate = climateUpTo(log);
      // The agent counts the billed tokens too, as the ledger does: its totals and the ledger's agree.
      const agentTotals = (replayStream(failed.streamId, log.filter((e) => e.streamId === failed.streamId)).context as AgentContext).totals;
      const settledOutput = ledger.filter((e) => e.type === 'tokens.settled' && (e.data as { agentStream: string }).agentStream === failed.streamId).reduce((n, e) => n + (e.data as { usage: { outputTokens: number } }).usage.outputTokens, 0);
      expect(agentTotals.outputTokens).toBe(settledOutput);
      expect(agentTotals.outputTokens).toBeGreaterThanOrEqual(512);
      // Every check passes, the causality audit's billed-not-settled among them.
      expect((await auditSession(faulty.store, 'billed-empty')).ok).toBe(true);
      expect(billed.inputs).toMatchObject({ model: 'flood-planner', inputTokens: 40, outputTokens: 512 });
      expect(billed.outputs.energyWh.central).toBeGreaterThan(0);
      expect(climate.totals.all.calls).toBe(2);
    });
  });

  it('a triage model that never answers is given up after the session\'s model timeout, and the rules triage the turn', async () => {
    const provider = await startFaultyProvider();
    provider.script({ type: 'hang' });
    const faulty = new FaultyRun('triage-timeout', provider, { triageModel: `openai-compatible:${provider.baseURL}#triage` });
    try {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 800 });
      const outcome = await faulty.ask();
      expect(outcome).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      expect(outcome.elapsedMs).toBeLessThan(4_000);
      const session = (await faulty.log()).filter((e) => e.streamId === 'session-triage-timeout');
      const failed = session.find((e) => e.type === 'model.failed')!.data as { kind: string };
      expect(failed.kind).toBe('timeout');
      const decided = session.find((e) => e.type === 'triage.decided')!.data as { decidedBy: { by: string; fallback?: string } };
      expect(decided.decidedBy).toMatchObject({ fallback: expect.stringMatching(/timeout/) });
      expect(provider.requests[0]!.clientGaveUp).toBe(true);
      await faulty.finish();
    } finally {
      faulty.runtime.stop();
      await faulty.store.close();
      await provider.close();
    }
  });

  it('retries as configured: a 503, a 429 (whose retry-after is waited out) and a dropped connection in a row, then the provider answers on the fourth attempt', async () => {
    // An HTTP date two seconds ahead (one-second resolution): between one and two seconds to wait.
    const retryAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2_000).toUTCString();
    const faults: Fault[] = [{ type: 'status', status: 503 }, { type: 'status', status: 429, headers: { 'retry-after': retryAt } }, { type: 'cut-off' }];
    await run('retries', faults, async (faulty) => {
      await faulty.start({ maxAttempts: 4, breakerThreshold: 5, breakerCooldownMs: 60_000, modelTimeoutMs: 5_000, retryBackoffMs: 100 });
      expect(await faulty.ask()).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      const calls = await faulty.calls();
      expect(calls.map((c) => [c.model, c.attempt, c.kind ?? c.provider, c.retryable])).toEqual([
        ['primary', 1, 'server', true],
        ['primary', 2, 'rate-limit', true],
        ['primary', 3, 'network', true],
        ['primary', 4, 'openai-compatible', undefined],
      ]);
      // The provider's retry-after, given as a date here, is kept in the record of the failure, as text and in ms,
      // and the agent waited it out on a recorded timer before its third attempt.
      expect(calls[1]!.reason).toContain(`(retry after ${retryAt})`);
      const log = await faulty.log();
      const limited = log.find((e) => e.type === 'model.failed' && (e.data as { kind: string }).kind === 'rate-limit')!;
      const waitMs = (limited.data as { retryAfterMs: number }).retryAfterMs;
      expect(waitMs).toBeGreaterThan(500);
      expect(waitMs).toBeLessThanOrEqual(3_000);
      // Every wait is a recorded timer: the agent's own backoff after the 503 (half to all of 100 ms), the provider's
      // retry-after, then the backoff after the dropped connection, doubled twice since the first (200 to 400 ms).
      const waits = log.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'retryBackoff').map((e) => (e.data as { delayMs: number }).delayMs);
      expect(waits).toHaveLength(3);
      expect(waits[0]).toBeGreaterThanOrEqual(50);
      expect(waits[0]).toBeLessThanOrEqual(100);
      expect(waits[1]).toBe(waitMs);
      expect(waits[2]).toBeGreaterThanOrEqual(200);
      expect(waits[2]).toBeLessThanOrEqual(400);
      const requests = log.filter((e) => e.type === 'model.requested');
      const failures = log.filter((e) => e.type === 'model.failed');
      for (const [i, wait] of waits.entries()) expect(Date.parse(requests[i + 1]!.metadata.recordedAt) - Date.parse(failures[i]!.metadata.recordedAt)).toBeGreaterThanOrEqual(wait);
      expect(await faulty.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 0 });
      // Each attempt is its own recorded request, sent with its own idempotency key.
      const requestIds = (await faulty.log()).filter((e) => e.type === 'model.requested').map((e) => (e.data as { requestId: string }).requestId);
      expect(faulty.provider.requests.map((r) => r.headers['idempotency-key'])).toEqual(requestIds);
    });
  });

  it.each<[string, Fault, RegExp]>([
    ['invalid JSON', { type: 'invalid-json' }, /the body is not valid JSON \(Unexpected end of JSON input\)/],
    ['JSON of the wrong shape', { type: 'wrong-shape' }, /the body is JSON but not a chat completion \(choices: /],
    ['a completion with no choices', { type: 'empty-choices' }, /did not contain any choices/],
  ])('%s: recorded as malformed, not retried on the primary (it would come back the same): the fallback answers that turn; repeated, it opens the breaker', async (name, fault, reason) => {
    await run(`malformed-${fault.type}`, [fault, fault], async (faulty) => {
      // A cool-down long enough that the third turn surely comes while the breaker is still open.
      await faulty.start({ ...BREAKER, breakerCooldownMs: 1_000, modelTimeoutMs: 5_000 });
      const outcomes = [await faulty.ask(), await faulty.ask(), await faulty.ask()];
      expect(outcomes.map((o) => o.status)).toEqual(['answered', 'answered', 'answered']);
      expect(outcomes.map((o) => o.model)).toEqual([expect.stringMatching(/^scripted/), expect.stringMatching(/^scripted/), expect.stringMatching(/^scripted/)]);

      await faulty.halfOpen();
      expect(await faulty.ask()).toMatchObject({ status: 'answered', text: PROVIDER_TEXT });
      expect(await faulty.breaker()).toMatchObject({ state: 'closed', trips: 1 });

      const calls = await faulty.calls();
      expect(calls.map((c) => [c.model, c.attempt, c.breaker, c.kind ?? c.provider, c.retryable])).toEqual([
        ['primary', 1, 'closed', 'malformed', false],
        ['fallback', 2, 'closed', 'scripted', undefined],
        ['primary', 1, 'closed', 'malformed', false],
        ['fallback', 2, 'open', 'scripted', undefined],
        ['fallback', 1, 'open', 'scripted', undefined],
        ['primary', 1, 'halfOpen', 'openai-compatible', undefined],
      ]);
      expect(calls[0]!.reason).toMatch(/^malformed: /);
      expect(calls[0]!.reason).toMatch(reason);
    });
  });

  it('six sessions at once against one provider failing in every way: every turn ends, every request has one outcome, nothing is left open', async () => {
    const storm: Fault[] = [
      { type: 'status', status: 500, echoKey: true }, { type: 'hang' }, { type: 'reset' }, { type: 'invalid-json' },
      { type: 'status', status: 429, headers: { 'retry-after': '30' } }, { type: 'cut-off' }, { type: 'dribble', byteEveryMs: 100 }, { type: 'status', status: 503 },
      { type: 'wrong-shape' }, { type: 'empty-choices' }, { type: 'hang' }, { type: 'status', status: 502 },
    ];
    const sessions = ['storm-a', 'storm-b', 'storm-c', 'storm-d', 'storm-e', 'storm-f'];
    await run('storm', storm, async (faulty) => {
      for (const id of sessions) await faulty.start({ ...BREAKER, modelTimeoutMs: 600 }, id);
      const started = performance.now();
      for (let round = 0; round < 2; round++) {
        const outcomes = await Promise.all(sessions.map((id) => faulty.ask(id)));
        // With a fallback configured every fault ends in an answer: retried, or handed to the fallback.
        expect(outcomes.filter((o) => o.status !== 'answered')).toEqual([]);
      }
      // Two rounds of six turns, with timeouts of 600 ms among them: the whole storm passes in seconds.
      expect(performance.now() - started).toBeLessThan(10_000);
      const failed = (await faulty.log()).filter((e) => e.type === 'model.failed').map((e) => (e.data as { kind: string }).kind);
      expect(new Set(failed)).toEqual(new Set(['server', 'rate-limit', 'network', 'malformed', 'timeout']));
      expect(faulty.provider.requests.filter((r) => r.fault.type === 'hang' || r.fault.type === 'dribble').every((r) => r.clientGaveUp)).toBe(true);
    });
  });

  it('a provider that echoes the key in its 401: recorded as auth, not retried on the primary, the fallback answers, and the key is nowhere in the store', async () => {
    await run('auth-echo', [{ type: 'status', status: 401, echoKey: true }], async (faulty) => {
      await faulty.start({ ...BREAKER, modelTimeoutMs: 5_000 });
      const outcome = await faulty.ask();
      expect(outcome).toMatchObject({ status: 'answered', model: expect.stringMatching(/^scripted/) });
      const [call, fallback] = await faulty.calls();
      expect(call).toMatchObject({ model: 'primary', outcome: 'model.failed', kind: 'auth', retryable: false, reason: expect.stringContaining('Incorrect API key provided: [redacted]') });
      expect(fallback).toMatchObject({ model: 'fallback', outcome: 'model.responded' });
      // finish() then checks every recorded byte of the SQLite file for the key.
    });
  });
});
