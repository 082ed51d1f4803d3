import { ledgerViolations } from '../projections/tokenLedger/ledgerInvariants.ts';
import { ledgerProjection } from '../projections/tokenLedger/ledgerProjection.ts';
import type { EventToAppend, RecordedEvent } from '../src/events/envelope.ts';
import type { SessionContext } from '../machines/sessionMachine.ts';
import { sessionProjections } from '../src/cli/sessionProjections.ts';
import { ActorRuntime } from '../src/runtime/actorRuntime.ts';
import { CHECKPOINT_RETENTION, checkpointOfState, checkpointStream, newestCheckpointAt } from '../src/runtime/checkpoints.ts';
import { systemClock, type Clock } from '../src/runtime/clock.ts';
import { derivedId, timeOrderedIds } from '../src/runtime/ids.ts';
import { mulberry32 } from '../src/models/seededRandom.ts';
import { modelResolver } from '../src/runtime/modelResolver.ts';
import { agentConfigFor, askInSession, startSession, type Query } from '../src/runtime/sessionService.ts';
import { readSessionEvents, sessionStream } from '../src/runtime/sessionStreams.ts';
import { foldSession, sessionStateAt, type CheckpointData, type ExtraProjections, type SessionStateAt } from '../src/runtime/stateAt.ts';
import { collect, type AppendResult, type StreamAppend } from '../src/store/eventStore.ts';
import { SqliteEventStore } from '../src/store/sqliteEventStore.ts';
import { eventsPerSecond, scratchDir } from './fixtures.ts';
import { BENCH_MODEL } from './sessionFixtures.ts';

/** Fresh ids for the copies, made as the runtime makes them. */
const FILL_IDS = timeOrderedIds();

/** One row of the point-in-time table: `sessionStateAt` wall time per query, in ms. */
export interface PointInTimeLatency {
  name: string;
  queries: number;
  p50Ms: number;
  p95Ms: number;
  goalMs?: number;
}

/** One row of the projection-fold table: events folded per second, in memory. */
export interface FoldThroughput {
  name: string;
  events: number;
  perSec: number;
}

export interface PointInTimeReport {
  latency: PointInTimeLatency[];
  folds: FoldThroughput[];
  /** How the session was built and what its checkpoints look like; printed under the tables. */
  notes: string[];
}

/** ~100 000 events in one session: ~12 per turn with the express agent, so ~8 300 turns. */
const TARGET_EVENTS = 100_000;
const SESSION_ID = 'pit';
/** Large enough that ~8 300 turns (~1 400 tokens each) never run out; the default 20 000 would after ~14 turns. */
const BUDGET_TOKENS = 1e9;
/** Turns run through the real runtime first; from turn BLOCK_FROM on, every turn has the same shape. */
const TEMPLATE_TURNS = 24;
/** The agent keeps its last 3 turns (agentMachine HISTORY_TURNS) and the session context is bounded: turn 4 on is steady. */
const BLOCK_FROM = 4;
/** ActorRuntime's default `checkpointEveryTokens`. */
const CHECKPOINT_EVERY_TOKENS = 1_500;
const GOAL_MS = 3;
/**
 * Query counts, each at least `min` and at most `max`, and no more once `budgetMs` has passed: a query that must
 * fold from the start (no checkpoint kept before its point) takes seconds.
 */
const FROM_CHECKPOINT = { min: 50, max: 400, budgetMs: 10_000 };
const FULL_FOLD = { min: 3, max: 10, budgetMs: 15_000 };
/** Answers compared with a full fold (outside the timings), and lookups timed alone. */
const CHECKED_ANSWERS = 3;
const LOOKUPS = 100;
const FOLD_EDGE_EVENTS = 10_000;
const FOLD_ROUNDS = 3;
const SEED = 0x5eed;

/**
 * Point-in-time latency and projection fold throughput on one session of ~100 000 events in a SQLite file.
 *
 * The session is real but not run live end to end: at this length every live turn costs seconds to minutes (the
 * checkpoint it writes, the session context it folds; see the notes printed), so it is built in two parts.
 * (1) TEMPLATE_TURNS turns through `ActorRuntime` with a zero-latency scripted model, every append captured.
 * (2) The steady-state turns of that template (BLOCK_FROM on) appended again and again, transaction by transaction
 * in the same order, with fresh event ids (derived ids re-derived the way the runtime derives them), `turn` numbers
 * continued and times shifted: the events the runtime would have written, so the machines and the ledger fold them
 * as they fold live ones (checked below). After each transaction that crosses a 1 500-token boundary the runtime's
 * own `checkpoint` is called, as `checkpointIfDue` would, with the CLI's projections (tiered session state, climate
 * impact) and `checkpointRetention: 'all'`. What part (2) cannot redo is the prompt context the runtime attaches
 * to each task (the tiered session state as it stood): it is the template's, turn numbers moved.
 *
 * Queries are timed as `chronicle state --at` makes them: `sessionStateAt(store, id, { position }, projections)`,
 * every actor, the ledger, the tiered session state and climate impact. Then the checkpoint stream is cut to the
 * default retention (newest 5) and the same kind of query is timed again.
 */
export async function benchPointInTime(): Promise<PointInTimeReport> {
  const scratch = scratchDir();
  try {
    const store = new CapturingSqliteStore(scratch.file('point-in-time.db'));
    try {
      const built = await buildSession(store);
      const measured = await measure(store, built);
      return { latency: measured.latency, folds: measured.folds, notes: [...built.notes, ...measured.notes] };
    } finally {
      await store.close();
    }
  } finally {
    scratch.dispose();
  }
}

const t0 = performance.now();
/** Progress on stderr when BENCH_VERBOSE is set: the build and the full folds take long enough to wonder. */
function progress(what: string): void {
  if (process.env.BENCH_VERBOSE) process.stderr.write(`[point-in-time ${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);
}

/** Records every multi-stream append while `capturing`: the transactions the runtime wrote, in order. */
export class CapturingSqliteStore extends SqliteEventStore {
  capturing = false;
  captured: StreamAppend[][] = [];

  override appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.capturing) this.captured.push(appends.map((part) => ({ streamId: part.streamId, events: [...part.events] })));
    return super.appendToStreams(appends);
  }
}

interface BuiltSession {
  turns: number;
  notes: string[];
}

export async function buildSession(store: CapturingSqliteStore): Promise<BuiltSession> {
  // (1) The template: real turns through the runtime, no checkpoints (they would not survive retention anyway).
  let start = performance.now();
  const resolve = modelResolver(systemClock);
  const live = new ActorRuntime({ store, models: resolve, checkpointEveryTokens: 0 });
  let blockStart = 0;
  try {
    store.capturing = true;
    await startSession(live, SESSION_ID, agentConfigFor({ model: BENCH_MODEL }, resolve), BUDGET_TOKENS);
    for (let turn = 0; turn < TEMPLATE_TURNS; turn++) {
      if (turn === BLOCK_FROM) {
        await live.settled();
        blockStart = store.captured.length;
      }
      await ask(live, turn);
    }
    await live.settled();
  } finally {
    live.stop();
    store.capturing = false;
  }
  const templateMs = performance.now() - start;
  progress('template done');
  const block = prepareBlock(store.captured.slice(blockStart));
  const templateEvents = store.captured.reduce((n, txn) => n + txn.reduce((m, part) => m + part.events.length, 0), 0);
  const blockTurns = TEMPLATE_TURNS - BLOCK_FROM;
  const copies = Math.max(0, Math.round((TARGET_EVENTS - templateEvents) / block.events));

  // Where the runtime would checkpoint: after each transaction that takes the session's usage past another
  // multiple of CHECKPOINT_EVERY_TOKENS (copies repeat the template's token counts, so this is known in advance).
  const crossings: string[] = [];
  let usage = store.captured.reduce((n, txn) => n + usedTokens(txn), 0);
  for (let copy = 1; copy <= copies; copy++) {
    block.transactions.forEach((txn, i) => {
      const before = usage;
      usage += usedTokens(txn);
      if (Math.floor(usage / CHECKPOINT_EVERY_TOKENS) > Math.floor(before / CHECKPOINT_EVERY_TOKENS)) crossings.push(`${copy}/${i}`);
    });
  }
  const retained = new Set(crossings);

  // (2) The fill: the steady block again and again, as the runtime would have written it, and at each crossing
  // the runtime's own checkpoint (what `checkpointIfDue` calls), every one kept.
  start = performance.now();
  let now = Date.now();
  const clock: Clock = { ...systemClock, now: () => now };
  const checkpointer = new ActorRuntime({ store, models: modelResolver(clock), clock, projections: sessionProjections(), checkpointRetention: 'all' });
  const writeCheckpoint = () => checkpointer.checkpoint(SESSION_ID, 'tokens');
  const checkpointMs: number[] = [];
  for (let copy = 1; copy <= copies; copy++) {
    const rewrite = blockRewriter(block, { turnOffset: blockTurns * copy, msOffset: block.spanMs * copy });
    for (const [i, txn] of block.transactions.entries()) {
      const parts = txn.map((part) => ({ streamId: part.streamId, events: part.events.map(rewrite) }));
      await store.appendToStreams(parts);
      if (!retained.has(`${copy}/${i}`)) continue;
      now = Math.max(...parts.flatMap((part) => part.events.map((e) => Date.parse(e.metadata.recordedAt))));
      const t0 = performance.now();
      await writeCheckpoint();
      checkpointMs.push(performance.now() - t0);
    }
  }
  checkpointer.stop();
  const fillMs = performance.now() - start;
  progress('fill done');

  const turns = TEMPLATE_TURNS + copies * blockTurns;
  const sortedMs = [...checkpointMs].sort((x, y) => x - y);
  const notes = wrap(`Session "${SESSION_ID}": ${int(turns)} turns: ${TEMPLATE_TURNS} live turns through ActorRuntime (${sec(templateMs)}, `
    + `${ms(templateMs / TEMPLATE_TURNS)} ms/turn), then ${int(copies)} copies of its steady turns ${BLOCK_FROM}–${TEMPLATE_TURNS - 1} `
    + `(${int(block.events)} events in ${block.transactions.length} transactions each) re-id'd and appended as the runtime wrote them, `
    + `with ActorRuntime.checkpoint after each of the ${int(crossings.length)} transactions that crossed a 1\u00a0500-token boundary: `
    + `${sec(fillMs)}; a checkpoint took ${ms2(sortedMs[Math.floor(sortedMs.length / 2)] ?? 0)} ms at the median, `
    + `${ms2(sortedMs.at(-1) ?? 0)} ms at most (the first ${ms2(checkpointMs[0] ?? 0)} ms, the last ${ms2(checkpointMs.at(-1) ?? 0)} ms).`);
  return { turns, notes };
}

/** Tokens a transaction settles: what moves the session's usage, which the runtime's checkpoint cadence follows. */
function usedTokens(txn: readonly StreamAppend[]): number {
  let tokens = 0;
  for (const part of txn) {
    for (const event of part.events) {
      if (event.type !== 'tokens.settled') continue;
      const { usage } = event.data as { usage: { inputTokens: number; outputTokens: number } };
      tokens += usage.inputTokens + usage.outputTokens;
    }
  }
  return tokens;
}

/** One query per turn, as a user would ask it; every turn must be answered. */
async function ask(runtime: ActorRuntime, turn: number): Promise<void> {
  const outcome = await askInSession(runtime, SESSION_ID, query(turn));
  if (outcome.status !== 'answered') throw new Error(`turn ${turn} was not answered: ${outcome.text}`);
}

const TOPICS = ['flood early warning', 'drought-tolerant crops', 'heat action plans', 'mangrove restoration', 'cool roofs', 'grid storage'];

function query(turn: number): Query {
  return { text: `turn ${turn}: what are the first three steps for ${TOPICS[turn % TOPICS.length]} in a coastal district?`, region: 'KE', purpose: 'climate_adaptation' };
}

/** The captured steady turns, with what a copy must re-derive: which ids the runtime derived from which. */
interface Block {
  transactions: StreamAppend[][];
  events: number;
  eventsPerTurn: number;
  /** Event id → the id it was derived from and the suffix (`/outcome`, `/delivered`, `/fired`), as the runtime derives them. */
  derived: Map<string, { from: string; suffix: string }>;
  spanMs: number;
  lastMs: number;
}

const DERIVED_SUFFIXES = ['/outcome', '/delivered', '/fired'];

function prepareBlock(transactions: StreamAppend[][]): Block {
  const events = transactions.flatMap((txn) => txn.flatMap((part) => part.events));
  const candidates = new Map<string, { from: string; suffix: string }>();
  for (const event of events) for (const suffix of DERIVED_SUFFIXES) candidates.set(derivedId(`${event.eventId}${suffix}`), { from: event.eventId, suffix });
  const derived = new Map<string, { from: string; suffix: string }>();
  for (const event of events) {
    const source = candidates.get(event.eventId);
    if (source) derived.set(event.eventId, source);
  }
  const times = events.map((e) => Date.parse(e.metadata.recordedAt));
  const first = Math.min(...times);
  const last = Math.max(...times);
  // A copy starts where the previous one would have: one block's span later (plus the gap of one turn).
  const spanMs = Math.max(1, Math.round((last - first) * (TEMPLATE_TURNS - BLOCK_FROM) / (TEMPLATE_TURNS - BLOCK_FROM - 1)));
  return { transactions, events: events.length, eventsPerTurn: events.length / (TEMPLATE_TURNS - BLOCK_FROM), derived, spanMs, lastMs: last };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const TURN_IN_TEXT = /\bturn (\d+)/g;

/**
 * Rewrites one copy's events: every event id new (random, or derived from the new source id exactly as the
 * runtime derives it), every reference to a block event id (causation, request, timer and message ids) pointed at
 * the new id, every `turn` field and "turn N" in texts moved on by `turnOffset`, every time by `msOffset`.
 */
function blockRewriter(block: Block, shift: { turnOffset: number; msOffset: number }): (event: EventToAppend) => EventToAppend {
  const ids = new Map<string, string>();
  const value = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      const id = ids.get(v);
      if (id !== undefined) return id;
      if (ISO_TIME.test(v)) return new Date(Date.parse(v) + shift.msOffset).toISOString();
      return v.includes('turn ') ? v.replace(TURN_IN_TEXT, (_, n: string) => `turn ${Number(n) + shift.turnOffset}`) : v;
    }
    if (typeof v === 'number') return key === 'turn' ? v + shift.turnOffset : v;
    if (Array.isArray(v)) return v.map((item) => value(item));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, value(item, k)]));
    return v;
  };
  return (event) => {
    const source = block.derived.get(event.eventId);
    const from = source && ids.get(source.from);
    const eventId = source && from !== undefined ? derivedId(`${from}${source.suffix}`) : FILL_IDS.next();
    ids.set(event.eventId, eventId);
    return {
      eventId, type: event.type, data: value(event.data),
      metadata: { ...event.metadata, causationId: event.metadata.causationId === null ? null : value(event.metadata.causationId) as string, recordedAt: value(event.metadata.recordedAt) as string },
    };
  };
}

interface Measured {
  latency: PointInTimeLatency[];
  folds: FoldThroughput[];
  notes: string[];
}

async function measure(store: SqliteEventStore, built: BuiltSession): Promise<Measured> {
  const notes: string[] = [];
  const projections = sessionProjections();
  const events = await readSessionEvents(store, SESSION_ID);
  const checkpoints: { position: bigint; bytes: number; data: CheckpointData }[] = [];
  for await (const event of store.readStream(checkpointStream(SESSION_ID))) {
    checkpoints.push({ position: event.position, bytes: JSON.stringify(event.data).length, data: event.data as CheckpointData });
  }
  if (checkpoints.length === 0) throw new Error('the runtime wrote no checkpoint');
  progress('read session + checkpoints');
  const newest = checkpoints[checkpoints.length - 1]!;

  // The log must fold as a live one: every turn answered, the ledger's laws intact, and the runtime's own newest
  // checkpoint (every actor and projection) equal to an independent fold up to it.
  const full = foldSession(SESSION_ID, events, projections);
  checkSession(full, built.turns);
  const atNewest = foldSession(SESSION_ID, events.filter((e) => e.position <= newest.position), projections);
  sameState('the newest checkpoint', canonical(checkpointOfState(atNewest, 'tokens')), canonical({ ...newest.data, reason: 'tokens' }));
  progress('validated');

  const random = mulberry32(SEED);
  const pick = (list: readonly RecordedEvent[]) => ({ position: list[Math.floor(random() * list.length)]!.position });
  const query = async (at: { position: bigint }, checkpoints: boolean): Promise<{ ms: number; state: SessionStateAt }> => {
    const start = performance.now();
    const state = await sessionStateAt(store, SESSION_ID, at, projections, { checkpoints });
    return { ms: performance.now() - start, state };
  };
  // An answer from a checkpoint must equal the full fold to the same point (outside the timings).
  const check = async (at: { position: bigint }, answer: SessionStateAt) => {
    const expected = foldSession(SESSION_ID, events.filter((e) => e.position <= at.position), projections);
    sameState(`position ${at.position}`, canonical(answer), canonical(expected));
  };
  await query(pick(events), true);

  // Answers checked after the timed samples: a full fold takes seconds, which would eat a row's time budget.
  const toCheck: { at: { position: bigint }; state: SessionStateAt }[] = [];
  /** Times checkpointed queries at positions drawn from `list`, keeping the first answers to check later. */
  const timeQueries = async (list: readonly RecordedEvent[], also?: (i: number, at: { position: bigint }) => Promise<void>) => {
    const times: number[] = [];
    await sample(FROM_CHECKPOINT, async (i) => {
      const at = pick(list);
      const result = await query(at, true);
      times.push(result.ms);
      if (i < CHECKED_ANSWERS) toCheck.push({ at, state: result.state });
      await also?.(i, at);
    });
    return times;
  };
  // Every checkpoint kept: positions uniform over the whole log.
  const lookup: number[] = [];
  const all = await timeQueries(events, async (i, at) => {
    if (i >= LOOKUPS) return;
    const t0 = performance.now();
    await newestCheckpointAt(store, SESSION_ID, at, ['ledger', ...Object.keys(projections)]);
    lookup.push(performance.now() - t0);
  });
  progress('retention all done');

  // No checkpoints: a fold from the start.
  const without: number[] = [];
  await sample(FULL_FOLD, async () => {
    without.push((await query(pick(events), false)).ms);
  });
  progress('full folds done');

  // The default retention: the newest 5 checkpoints (the stream's $maxCount; the store scavenges the rest).
  await store.setStreamMetadata(checkpointStream(SESSION_ID), { maxCount: CHECKPOINT_RETENTION });
  const kept = await collect(store.readStream(checkpointStream(SESSION_ID)));
  if (kept.length !== CHECKPOINT_RETENTION) throw new Error(`expected ${CHECKPOINT_RETENTION} checkpoints after setting $maxCount, found ${kept.length}`);
  const afterOldest = events.filter((e) => e.position > kept[0]!.position);
  const recent = await timeQueries(afterOldest);
  for (const { at, state } of toCheck) await check(at, state);
  const uniformDefault: number[] = [];
  let uniformHits = 0;
  await sample(FULL_FOLD, async () => {
    const at = pick(events);
    if (at.position > kept[0]!.position) uniformHits++;
    uniformDefault.push((await query(at, true)).ms);
  });
  progress('default retention done');

  const row = (name: string, values: number[], goalMs?: number): PointInTimeLatency => ({ name, queries: values.length, p50Ms: percentile(values, 50), p95Ms: percentile(values, 95), goalMs });
  const latency: PointInTimeLatency[] = [
    row(`with checkpoints, all ${int(checkpoints.length)} kept, positions uniform over the log`, all, GOAL_MS),
    row('  newestCheckpointAt alone (search + decode), same positions', lookup),
    row('without checkpoints (full fold), positions uniform over the log', without),
    row(`default retention (newest ${CHECKPOINT_RETENTION}), positions after the oldest kept`, recent),
    row(`default retention (newest ${CHECKPOINT_RETENTION}), positions uniform over the log`, uniformDefault),
  ];

  // Fold throughput, in memory, over the same events: the whole log, and its first and last 10 000 events (the
  // last folded on from the state before them), which shows whether a step costs more as the session grows.
  const edge = Math.min(FOLD_EDGE_EVENTS, Math.floor(events.length / 2));
  const head = events.slice(0, edge);
  const tail = events.slice(events.length - edge);
  const beforeTail = events.slice(0, events.length - edge);
  const folds: FoldThroughput[] = [];
  const foldRows = async (name: string, fold: (list: readonly RecordedEvent[], from?: unknown) => unknown, count: (list: readonly RecordedEvent[]) => number) => {
    const fromBeforeTail = fold(beforeTail);
    folds.push(
      { name: `${name}, whole log`, events: count(events), perSec: await bestRate(count(events), () => fold(events)) },
      { name: `${name}, first ${int(edge)} events`, events: count(head), perSec: await bestRate(count(head), () => fold(head)) },
      { name: `${name}, last ${int(edge)} events`, events: count(tail), perSec: await bestRate(count(tail), () => fold(tail, fromBeforeTail)) },
    );
  };
  const all_ = (list: readonly RecordedEvent[]) => list.length;
  await foldRows('ledgerProjection.evolve', (list, from) => foldProjection(ledgerProjection as ExtraProjections[string], list, from ?? ledgerProjection.initial), all_);
  for (const [key, projection] of Object.entries(projections)) {
    await foldRows(`${key.split(':')[0]}.evolve`, (list, from) => foldProjection(projection, list, from ?? projection.initial), all_);
  }
  await foldRows('foldSession (actors through their machines + ledger)', (list, from) => {
    const state = foldSession(SESSION_ID, list, {}, from as CheckpointData | undefined);
    return checkpointOfState(state, 'tokens');
  }, all_);
  progress('folds done');

  const sizes = checkpoints.map((c) => c.bytes);
  const shares = Object.entries(newest.data.projections).map(([name, state]) => `${name.split(':')[0]} ${kib(JSON.stringify(state).length)}`).join(', ');
  notes.push(...wrap(`${int(events.length)} session events (positions 1–${events[events.length - 1]!.position}), `
    + `${int(full.ledger.usage.total.inputTokens + full.ledger.usage.total.outputTokens)} tokens used, ${int(checkpoints.length)} checkpoints `
    + `(one per 1\u00a0500 tokens, about one per turn here) of ${kib(Math.min(...sizes))} to ${kib(Math.max(...sizes))} each `
    + `(first ${kib(sizes[0]!)}, last ${kib(sizes.at(-1)!)}: no state grows with the session; the newest holds actors `
    + `${kib(JSON.stringify(newest.data.actors).length)}, ${shares}). With the default retention only the last `
    + `${int(afterOldest.length)} events (${(afterOldest.length / events.length * 100).toFixed(2)}%) lie after the oldest kept checkpoint, `
    + `so a position uniform over the log rarely has one at or before it (${uniformHits} of ${uniformDefault.length} here) and folds `
    + `from the start: keep every checkpoint (checkpointRetention "all") when past points of long sessions must be fast. `
    + `${CHECKED_ANSWERS} answers per checkpointed row were compared with an independent full fold; positions are seeded.`));
  return { latency, folds, notes };
}

/** Runs `once(i)` at least `min` times, then until `max` or until `budgetMs` has passed. */
async function sample(limits: { min: number; max: number; budgetMs: number }, once: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < limits.max && (i < limits.min || performance.now() - start < limits.budgetMs); i++) await once(i);
}

function foldProjection(projection: ExtraProjections[string], events: readonly RecordedEvent[], from: unknown = projection.initial): unknown {
  let state = from;
  for (const event of events) state = projection.evolve(state, event);
  return state;
}

/** Best of FOLD_ROUNDS runs (the first doubles as warm-up), in events per second. */
async function bestRate(events: number, work: () => unknown): Promise<number> {
  let best = 0;
  for (let round = 0; round < FOLD_ROUNDS; round++) best = Math.max(best, await eventsPerSecond(events, work));
  return best;
}

/** The built session must look like a live one: every turn answered in order, the ledger's laws intact. */
function checkSession(state: SessionStateAt, turns: number): void {
  const session = state.actors.find((a) => a.streamId === sessionStream(SESSION_ID));
  if (!session) throw new Error('no session actor in the fold');
  const { turn, answered, recentOutcomes } = session.context as SessionContext;
  if (turn !== turns || answered !== turns) throw new Error(`the fold shows ${turn} finished turns (${answered} answered), ${turns} were asked`);
  recentOutcomes.forEach((o, i) => {
    const expected = turns - recentOutcomes.length + i;
    if (o.turn !== expected || o.status !== 'answered') throw new Error(`turn ${expected} folds to turn ${o.turn}, ${o.status}`);
  });
  const violations = ledgerViolations(state.ledger);
  if (violations.length > 0) throw new Error(`ledger laws broken: ${violations.join('; ')}`);
}

function sameState(where: string, a: string, b: string): void {
  if (a !== b) throw new Error(`${where}: the state from a checkpoint and the full fold disagree`);
}

/** JSON with sorted keys and bigints as strings: a state restored from a checkpoint has its keys in stored order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}


/** Words into lines of at most NOTE_WIDTH characters, the lines after the first indented (no break at U+00A0). */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const prefix = lines.length === 0 ? '' : '  ';
    if (line !== '' && prefix.length + line.length + 1 + word.length > NOTE_WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push((lines.length === 0 ? '' : '  ') + line);
  return lines;
}

const NOTE_WIDTH = 118;

function int(n: number): string {
  return Math.round(n).toLocaleString('en');
}

function ms(value: number): string {
  return value.toFixed(0);
}

function ms2(value: number): string {
  return value.toFixed(2);
}

function sec(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
