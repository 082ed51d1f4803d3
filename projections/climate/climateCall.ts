import type { FactorSet } from '../../src/policy/climate/factorSet.ts';
import { callEmissions } from './callEmissions.ts';
import { callEnergy } from './callEnergy.ts';
import { classifyOrigin, resolveGrid, resolveModel, resolvePue } from './resolveFactors.ts';
import { spreadOf, type Spread } from './spread.ts';
import { trueCost, type OriginClass, type TrueCost } from './trueCost.ts';

/** What the log says about one call (a `model.responded`, or a `model.failed` it billed) and the origin of the turn it served. */
export interface CallFacts {
  model: string;
  provider: string;
  /** The inference region the model reported: an ISO code, `local` or `unknown`. */
  inferenceRegion: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  originRegion: string | null;
  purpose: string | null;
  turn: number | null;
}

/**
 * Every input the method used for one call, so anyone can recompute the outputs by hand (docs/climate.md).
 * Parameters in billions, latency in s, grid intensity in gCO2e/kWh.
 */
export interface CallInputs {
  factorSetId: string;
  factorSetSha256: string;
  model: string;
  /** The factor set's key for the model; null when the default size class stood in for an unknown model. */
  modelKey: string | null;
  modelSizeGuessed: boolean;
  architecture: 'dense' | 'moe';
  provider: string;
  outputTokens: number;
  /** Recorded but unused by the method, which counts output tokens only. */
  inputTokens: number;
  /** The recorded request latency; null when none was measured (a recorded 0 ms, e.g. an instant scripted reply). */
  requestLatencyS: number | null;
  totalParametersB: Spread;
  activeParametersB: Spread;
  gpus: Spread;
  batchSize: number;
  pue: Spread;
  pueFromProvider: boolean;
  inferenceRegion: string;
  gridRegion: string;
  gridIntensityGco2PerKwh: number;
  gridDataYear: number;
  /** False when the figure is for gridDataYear or a later year. */
  gridDataYearExact: boolean;
  renewableShare: number | null;
  renewableShareYear: number | null;
  originRegion: string | null;
  originClass: OriginClass;
  purpose: string | null;
  turn: number | null;
}

export interface CallOutputs {
  generationLatencyS: Spread;
  /** True when the recorded request latency, not the model estimate, was the generation latency (central case). */
  latencyCapped: boolean;
  gpuWhPerToken: Spread;
  serverWh: Spread;
  gpuWh: Spread;
  energyWh: Spread;
  usageGco2e: Spread;
  embodiedGco2e: Spread;
  /** USD, computed at the central energy and emissions. */
  trueCostUsd: TrueCost;
}

export interface CallImpact {
  flags: string[];
  inputs: CallInputs;
  outputs: CallOutputs;
}

const MS_PER_S = 1000;

/** The full climate account of one call under one factor set. */
export function climateCall(facts: CallFacts, factors: FactorSet): CallImpact {
  const model = resolveModel(facts.model, factors);
  const { pue, fromProvider } = resolvePue(facts.provider, factors);
  const grid = resolveGrid(facts.inferenceRegion, factors);
  const originClass = classifyOrigin(facts.originRegion, factors);
  const requestLatencyS = facts.latencyMs > 0 ? facts.latencyMs / MS_PER_S : null;

  const energy = callEnergy({
    outputTokens: facts.outputTokens,
    requestLatencyS,
    activeBillions: spreadOf(model.size.activeBillions),
    totalBillions: spreadOf(model.size.totalBillions),
    pue: spreadOf(pue),
  }, factors);
  const emissions = callEmissions(energy, grid.gco2PerKwh, factors);
  const cost = trueCost({
    energyWh: energy.wh.central,
    usageGco2e: emissions.usageGco2e.central,
    embodiedGco2e: emissions.embodiedGco2e.central,
    renewableShare: grid.renewableShare,
    origin: originClass,
  }, factors);

  const flags = [
    ...(model.key === null ? ['model-unknown-default-size'] : []),
    ...(model.size.guessed ? ['model-size-guessed'] : []),
    ...(fromProvider ? [] : ['pue-default']),
    ...(grid.key === 'WORLD' ? ['grid-world-average'] : []),
    ...(grid.dataYearExact ? [] : ['grid-year-lower-bound']),
    ...(grid.renewableShare === null ? ['renewable-share-unknown'] : []),
    ...(requestLatencyS === null ? ['latency-not-measured'] : []),
    ...(originClass === 'unknown' ? ['origin-unknown'] : []),
  ];
  const points = energy.points;
  const pick = (f: (p: typeof points.central) => number): Spread => ({ min: f(points.min), central: f(points.central), max: f(points.max) });

  return {
    flags,
    inputs: {
      factorSetId: factors.id,
      factorSetSha256: factors.sha256,
      model: facts.model,
      modelKey: model.key,
      modelSizeGuessed: model.size.guessed,
      architecture: model.size.architecture,
      provider: facts.provider,
      outputTokens: facts.outputTokens,
      inputTokens: facts.inputTokens,
      requestLatencyS,
      totalParametersB: spreadOf(model.size.totalBillions),
      activeParametersB: spreadOf(model.size.activeBillions),
      gpus: energy.gpus,
      batchSize: factors.energy.batchSize,
      pue: spreadOf(pue),
      pueFromProvider: fromProvider,
      inferenceRegion: facts.inferenceRegion,
      gridRegion: grid.key,
      gridIntensityGco2PerKwh: grid.gco2PerKwh,
      gridDataYear: grid.dataYear,
      gridDataYearExact: grid.dataYearExact,
      renewableShare: grid.renewableShare,
      renewableShareYear: grid.renewableShareYear,
      originRegion: facts.originRegion,
      originClass,
      purpose: facts.purpose,
      turn: facts.turn,
    },
    outputs: {
      generationLatencyS: energy.generationLatencyS,
      latencyCapped: points.central.latencyCapped,
      gpuWhPerToken: pick((p) => p.gpuWhPerToken),
      serverWh: pick((p) => p.serverWh),
      gpuWh: pick((p) => p.gpuWh),
      energyWh: energy.wh,
      usageGco2e: emissions.usageGco2e,
      embodiedGco2e: emissions.embodiedGco2e,
      trueCostUsd: cost,
    },
  };
}
