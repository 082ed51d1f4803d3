import { climateReport, type ClimateReport } from '../../projections/climate/climateReport.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { defaultFactorSet } from '../policy/climate/factorSets.ts';
import { sessionListing, storeListing } from '../runtime/climateListings.ts';
import type { EventStore } from '../store/eventStore.ts';

/** The whole store under the default set, as `climate --all` reports it. */
export async function storeClimateReport(store: EventStore, log: readonly RecordedEvent[]): Promise<ClimateReport> {
  return climateReport(await storeListing(store, log), defaultFactorSet);
}

/** One session under the set its log recorded as in force, else the default, as `climate <id>` reports it. */
export function sessionClimateReport(sessionId: string, events: readonly RecordedEvent[]): ClimateReport {
  const { listing, factors } = sessionListing(sessionId, events);
  return climateReport(listing, factors);
}
