import { createActor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { Effect } from '../../machines/effects.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import type { ActorKind } from './actorKinds.ts';

/** A recorded event as its machine receives it: `{ type, ...data }`. */
export function machineEventOf(event: { type: string; data: unknown }): { type: string } {
  return { ...(event.data as object), type: event.type };
}

/**
 * XState's `transition(machine, snapshot, event)` builds a new inert actor and system for every event, which is
 * most of its cost. Chronicle's machines spawn no children and reach nothing through `self`, so one inert scope
 * per machine, made the way `transition()` makes it, serves every step; the actions it would have executed are
 * collected instead, exactly as `transition()` returns them.
 */
interface InertScope {
  scope: unknown;
  actions: { type: string; params?: unknown }[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();

function inertScope(machine: AnyStateMachine): InertScope {
  let entry = scopes.get(machine);
  if (!entry) {
    const self = createActor(machine);
    const actions: InertScope['actions'] = [];
    const scope = {
      self, system: self.system, id: '', sessionId: '', defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {},
      actionExecutor: (action: { type: string; params?: unknown }) => actions.push(action),
    };
    entry = { scope, actions };
    scopes.set(machine, entry);
  }
  entry.actions.length = 0;
  return entry;
}

type ScopedMachine = {
  transition: (snapshot: AnyMachineSnapshot, event: { type: string }, scope: unknown) => AnyMachineSnapshot;
  getInitialSnapshot: (scope: unknown) => AnyMachineSnapshot;
};

export function initialSnapshot(kind: ActorKind): AnyMachineSnapshot {
  return (kind.machine as unknown as ScopedMachine).getInitialSnapshot(inertScope(kind.machine).scope);
}

/**
 * One step of an actor: XState's pure `transition()`, returning the effects the machine emitted. The same function
 * runs live (where the runtime performs the effects) and in replay (where they are ignored), which is what makes
 * a replayed state the state the live actor had.
 */
export function stepActor(kind: ActorKind, snapshot: AnyMachineSnapshot, event: { type: string }): { snapshot: AnyMachineSnapshot; effects: Effect[] } {
  return stepOn(kind, kind.machine, snapshot, event);
}

/**
 * One recorded event replayed: stepped by the definition its recorded machine version names (this build's, or an
 * earlier one the kind keeps), the snapshot carried over where the version changes. Refused when the version is
 * neither.
 */
export function replayStep(kind: ActorKind, snapshot: AnyMachineSnapshot, event: RecordedEvent): { snapshot: AnyMachineSnapshot; effects: Effect[] } {
  return stepOn(kind, machineOfEvent(kind, event), snapshot, machineEventOf(event));
}

/** The definition that wrote a recorded event, as this build has it; a `MachineVersionError` if it has none. */
export function machineOfEvent(kind: ActorKind, event: RecordedEvent): AnyStateMachine {
  const version = event.metadata.machineVersion;
  if (version === kind.version) return kind.machine;
  const earlier = kind.earlier.get(version);
  if (!earlier) throw new MachineVersionError(event, kind.version, kind.earlier.keys());
  return earlier;
}

/**
 * A snapshot as `machine` takes it. Snapshots hold their machine's state nodes, so one made by another definition of
 * the kind is resolved afresh from its persisted form (`ActorKind.earlier` lists only definitions for which that is
 * the whole migration); the common case, the same machine, is the snapshot itself.
 */
export function carriedOver(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
  if (snapshot.machine === machine) return snapshot;
  const { value, context } = snapshot;
  return machine.resolveState({ value, context });
}

function stepOn(kind: ActorKind, machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: { type: string }): { snapshot: AnyMachineSnapshot; effects: Effect[] } {
  const scope = inertScope(machine);
  const next = transitionIn(scope, kind, machine, carriedOver(machine, snapshot), event);
  const effects: Effect[] = [];
  for (const action of scope.actions) if (action.type === 'xstate.emit') effects.push((action.params as { event: Effect }).event);
  return { snapshot: next, effects };
}

/** The step alone, in a scope already looked up: a fold (replay, rehydration) needs neither the effects nor a lookup per event. */
function transitionIn(scope: InertScope, kind: ActorKind, machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: { type: string }): AnyMachineSnapshot {
  scope.actions.length = 0;
  const next = (machine as unknown as ScopedMachine).transition(snapshot, event, scope.scope);
  if (next.status === 'error') {
    throw new Error(`The ${kind.category} machine failed on "${event.type}": ${String((next as { error?: unknown }).error)}`);
  }
  return next;
}

export class MachineVersionError extends Error {
  override readonly name = 'MachineVersionError';
  constructor(event: RecordedEvent, current: string, earlier: Iterable<string> = []) {
    const kept = [...earlier];
    super(`Stream "${event.streamId}" revision ${event.revision} was written by machine version ${event.metadata.machineVersion}, ` +
      `but this build runs ${current}${kept.length > 0 ? ` and replays ${kept.join(', ')}` : ''}. Replaying it under a different definition could silently change history; ` +
      'keep the definition that wrote it in its actor kind (`ActorKind.earlier`, where its snapshots read as the current one\'s), or replay with the Chronicle version that wrote it.');
  }
}

/**
 * Folds a stream's events through its machine (from its initial state, or `from`), refusing events written under
 * another machine version. `consume`:
 * the events were read for this fold alone, so each one's data becomes its machine event in place (gaining `type`)
 * instead of being copied; a replay of many streams saves ~0.4 µs an event.
 */
export function foldActor(kind: ActorKind, events: Iterable<RecordedEvent>, onStep?: (event: RecordedEvent, snapshot: AnyMachineSnapshot) => void, options: { consume?: boolean; from?: AnyMachineSnapshot } = {}): AnyMachineSnapshot {
  let snapshot = options.from ?? initialSnapshot(kind);
  let machine = kind.machine;
  let scope = inertScope(machine);
  const eventOf = options.consume ? consumedMachineEvent : machineEventOf;
  for (const event of events) {
    // Looked up only when the version is not this build's: the fold's hot path stays one comparison per event.
    const wrote = event.metadata.machineVersion === kind.version ? kind.machine : machineOfEvent(kind, event);
    if (wrote !== machine) {
      machine = wrote;
      scope = inertScope(machine);
    }
    snapshot = transitionIn(scope, kind, machine, carriedOver(machine, snapshot), eventOf(event));
    onStep?.(event, snapshot);
  }
  // Whatever wrote the stream, the actor lives on under this build's definition.
  return carriedOver(kind.machine, snapshot);
}

/** `machineEventOf`, made of the event's own data object where it is a plain object (as read data always is). */
function consumedMachineEvent(event: { type: string; data: unknown }): { type: string } {
  const data = event.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return machineEventOf(event);
  (data as { type: string }).type = event.type;
  return data as { type: string };
}

/** The part of a snapshot that persists and is compared: state value, context, status. */
export function persistedState(kind: ActorKind, snapshot: AnyMachineSnapshot): { value: unknown; context: unknown; status: string } {
  const persisted = kind.machine.getPersistedSnapshot(snapshot) as unknown as { value: unknown; context: unknown; status: string };
  return { value: persisted.value, context: persisted.context, status: persisted.status };
}
