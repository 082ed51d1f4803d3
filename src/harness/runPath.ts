import type { AnyMachineSnapshot } from 'xstate';
import type { RecordedEvent } from '../events/envelope.ts';
import { foldActor, initialSnapshot, machineEventOf, persistedState, stepActor } from '../runtime/actorFold.ts';
import { actorKindOf } from '../runtime/actorKinds.ts';
import { ActorRuntime } from '../runtime/actorRuntime.ts';
import { derivedId } from '../runtime/ids.ts';
import { StreamNotFoundError } from '../store/errors.ts';
import { collect, type EventStore } from '../store/eventStore.ts';
import { firstDifference, show } from './difference.ts';
import type { Harness } from './harness.ts';
import { settle } from './harnessClock.ts';
import type { MachinePath } from './modelPaths.ts';

/**
 * Events the runtime records in an actor's own stream as it performs the actor's effects (write-ahead, in the same
 * append as their cause). A path step of one of these types is not delivered: the runtime must have recorded it.
 */
export const RECORDED_BY_RUNTIME: ReadonlySet<string> = new Set([
  'model.requested', 'model.cancelled', 'timer.started', 'timer.cancelled', 'message.sent',
  'triage.decided', 'priority.assigned', 'budget.estimated', 'turn.completed',
]);

/** Ids the runtime makes for its records: a path's stand-ins for them are mapped to the recorded ones. */
const ID_FIELDS = ['requestId', 'timerId', 'messageId'] as const;

export class PathDivergenceError extends Error {
  override readonly name = 'PathDivergenceError';
}

export interface PathRun {
  streamId: string;
  /** Steps followed: facts delivered through the runtime, and runtime records found where the path expected them. */
  delivered: number;
  matched: number;
  /** Runtime records the path did not name, passed over because the state the path expects was unchanged. */
  passedOver: string[];
  /** What the runtime recorded after the path's last step (the effects of that step, performed). */
  trailing: string[];
}

/**
 * Follows a path (from `pathsOf`) on a fresh actor hosted by the real runtime: each fact is delivered through it
 * and each record the runtime makes itself (`model.requested`, `timer.started`, …) is found in the stream instead.
 * After every step, the actor replayed from the store must be in the path's state (by the path's
 * `serializeState`, and its state value), and with a harness also equal to the live state after that event.
 * Outcomes and firings keep the runtime's derived ids, so the effects the runtime performed (a model call still
 * in flight on the simulated clock) are recognised as already answered if they finish later.
 */
export async function runPath(target: Harness | ActorRuntime, streamId: string, path: MachinePath): Promise<PathRun> {
  const runtime = target instanceof ActorRuntime ? target : target.runtime;
  const live = target instanceof ActorRuntime ? undefined : target.live;
  const kind = actorKindOf(streamId);
  if (path.machine !== kind.machine) {
    throw new PathDivergenceError(`the path was found on the "${path.machine.id}" machine, but the runtime hosts ${streamId} with its "${kind.machine.id}" machine: follow a path on a stream of its own kind`);
  }
  const read = () => readStream(runtime.store, streamId);
  const already = await read();
  if (already.length > 0) throw new PathDivergenceError(`runPath needs a fresh actor: ${streamId} already has ${already.length} events (paths start from the machine's initial state)`);

  const ids = new Map<string, string>();
  const run: PathRun = { streamId, delivered: 0, matched: 0, passedOver: [], trailing: [] };
  let recorded: RecordedEvent[] = [];
  let cursor = 0;
  let folded: AnyMachineSnapshot = initialSnapshot(kind);
  let foldedTo = 0;
  const steps = path.steps.slice(1);
  for (const [n, step] of steps.entries()) {
    const { type, ...pathData } = step.event as { type: string; [key: string]: unknown };
    const where = `${streamId}, step ${n + 1} of ${steps.length} (${type}) of the path ${path.describe()}`;
    let at: number;
    if (RECORDED_BY_RUNTIME.has(type)) {
      recorded = await read();
      at = recorded.findIndex((e, i) => i >= cursor && e.type === type);
      if (at < 0) throw new PathDivergenceError(`${where}: the path expects the runtime to record ${type} here, but since the previous step it recorded ${listing(recorded.slice(cursor))}`);
      const data = recorded[at]!.data as Record<string, unknown>;
      for (const field of ID_FIELDS) if (typeof pathData[field] === 'string' && typeof data[field] === 'string') ids.set(pathData[field], data[field]);
      run.matched++;
    } else {
      const data = translate(pathData, ids) as Record<string, unknown>;
      const eventId = factIdOf(streamId, n, type, data);
      try {
        await runtime.deliver(streamId, { type, data, eventId, causationId: null });
      } catch (error) {
        throw new PathDivergenceError(`${where}: the runtime refused the fact: ${error instanceof Error ? error.message : String(error)}`);
      }
      await settle();
      recorded = await read();
      at = recorded.findIndex((e) => e.eventId === eventId);
      if (at < 0) throw new PathDivergenceError(`${where}: the runtime did not record it, so treats it as stale (a repeated id, an outcome for a request it has no record of, or a timer that is not running)`);
      // Same derived id, another type: the runtime recorded this request's outcome (or this firing) itself first.
      if (recorded[at]!.type !== type) throw new PathDivergenceError(`${where}: under this id the runtime had already recorded an outcome of its own: ${listing([recorded[at]!])}`);
      await expectRestingAsReplayed(runtime, streamId, recorded, where);
      run.delivered++;
    }
    const stepStart = cursor;
    run.passedOver.push(...recorded.slice(cursor, at).map((e) => e.type));
    cursor = at + 1;
    while (foldedTo <= at) folded = stepActor(kind, folded, machineEventOf(recorded[foldedTo++]!)).snapshot;
    if (live) {
      const liveStep = live.after(recorded[at]!.eventId);
      const difference = liveStep ? firstDifference(persistedState(kind, folded), liveStep.state) : 'the live runtime never processed it';
      if (difference) throw new PathDivergenceError(`${where}: replayed from the store, the actor differs from the live one at ${difference} (replayed ≠ live)`);
    }
    const expected = path.serializeState(step.state);
    const actual = path.serializeState(folded);
    const valueDifference = firstDifference(folded.value, step.state.value);
    if (expected !== actual || valueDifference) {
      throw new PathDivergenceError(`${where}: the actor is not in the path's state: ${keyDifference(actual, expected)} (runtime ≠ path).\n` +
        `  recorded up to this step: ${listing(recorded.slice(stepStart, cursor))}\n` +
        `  recorded after it: ${listing(recorded.slice(cursor))}` +
        (at > stepStart ? `\n  the path does not take ${listing(recorded.slice(stepStart, at))}, which came first: offer what the runtime records itself where it records it` : ''));
    }
  }
  recorded = await read();
  run.trailing = recorded.slice(cursor).map((e) => e.type);
  await expectRestingAsReplayed(runtime, streamId, recorded, `${streamId}, after the path`);
  return run;
}

/** The actor the runtime hosts now is the one its whole stream folds to (a bare runtime's only view of live state). */
async function expectRestingAsReplayed(runtime: ActorRuntime, streamId: string, recorded: readonly RecordedEvent[], where: string): Promise<void> {
  const kind = actorKindOf(streamId);
  const difference = firstDifference(persistedState(kind, foldActor(kind, recorded)), persistedState(kind, await runtime.snapshotOf(streamId)));
  if (difference) throw new PathDivergenceError(`${where}: the stream refolded differs from the actor the runtime hosts at ${difference} (replayed ≠ live)`);
}

/** A fact's id: outcomes and firings as the runtime derives them, so a late one from the runtime itself is a duplicate. */
function factIdOf(streamId: string, step: number, type: string, data: Record<string, unknown>): string {
  if ((type === 'model.responded' || type === 'model.failed') && typeof data.requestId === 'string') return derivedId(`${data.requestId}/outcome`);
  if (type === 'timer.fired' && typeof data.timerId === 'string') return derivedId(`${data.timerId}/fired`);
  return derivedId(`runPath/${streamId}/${step}`);
}

function translate(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => translate(item, ids));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, translate(v, ids)]));
  return value;
}

function keyDifference(actual: string, expected: string): string {
  try {
    return firstDifference(JSON.parse(actual), JSON.parse(expected)) ?? `${actual} ≠ ${expected}`;
  } catch {
    return `${show(actual, 300)} ≠ ${show(expected, 300)}`;
  }
}

function listing(events: readonly RecordedEvent[]): string {
  if (events.length === 0) return 'nothing';
  return events.map((e) => {
    const data = e.data as { reason?: unknown; key?: unknown; messageType?: unknown };
    const detail = data.reason ?? data.key ?? data.messageType;
    const hint = e.type === 'model.failed' && String(data.reason).startsWith('refused: budget') ? ' — the ledger refused the call: start the agent\'s session with a budget first' : '';
    return `${e.type}${detail === undefined ? '' : ` (${String(detail)})`}${hint}`;
  }).join(', ');
}

async function readStream(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  try {
    return await collect(store.readStream(streamId));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}
