import { climateListing, type ClimateListing } from '../../projections/climate/climateListing.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import type { FactorSet } from '../policy/climate/factorSet.ts';
import { defaultFactorSet, factorSetById, factorSetIds } from '../policy/climate/factorSets.ts';
import type { EventStore } from '../store/eventStore.ts';
import { usageOfOutcome } from './callUsage.ts';
import { forkedHistoryEnds } from './forkSession.ts';

/**
 * The climate listings `chronicle climate` prints and the dashboard shows, from events already read up to a point:
 * one place, so the two cannot disagree.
 */

/** The whole store under a set, a fork's copied history counted once, at its source (`climate --all`). */
export async function storeListing(store: EventStore, events: readonly RecordedEvent[], factors: FactorSet = defaultFactorSet): Promise<ClimateListing> {
  // A fork's history up to its `session.forked` is a copy of calls its source made: those calls are counted at the
  // source. What the copy says of the fork itself (its requests' origin and purpose, its agents' tasks) is kept, so
  // a call the fork makes after a cut mid-turn is accounted with the turn's origin, as `climate <fork>` accounts it.
  const forks = await forkedHistoryEnds(store);
  const copiedCall = (e: RecordedEvent) => { const end = forks.get(e.metadata.sessionId); return end !== undefined && e.position <= end && usageOfOutcome(e) !== undefined; };
  return climateListing(events.filter((e) => !copiedCall(e)), factors);
}

/** One session under the chosen set, else the set its log recorded as in force, else the default (`climate <id>`). */
export function sessionListing(sessionId: string, events: readonly RecordedEvent[], chosen?: FactorSet): { listing: ClimateListing; factors: FactorSet } {
  if (chosen) return { listing: climateListing(events, chosen), factors: chosen };
  const listing = climateListing(events, defaultFactorSet);
  const recorded = listing.state.inForce[sessionId];
  if (!recorded || recorded.id === defaultFactorSet.id || !factorSetIds.includes(recorded.id)) return { listing, factors: defaultFactorSet };
  const factors = factorSetById(recorded.id);
  return { listing: climateListing(events, factors), factors };
}
