import type { FactorSet, FactorSetRef } from '../../src/policy/climate/factorSet.ts';
import type { ClimateListing } from './climateListing.ts';
import type { CallRecord, ClimateState, ClimateTotalsByKey } from './climateState.ts';

/**
 * The document `climate --json` prints: for every call every input next to every output, the totals, and which factor
 * set produced them, so anyone can recompute a call by hand (docs/climate.md walks through one).
 */
export interface ClimateReport {
  factorSet: FactorSetRef;
  /** The applied set's coefficients, prices and rates, so the report alone suffices to recompute every call. */
  constants: Pick<FactorSet, 'energy' | 'embodied' | 'prices' | 'rates'>;
  /** The set the log recorded as in force, per session (absent when none was recorded). */
  recordedFactorSets: ClimateState['inForce'];
  /** True when some call was recorded under a set other than the one applied here. */
  restated: boolean;
  units: Record<string, string>;
  position: string | null;
  calls: CallRecord[];
  totals: ClimateTotalsByKey;
}

export const CLIMATE_UNITS: Record<string, string> = {
  energyWh: 'Wh per call (PUE × (server + GPUs)); min/central/max at the low, middle and high ends of parameters and PUE',
  serverWh: 'Wh, server without GPUs',
  gpuWh: 'Wh, all GPUs of the call',
  gpuWhPerToken: 'Wh per output token, one GPU',
  generationLatencyS: 's',
  requestLatencyS: 's (recorded latencyMs / 1000; null when not measured)',
  totalParametersB: 'billions of parameters',
  activeParametersB: 'billions of parameters',
  gridIntensityGco2PerKwh: 'gCO2e per kWh (Ember annual average, location-based)',
  renewableShare: 'fraction 0–1 (Electricity Maps yearly)',
  usageGco2e: 'gCO2e (energy × grid intensity)',
  embodiedGco2e: 'gCO2e (hardware manufacturing, amortised)',
  trueCostUsd: 'USD; total = energyCost + carbonCost + renewableDiscount + justiceAdjustment (discounts negative)',
};

/**
 * The report of a fold with its complete listing (`climateListing`); `factors` must be the set it was folded with.
 * A listing that misses calls (say, a checkpoint's newest few) is refused: the report promises every call.
 */
export function climateReport({ state, calls }: ClimateListing, factors: FactorSet): ClimateReport {
  if (factors.sha256 !== state.factorSet.sha256) {
    throw new Error(`climateReport: the state was folded with ${state.factorSet.id} (${state.factorSet.sha256}), not ${factors.id} (${factors.sha256})`);
  }
  if (calls.length !== state.totals.all.calls) {
    throw new Error(`climateReport: the listing has ${calls.length} call(s) but the totals count ${state.totals.all.calls}; list them with climateListing over the whole log`);
  }
  return {
    factorSet: state.factorSet,
    constants: { energy: factors.energy, embodied: factors.embodied, prices: factors.prices, rates: factors.rates },
    recordedFactorSets: state.inForce,
    restated: calls.some((c) => c.factorSetInForce !== null && c.factorSetInForce.sha256 !== state.factorSet.sha256),
    units: CLIMATE_UNITS,
    position: state.position,
    calls,
    totals: state.totals,
  };
}
