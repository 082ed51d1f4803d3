import { createStoreConfig } from '@xstate/store';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { FactorSet } from '../../src/policy/climate/factorSet.ts';
import type { SessionProjection } from '../sessionProjection.ts';
import { initialClimateState, type ClimateState } from './climateState.ts';
import { evolveClimate, stepClimate } from './evolveClimate.ts';

/**
 * The climate projection is parameterised by its factor set: the set is an input of the fold, not something it
 * looks up, so restating a session under another set is folding the same events with that set.
 */
export function climateProjection(factors: FactorSet): SessionProjection<ClimateState> {
  return {
    name: 'climate',
    initial: initialClimateState(factors),
    evolve: (state, event) => evolveClimate(state, event, factors),
  };
}

/**
 * Folds events (in global order) from the initial state, or from `from` (a checkpoint's state), which is left as it
 * was. The fold works on its own copy in place, so each call costs the same however many sessions the events span.
 */
export function foldClimate(events: Iterable<RecordedEvent>, factors: FactorSet, from: ClimateState = initialClimateState(factors)): ClimateState {
  let state = structuredClone(from);
  for (const event of events) state = stepClimate(state, event, factors, true);
  return state;
}

/**
 * The projection as an @xstate/store definition: `createStore(climateStoreConfig(set))` runs it live; send each
 * recorded event as `{ type: 'recorded', event }`. The same `evolveClimate` is the pure fold replay uses.
 */
export function climateStoreConfig(factors: FactorSet) {
  return createStoreConfig({
    context: initialClimateState(factors),
    on: {
      recorded: (context: ClimateState, { event }: { event: RecordedEvent }) => evolveClimate(context, event, factors),
    },
  });
}
