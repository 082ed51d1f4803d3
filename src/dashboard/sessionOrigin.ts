import type { RecordedEvent } from '../events/envelope.ts';
import { classifyOrigin } from '../../projections/climate/resolveFactors.ts';
import { defaultFactorSet } from '../policy/climate/factorSets.ts';

/** The purposes counted as climate work in the headline's share (the climate-justice priority's climate purposes). */
export const CLIMATE_PURPOSES: readonly string[] = ['climate_adaptation', 'disaster_response', 'renewable_energy_optimization', 'sustainable_agriculture', 'climate_science_research'];

export interface SessionOrigin {
  region: string | null;
  purpose: string | null;
  priority: number | null;
}

/**
 * Where a session's newest request came from and why, from its own stream: the newest `priority.assigned` (which
 * triage records for every turn it starts), else the newest `query.received` (a query still waiting to start).
 */
export function sessionOrigin(sessionEvents: readonly RecordedEvent[]): SessionOrigin {
  const assigned = sessionEvents.findLast((e) => e.type === 'priority.assigned')?.data as { priority: { priority: number; region: string; purpose: string } } | undefined;
  if (assigned) return { region: assigned.priority.region, purpose: assigned.priority.purpose, priority: assigned.priority.priority };
  const query = sessionEvents.findLast((e) => e.type === 'query.received')?.data as { region: string; purpose: string } | undefined;
  return { region: query?.region ?? null, purpose: query?.purpose ?? null, priority: null };
}

/** Global South by the same UNCTAD rule the climate projection's justice adjustment uses. */
export function isGlobalSouth(region: string | null): boolean {
  return classifyOrigin(region, defaultFactorSet) === 'global-south';
}

export function isClimatePurpose(purpose: string | null): boolean {
  return purpose !== null && CLIMATE_PURPOSES.includes(purpose);
}
