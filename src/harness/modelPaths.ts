import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { z } from 'zod';

/** One step of a path: the event taken, and the machine's state right after it. */
export interface PathStep { event: EventObject; state: AnyMachineSnapshot }

/**
 * A shortest path to one state of a machine, as `xstate/graph` finds it. The first step is the initial state
 * (event `xstate.init`); `serializeState` is what told states apart while the paths were found, and what
 * `runPath` compares the live actor with.
 */
export interface MachinePath {
  /** The machine the path was found on: `runPath` follows it only on a stream that machine hosts. */
  machine: AnyStateMachine;
  state: AnyMachineSnapshot;
  steps: PathStep[];
  weight: number;
  serializeState: (snapshot: AnyMachineSnapshot) => string;
  /** The events in order, e.g. `agent.assigned → task.assigned → model.requested`. */
  describe(): string;
}

export interface PathOptions {
  /** The events the actor can receive in a state, as machine events (`{ type, ...data }`): its facts, and the records the runtime makes for it. */
  events: (snapshot: AnyMachineSnapshot) => readonly EventObject[];
  /** Which states count as the same (default: value and context as JSON). Leave out ids and unbounded counters. */
  serializeState?: (snapshot: AnyMachineSnapshot) => string;
  /** Stop exploring after this many states (default 5 000). */
  limit?: number;
  /** Keep only the paths whose end state passes. */
  filter?: (snapshot: AnyMachineSnapshot) => boolean;
}

const pathOptionsSchema = z.strictObject({
  events: z.custom<PathOptions['events']>((v) => typeof v === 'function', 'a function from a snapshot to the events it accepts'),
  serializeState: z.custom<NonNullable<PathOptions['serializeState']>>((v) => typeof v === 'function', 'a function').optional(),
  limit: z.number().int().positive().optional(),
  filter: z.custom<NonNullable<PathOptions['filter']>>((v) => typeof v === 'function', 'a function').optional(),
});

const byValueAndContext = (snapshot: AnyMachineSnapshot) => JSON.stringify({ value: snapshot.value, context: snapshot.context });

/** The shortest path to every state of `machine` that `events` can reach, wrapping `getShortestPaths`. */
export function pathsOf(machine: AnyStateMachine, options: PathOptions): MachinePath[] {
  pathOptionsSchema.parse(options);
  const serializeState = options.serializeState ?? byValueAndContext;
  const paths = getShortestPaths(machine, {
    events: options.events as never,
    serializeState: ((snapshot: AnyMachineSnapshot) => serializeState(snapshot)) as never,
    limit: options.limit ?? 5_000,
  });
  return paths
    .filter((path) => options.filter?.(path.state as AnyMachineSnapshot) ?? true)
    .map((path) => {
      const steps = path.steps as unknown as PathStep[];
      return {
        machine, state: path.state as AnyMachineSnapshot, steps, weight: path.weight, serializeState,
        describe: () => steps.slice(1).map((step) => step.event.type).join(' → ') || '(initial state)',
      };
    });
}
