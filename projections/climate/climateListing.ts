import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { FactorSet } from '../../src/policy/climate/factorSet.ts';
import { initialClimateState, type CallRecord, type ClimateState } from './climateState.ts';
import { stepClimate } from './evolveClimate.ts';

/** A fold of the log with every call it accounted, in the order folded. */
export interface ClimateListing {
  state: ClimateState;
  calls: CallRecord[];
}

/**
 * The complete per-call listing, which the state no longer holds (it keeps totals and the newest calls, so that
 * checkpoints stay small): the same fold as `foldClimate`, from the start of `events` (in global order), collecting
 * each call record as the fold makes it. `calls` has one record per call counted in `state.totals.all`.
 */
export function climateListing(events: Iterable<RecordedEvent>, factors: FactorSet): ClimateListing {
  let state = initialClimateState(factors);
  const calls: CallRecord[] = [];
  for (const event of events) {
    const before = state.totals.all.calls;
    state = stepClimate(state, event, factors, true);
    // One event accounts at most one call, and the newest record is the one it made.
    if (state.totals.all.calls !== before) calls.push(state.recentCalls.at(-1)!);
  }
  return { state, calls };
}

/** Every call the events record, each with every input beside every output. */
export function climateCalls(events: Iterable<RecordedEvent>, factors: FactorSet): CallRecord[] {
  return climateListing(events, factors).calls;
}
