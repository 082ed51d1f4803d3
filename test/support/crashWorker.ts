// A process that test/runtime/crashRecovery.test.ts SIGKILLs at chosen points and runs again until it finishes.
// Usage: node crashWorker.ts <dbPath> <sessionId> <seed> <modelTimeoutMs> [freeze]
//   seed and modelTimeoutMs configure the session when this run starts it (a resumed session keeps its recorded config).
//   freeze: `<type>:<k>` blocks the process right after its k-th write holding an event of that type (`*:<k>`: its
//   k-th write of any kind): the write is durable, nothing it requested has been performed, and the test's SIGKILL
//   lands exactly there.
// Each run does what a restarted service would: resume unfinished sessions, then see the session's six queries
// through — starting the session, and asking only the queries the log does not hold yet.
// Stdout is JSON lines: {ready}, {write,streams,types} per write, {frozen}, {turn,status}, {done}.
import type { SessionContext } from '../../machines/sessionMachine.ts';
import type { EventToAppend } from '../../src/events/envelope.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { modelResolver } from '../../src/runtime/modelResolver.ts';
import { resumeUnfinishedSessions, untilSessionsIdle } from '../../src/runtime/resumeSessions.ts';
import { agentConfigFor, askInSession, startSession } from '../../src/runtime/sessionService.ts';
import { sessionStream } from '../../src/runtime/sessionStreams.ts';
import { StreamNotFoundError } from '../../src/store/errors.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

const QUERIES = [
  'Which flood defences should Mombasa build first?',
  // Triaged to a council: four roles in parallel and a synthesiser, so kills land inside a council turn too.
  'Design a flood early-warning system for coastal Mombasa: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the county.',
  'What does a 1.5 m sea-level rise change in that plan?',
  'Which households does the plan leave exposed?',
  'What should the first year of the plan cost?',
  'Summarise the plan for the county assembly.',
];

const [dbPath, sessionId, seedText, timeoutText, freeze] = process.argv.slice(2);
if (dbPath === undefined || sessionId === undefined || timeoutText === undefined) throw new Error('usage: crashWorker.ts <dbPath> <sessionId> <seed> <modelTimeoutMs> [<type>:<k>]');
const seed = Number(seedText);
const [freezeType, freezeCount] = freeze?.split(':') ?? [];

const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`); // synchronous on a pipe (Linux)

// Provider errors, a breaker that opens onto a fallback and half-opens after a short cool-down, and (with a timeout
// near the 30–50 ms latency) model timeouts that cancel calls: every effect kind occurs within one run. A timeout
// shorter than a restart also fires as soon as a resumed process re-arms it; a long one lets re-issued calls answer.
const settings = {
  model: `scripted:latency=40,seed=${seed},failRate=0.3,failKinds=server|timeout`,
  fallbackModel: `scripted:latency=25,seed=${seed + 1000},failRate=0.1,failKinds=server`,
  modelTimeoutMs: Number(timeoutText),
  maxAttempts: 3,
  breakerThreshold: 2,
  breakerCooldownMs: 120,
  // Backoffs between retries are recorded timers too, re-armed by whoever resumes: short, as the cool-down is.
  retryBackoffMs: 30,
  // Small enough that the express agent's window fills over the six turns: hand-offs happen, and get killed too.
  contextWindow: 1_800,
};

let writes = 0;
let matching = 0;
function afterWrite(parts: readonly { streamId: string; events: readonly EventToAppend[] }[]): void {
  const types = parts.flatMap((p) => p.events.map((e) => e.type));
  if (types.length === 0) return; // nothing written (every delivery was a re-delivery): not a point of its own
  const line = { write: ++writes, streams: parts.map((p) => p.streamId), types };
  say(line);
  if (freezeType === undefined || (freezeType !== '*' && !types.includes(freezeType)) || ++matching !== Number(freezeCount)) return;
  say({ ...line, frozen: writes });
  // Blocks the event loop, so nothing more happens in this process until the test's SIGKILL arrives.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

// The real store, with a hook after each write has committed. A proxy rather than a subclass, so a write method
// that delegates to another (appendToStream to appendToStreams) is seen once, as the runtime called it.
const sqlite = new SqliteEventStore(dbPath);
const store = new Proxy(sqlite, {
  get(target, property) {
    const value: unknown = Reflect.get(target, property, target);
    if (typeof value !== 'function') return value;
    if (property === 'appendToStream') {
      return async (streamId: string, events: EventToAppend[], ...rest: unknown[]) => {
        const result: unknown = await value.call(target, streamId, events, ...rest);
        afterWrite([{ streamId, events }]);
        return result;
      };
    }
    if (property === 'appendToStreams') {
      return async (parts: { streamId: string; events: EventToAppend[] }[], ...rest: unknown[]) => {
        const result: unknown = await value.call(target, parts, ...rest);
        afterWrite(parts);
        return result;
      };
    }
    return value.bind(target);
  },
});
const models = modelResolver(systemClock);
const runtime = new ActorRuntime({ store, models });

say({ ready: true });
const resumed = await resumeUnfinishedSessions(runtime);
await untilSessionsIdle(runtime, resumed);

const stream = sessionStream(sessionId);
const recorded = await collect(store.readStream(stream)).catch((error: unknown) => {
  if (error instanceof StreamNotFoundError) return [];
  throw error;
});
if (!recorded.some((e) => e.type === 'session.started')) await startSession(runtime, sessionId, agentConfigFor(settings, models));
// Queries are asked one after another, so every recorded query.received is one of QUERIES, in order.
const asked = recorded.filter((e) => e.type === 'query.received').length;
for (const text of QUERIES.slice(asked)) {
  const outcome = await askInSession(runtime, sessionId, { text, region: 'KE', purpose: 'climate_adaptation' });
  say({ turn: outcome.turn, status: outcome.status });
}
await runtime.settled();
const context = (await runtime.snapshotOf(stream)).context as SessionContext;
say({ done: true, resumed, outcomes: context.recentOutcomes.map((o) => `${o.turn}:${o.status}`) });
runtime.stop();
await store.close();
