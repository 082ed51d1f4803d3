import { describe, expect, it } from 'vitest';
import { callEnergy } from '../../../projections/climate/callEnergy.ts';
import { callEmissions } from '../../../projections/climate/callEmissions.ts';
import { climateCall } from '../../../projections/climate/climateCall.ts';
import { defaultFactorSet } from '../../../src/policy/climate/factorSets.ts';
import { expectClose, expectSpread, expectTrueCost, facts, flat } from './climateFixtures.ts';

/*
 * Golden vectors, worked by hand from the formula with the default set ecologits-2025.1-ember-2024:
 *   e^(β·B) = e^(−0.011206 × 64) = e^(−0.717184) = 0.48812488
 *   GPU Wh/token(P) = 1.1665e-6 × 0.48812488 × P + 4.0529e-5
 *   per-token latency(P) = 6.785e-4 × P + 3.119e-4 × 64 + 0.01947 = 6.785e-4 × P + 0.0394316 s
 *   GPUs = 2^⌈log2 ⌈1.2 × P_total × 2 / 80⌉⌉
 *   ΔT = min(recorded latency, tokens × per-token latency)
 *   server Wh = ΔT/3600 h × 1200 W × GPUs/8 / 64
 *   energy Wh = PUE × (server Wh + GPUs × tokens × GPU Wh/token)
 *   usage g = energy Wh / 1000 × grid gCO2e/kWh
 *   embodied g = (GPUs/8 × 5700 + GPUs × 164) kg × 1000 × ΔT / (3 × 365 × 86400 s × 64)
 *   cost: energy = kWh × 0.10 USD; carbon = usage g × 100 USD/t / 1e6; renewable = −0.15 × share × energy;
 *         justice = −0.30 × energy (Global South origin) or +0.20 × energy (Global North origin)
 * min/central/max take active and total parameters (and PUE) at the low end, the midpoint and the high end.
 */
describe('climate golden vectors (default factor set)', () => {
  it('A: gpt-4o in the US for a Kenyan request, 500 output tokens in 12 s (the recorded latency is the smaller term)', () => {
    // Sizes 440B total, 55 / 137.5 / 220B active (guessed). GPUs: 1.2 × 440 × 2 / 80 = 13.2 → 14 → 16.
    // GPU Wh/token: 55 → 7.1845872e-5; 137.5 → 1.1882118e-4; 220 → 1.65796488e-4.
    // Model latency at 137.5B: 500 × (0.09329375 + 0.0394316) = 66.362675 s > 12 s → ΔT = 12 s (all three ends).
    // Server: 12/3600 × 1200 × 16/8 / 64 = 0.125 Wh. GPUs (central): 16 × 500 × 1.1882118e-4 = 0.95056944 Wh.
    // Energy (PUE 1.2): min 1.2 × (0.125 + 0.57476698) = 0.83972037; central 1.2 × 1.07556944 = 1.29068333;
    //   max 1.2 × (0.125 + 1.32637191) = 1.74164629 Wh.
    // Usage, US 383.55 g/kWh: central 1.29068333e-3 × 383.55 = 0.49504159 g.
    // Embodied: (2 × 5700 + 16 × 164) = 14 024 kg × 1000 × 12 / 6 054 912 000 = 0.02779363 g.
    // Cost: energy 1.29068333e-4; carbon 4.9504159e-5; renewable −0.15 × 0.23 × 1.29068333e-4 = −4.4528575e-6;
    //   justice (KE, Global South) −0.3 × 1.29068333e-4 = −3.8720500e-5; total 1.35399135e-4 USD.
    const call = climateCall(facts({}), defaultFactorSet);
    expect(call.inputs).toMatchObject({ modelKey: 'gpt-4o', modelSizeGuessed: true, gridRegion: 'US', gridIntensityGco2PerKwh: 383.55, gridDataYear: 2024, renewableShare: 0.23, originClass: 'global-south', requestLatencyS: 12 });
    expect(call.inputs.gpus).toEqual(flat(16));
    expect(call.inputs.activeParametersB).toEqual({ min: 55, central: 137.5, max: 220 });
    expect(call.outputs.latencyCapped).toBe(true);
    expectSpread(call.outputs.generationLatencyS, flat(12), 'ΔT');
    expectSpread(call.outputs.gpuWhPerToken, { min: 7.184587212097281e-5, central: 1.1882118030243205e-4, max: 1.6579648848389129e-4 }, 'GPU Wh/token');
    expectSpread(call.outputs.serverWh, flat(0.125), 'server Wh');
    expectSpread(call.outputs.energyWh, { min: 0.8397203723613389, central: 1.2906833309033476, max: 1.7416462894453562 }, 'Wh');
    expectSpread(call.outputs.usageGco2e, { min: 0.3220747488191915, central: 0.495041591567979, max: 0.6680084343167664 }, 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.02779363267376966), 'embodied g');
    expectTrueCost(call.outputs.trueCostUsd, {
      energyCost: 1.2906833309033478e-4, carbonCost: 4.9504159156797895e-5, renewableDiscount: -4.4528574916165504e-6,
      justiceAdjustment: -3.872049992710043e-5, total: 1.3539913482841568e-4,
    });
    expect(call.flags).toEqual(['model-size-guessed']);
  });

  it('B: gpt-4o-mini in the US for a US request, 1 200 tokens in 9 s (dense model with a size range)', () => {
    // Dense 8 / 18 / 28B (total = active). GPUs: 1.2 × 28 × 2 / 80 = 0.84 → 1 at every end.
    // GPU Wh/token: 8 → 4.5084181e-5; 18 → 5.0778158e-5; 28 → 5.6472135e-5.
    // Model latency at 8B: 1200 × (0.005428 + 0.0394316) = 53.83 s > 9 s → ΔT = 9 s.
    // Server: 9/3600 × 1200 × 1/8 / 64 = 0.005859375 Wh.
    // Energy: min 1.2 × (0.005859375 + 1200 × 4.5084181e-5 = 0.05410102) = 0.07195247;
    //   central 1.2 × (0.005859375 + 0.06093379) = 0.08015180; max 1.2 × (0.005859375 + 0.06776656) = 0.08835112 Wh.
    // Usage: central 8.015180e-5 kWh × 383.55 = 0.03074222 g. Embodied: (1/8 × 5700 + 164) = 876.5 kg × 1000 × 9 /
    //   6 054 912 000 = 0.00130283 g.
    // Cost: energy 8.015180e-6; carbon 3.074222e-6; renewable −0.15 × 0.23 × 8.015180e-6 = −2.765237e-7;
    //   justice (US, Global North) +0.2 × 8.015180e-6 = +1.603036e-6; total 1.2415914e-5 USD.
    const call = climateCall(facts({ model: 'gpt-4o-mini-2024-07-18', outputTokens: 1200, latencyMs: 9000, originRegion: 'US' }), defaultFactorSet);
    expect(call.inputs.modelKey).toBe('gpt-4o-mini');
    expect(call.inputs.gpus).toEqual(flat(1));
    expect(call.inputs.originClass).toBe('global-north');
    expectSpread(call.outputs.energyWh, { min: 0.07195247121515648, central: 0.0801517977341021, max: 0.0883511242530477 }, 'Wh');
    expectSpread(call.outputs.usageGco2e, { min: 0.02759737033457327, central: 0.03074222202091486, max: 0.033887073707256445 }, 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.0013028265315829528), 'embodied g');
    expectTrueCost(call.outputs.trueCostUsd, {
      energyCost: 8.01517977341021e-6, carbonCost: 3.074222202091486e-6, renewableDiscount: -2.765237021826523e-7,
      justiceAdjustment: 1.6030359546820423e-6, total: 1.2415914228001085e-5,
    });
  });

  it('C: claude-sonnet-4 (Anthropic PUE 1.09–1.14) for a Bangladeshi request, 2 000 tokens in 45 s', () => {
    // 440B total, 55 / 137.5 / 220B active, 16 GPUs; PUE 1.09 / 1.115 / 1.14 (EcoLogits: AWS and Google).
    // Model latency at 55B: 2000 × (0.0373175 + 0.0394316) = 153.50 s > 45 s → ΔT = 45 s.
    // Server: 45/3600 × 1200 × 2 / 64 = 0.46875 Wh. GPUs: 16 × 2000 × {7.1845872e-5, 1.1882118e-4, 1.65796488e-4}
    //   = {2.29906791, 3.80227777, 5.30548763} Wh.
    // Energy: 1.09 × 2.76781791 = 3.01692152; 1.115 × 4.27102777 = 4.76219596; 1.14 × 5.77423763 = 6.58263090 Wh.
    // Usage: central 4.76219596e-3 × 383.55 = 1.82654026 g. Embodied: 14 024 × 1000 × 45 / 6 054 912 000 = 0.10422612 g.
    // Cost: energy 4.76219596e-4; carbon 1.82654026e-4; renewable −1.6429576e-5; justice (BD) −1.42865879e-4;
    //   total 4.99578168e-4 USD.
    const call = climateCall(facts({ model: 'claude-sonnet-4-20250514', provider: 'anthropic', outputTokens: 2000, latencyMs: 45_000, originRegion: 'BD' }), defaultFactorSet);
    expectSpread(call.inputs.pue, { min: 1.09, central: 1.115, max: 1.14 }, 'PUE');
    expect(call.inputs.pueFromProvider).toBe(true);
    expectSpread(call.outputs.gpuWh, { min: 2.29906790787113, central: 3.8022777696778256, max: 5.305487631484521 }, 'GPU Wh');
    expectSpread(call.outputs.energyWh, { min: 3.016921519579532, central: 4.762195963190775, max: 6.5826308998923535 }, 'Wh');
    expectSpread(call.outputs.usageGco2e, { min: 1.1571402488347295, central: 1.826540261681822, max: 2.524768081653712 }, 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.10422612252663623), 'embodied g');
    const cost = call.outputs.trueCostUsd;
    expectClose(cost.justiceAdjustment, -1.4286587889572328e-4, 'justice adjustment');
    expectClose(cost.total, 4.995781675185283e-4, 'total');
  });

  it('D: llama-3.1-8b self-hosted in Sweden, 200 tokens, 30 s recorded (the model latency is the smaller term)', () => {
    // Dense 8.03B (known, not guessed), 1 GPU, default PUE 1.2. Per-token latency 6.785e-4 × 8.03 + 0.0394316
    //   = 0.04488 s; × 200 = 8.975991 s < 30 s → ΔT = 8.975991 s (not capped).
    // Server: 8.975991/3600 × 1200 × 1/8 / 64 = 0.00584374 Wh. GPU: 200 × 4.5101263e-5 = 0.00902025 Wh.
    // Energy: 1.2 × 0.01486400 = 0.01783680 Wh. Usage, SE 35.89 g/kWh: 1.783680e-5 × 35.89 = 0.00064016 g.
    // Embodied: 876.5 × 1000 × 8.975991 / 6 054 912 000 = 0.00129935 g.
    // Cost: energy 1.7836796e-6; carbon 6.401626e-8; renewable (SE 0.69) −0.15 × 0.69 × 1.7836796e-6 = −1.846108e-7;
    //   justice (NG, Global South) −5.351039e-7; total 1.1279812e-6 USD.
    const call = climateCall(facts({ model: 'llama3.1:8b', provider: 'openai-compatible', inferenceRegion: 'SE', outputTokens: 200, latencyMs: 30_000, originRegion: 'NG' }), defaultFactorSet);
    expect(call.inputs).toMatchObject({ modelKey: 'llama-3.1-8b', modelSizeGuessed: false, pueFromProvider: false, renewableShare: 0.69 });
    expect(call.outputs.latencyCapped).toBe(false);
    expectSpread(call.outputs.generationLatencyS, flat(8.975991), 'ΔT');
    expectSpread(call.outputs.energyWh, flat(0.017836796167868884), 'Wh');
    expectSpread(call.outputs.usageGco2e, flat(0.0006401626144648142), 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.0012993510246722), 'embodied g');
    expectClose(call.outputs.trueCostUsd.renewableDiscount, -1.8461084033744296e-7, 'renewable discount');
    expectClose(call.outputs.trueCostUsd.total, 1.1279811528598603e-6, 'total');
    expect(call.flags).toEqual(['pue-default', 'grid-year-lower-bound']);
  });

  it('E: llama-3.1-70b in India with no measured latency (0 ms recorded), 800 tokens', () => {
    // Dense 70.6B; GPUs: 1.2 × 70.6 × 2 / 80 = 2.118 → 3 → 4. No recorded latency, so ΔT is the model's:
    //   800 × (6.785e-4 × 70.6 + 0.0394316) = 800 × 0.0873337 = 69.86696 s.
    // Server: 69.86696/3600 × 1200 × 4/8 / 64 = 0.18194521 Wh. GPUs: 4 × 800 × 8.0728476e-5 = 0.25833112 Wh.
    // Energy: 1.2 × 0.44027633 = 0.52833160 Wh. Usage, IN 708.96: 0.37456597 g.
    // Embodied: (4/8 × 5700 + 4 × 164) = 3506 kg × 1000 × 69.86696 / 6 054 912 000 = 0.04045535 g.
    // Cost: energy 5.2833160e-5; carbon 3.7456597e-5; renewable (0.22) −1.7434943e-6; justice (IN) −1.5849948e-5;
    //   total 7.2696314e-5 USD.
    const call = climateCall(facts({ model: 'llama-3.1-70b', provider: 'openai-compatible', inferenceRegion: 'IN', outputTokens: 800, latencyMs: 0, originRegion: 'IN' }), defaultFactorSet);
    expect(call.inputs.requestLatencyS).toBeNull();
    expect(call.inputs.gpus).toEqual(flat(4));
    expectSpread(call.outputs.generationLatencyS, flat(69.86696), 'ΔT');
    expectSpread(call.outputs.energyWh, flat(0.5283315972633493), 'Wh');
    expectSpread(call.outputs.usageGco2e, flat(0.37456596919582413), 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.04045534629735329), 'embodied g');
    expectClose(call.outputs.trueCostUsd.total, 7.269631445704781e-5, 'total');
    expect(call.flags).toContain('latency-not-measured');
  });

  it('F: an unknown model on this machine (`local`) with no known origin: default size class, world grid, flagged', () => {
    // Default class = GPT-4o class (440B, 55–220B active), 16 GPUs, default PUE 1.2; ΔT = min(5 s, ≥ 23 s) = 5 s.
    // Server: 5/3600 × 1200 × 2 / 64 = 0.05208333 Wh. Energy: 1.2 × (0.05208333 + 300 × {7.1845872e-5, 1.1882118e-4,
    //   1.65796488e-4} × 16) = {0.47633222, 0.74691000, 1.01748777} Wh. Usage, Ember WORLD 472.94: 0.35324361 g.
    // Embodied: 14 024 × 1000 × 5 / 6 054 912 000 = 0.01158068 g.
    // Cost: energy 7.4691000e-5; carbon 3.5324361e-5; no renewable share known → 0; origin unknown → 0;
    //   total 1.10015361e-4 USD.
    const call = climateCall(facts({ model: 'mystery-model-x', provider: 'acme', inferenceRegion: 'local', outputTokens: 300, latencyMs: 5000, originRegion: null, purpose: null }), defaultFactorSet);
    expect(call.inputs).toMatchObject({ modelKey: null, gridRegion: 'WORLD', gridIntensityGco2PerKwh: 472.94, renewableShare: null, originClass: 'unknown' });
    expectSpread(call.outputs.energyWh, { min: 0.47633222341680337, central: 0.7469099985420087, max: 1.0174877736672137 }, 'Wh');
    expectSpread(call.outputs.usageGco2e, { min: 0.225276561742743, central: 0.35324361471045757, max: 0.48121066767817205 }, 'usage g');
    expectSpread(call.outputs.embodiedGco2e, flat(0.011580680280737358), 'embodied g');
    expect(call.outputs.trueCostUsd.renewableDiscount).toBe(0);
    expect(call.outputs.trueCostUsd.justiceAdjustment).toBe(0);
    expectClose(call.outputs.trueCostUsd.total, 1.1001536132524663e-4, 'total');
    expect(call.flags).toEqual(['model-unknown-default-size', 'model-size-guessed', 'pue-default', 'grid-world-average', 'grid-year-lower-bound', 'renewable-share-unknown', 'origin-unknown']);
  });

  it('matches the figures EcoLogits\' own llm.py printed for 132B active / 440B total, 10 000 tokens, no latency cap', () => {
    // EcoLogits' DAG output for these inputs with its full-precision constants (GPU_ENERGY_ALPHA 1.1665273170451914e-06
    // etc.), PUE 1.2 and 0.38355 kgCO2e/kWh: gpu_required_count 16, generation_latency 1290.0046641974661 s,
    // gpu_energy 0.0011569191456103042 kWh, server_energy 0.013437548585390272 kWh, request_energy
    // 0.03833790589818617 kWh, request_usage_gwp 0.014704503807249306 kg, request_embodied_gwp 0.0029878263153461627 kg.
    const ecologits = {
      energy: {
        ...defaultFactorSet.energy,
        gpuEnergyAlpha: 1.1665273170451914e-6, gpuEnergyBeta: -0.011205921025579175, gpuEnergyGamma: 4.052928146734005e-5,
        latencyAlpha: 0.0006785088094353663, latencyBeta: 0.0003119310311688259, latencyGamma: 0.019473717579473387,
      },
      embodied: defaultFactorSet.embodied,
    };
    const energy = callEnergy({ outputTokens: 10_000, requestLatencyS: null, activeBillions: flat(132), totalBillions: flat(440), pue: flat(1.2) }, ecologits);
    const point = energy.points.central;
    expect(point.gpus).toBe(16);
    expectClose(point.generationLatencyS, 1290.0046641974661, 'latency');
    expectClose(point.gpuWhPerToken * 10_000, 1.1569191456103042, 'GPU Wh (one GPU)');
    expectClose(point.serverWh, 13.437548585390272, 'server Wh');
    expectClose(point.energyWh, 38.33790589818617, 'request Wh');
    const emissions = callEmissions(energy, 383.55, ecologits);
    expectClose(emissions.usageGco2e.central, 14.704503807249306, 'usage g');
    expectClose(emissions.embodiedGco2e.central, 2.9878263153461627, 'embodied g');
  });
});
