import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMBER_COUNTRIES } from '../../src/policy/climate/gridIntensity.ts';
import { UNCTAD_DEVELOPED } from '../../src/policy/climate/globalSouth.ts';
import { PURPOSES } from '../../src/policy/requestOrigin.ts';
import {
  ALPHA3_TO_ALPHA2, EMERGENCY_KINDS, SIGNAL_RULES, sameRegion, TRIAGE_RULES_VERSION, TRIAGE_SIGNAL_NAMES,
  triageDecisionSchema, triageQuery, type ActiveEmergency, type TriageDecision, type TriageInput,
} from '../../src/policy/triage/index.ts';

const BANGLADESH: TriageInput = {
  text: 'Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community ' +
    'radio, estimate costs, and list the first three steps for the Barisal division.',
  region: 'BD',
  purpose: 'climate_adaptation',
};
const CRYPTO: TriageInput = { text: 'How do I maximise profit from crypto mining in Texas?', region: 'US', purpose: 'crypto_mining' };
const MACHAKOS: TriageInput = {
  text: "What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya's Machakos " +
    'County adopt, and how should they sequence the investments over three seasons?',
  region: 'KE',
  purpose: 'sustainable_agriculture',
};
const CAPITAL: TriageInput = { text: 'What is the capital of Kenya?', region: 'KE', purpose: 'global_south_education' };

const flood = (overrides: Partial<ActiveEmergency> = {}): ActiveEmergency =>
  ({ emergencyId: 'em-flood-1', region: 'BD', kind: 'flood', declaredAt: '2025-07-01T06:00:00Z', ...overrides });

/** What every decision must satisfy, whatever the input. */
function expectWellFormed(decision: TriageDecision): void {
  expect(triageDecisionSchema.parse(decision)).toEqual(decision);
  expect(decision.signals.map((s) => s.name)).toEqual(TRIAGE_SIGNAL_NAMES);
  const sum = decision.signals.reduce((total, s) => total + s.contribution, 0);
  // Complexity is defined as the sum of contributions, clamped to [0, 1] and rounded to three decimals.
  expect(decision.complexity).toBe(Math.round(Math.min(1, Math.max(0, sum)) * 1000) / 1000);
  expect(Math.abs(sum - decision.complexity)).toBeLessThanOrEqual(0.0005 + 1e-9);
  for (const s of decision.signals) expect(s.contribution).toBeCloseTo(s.value * s.weight, 6);
  for (const name of TRIAGE_SIGNAL_NAMES) expect(decision.rationale).toContain(name);
  expect(decision.rulesVersion).toBe(TRIAGE_RULES_VERSION);
}

describe('triage signals', () => {
  it('has weights that sum to 1, so complexity is the plain sum of contributions', () => {
    expect(SIGNAL_RULES.reduce((sum, rule) => sum + rule.weight, 0)).toBeCloseTo(1, 12);
  });

  it('reads the Bangladesh query as many deliverables, domain terms and places', () => {
    const byName = Object.fromEntries(triageQuery(BANGLADESH).signals.map((s) => [s.name, s]));
    expect(byName['deliverables']?.value).toBe(1);
    expect(byName['named_entities']?.detail).toContain('Bangladesh, SMS, Barisal');
    expect(byName['domain_terms']?.detail).toContain('early warning');
    expect(byName['questions']?.value).toBe(0);
  });

  it('splits a possessive into two names and does not count the sentence-initial word', () => {
    const entities = triageQuery(MACHAKOS).signals.find((s) => s.name === 'named_entities');
    expect(entities?.detail).toContain('Kenya, Machakos County');
    expect(entities?.detail).not.toContain('What');
  });

  it('counts a second question inside one sentence', () => {
    expect(triageQuery(MACHAKOS).signals.find((s) => s.name === 'questions')?.detail).toMatch(/^2 questions/);
  });

  it('counts question marks of other scripts, full-width and Arabic, as "?" is counted; a semicolon asks nothing', () => {
    const questions = (text: string) => triageQuery({ text, region: 'JP', purpose: 'climate_adaptation' }).signals.find((s) => s.name === 'questions')?.detail;
    expect(questions('洪水の早期警報は？避難所はどこ？')).toMatch(/^2 questions/);
    expect(questions('ما هي أفضل المحاصيل؟')).toMatch(/^1 question/);
    expect(questions('Install river gauges; train the volunteers.')).toMatch(/^0 questions/);
    expect(questions('洪水の早期警報は?避難所はどこ?')).toBe(questions('洪水の早期警報は？避難所はどこ？'));
  });

  it('scores vague wording as ambiguity', () => {
    const text = 'Maybe give me some ideas for solar or something, it depends, etc.';
    expect(triageQuery({ text, region: 'KE', purpose: 'renewable_energy_optimization' }).signals.find((s) => s.name === 'ambiguity')?.value).toBe(1);
  });
});

describe('triageQuery: the founding demo queries', () => {
  it('sends the Bangladesh early-warning design to a council with an economist', () => {
    const decision = triageQuery(BANGLADESH);
    expectWellFormed(decision);
    expect(decision.mode).toBe('council');
    expect(decision.complexity).toBeGreaterThanOrEqual(0.5);
    expect(decision.roles).toEqual(['analyst', 'critic', 'domain_expert', 'economist']);
    expect(decision.rationale).toMatch(/economist because it asks about money/);
    expect(decision.emergency).toBeNull();
  });

  it('answers the crypto-mining question express', () => {
    const decision = triageQuery(CRYPTO);
    expectWellFormed(decision);
    expect(decision.mode).toBe('express');
    expect(decision.roles).toEqual(['express']);
  });

  it('sends the Machakos crop-sequencing question to a council', () => {
    const decision = triageQuery(MACHAKOS);
    expectWellFormed(decision);
    expect(decision.mode).toBe('council');
    expect(decision.complexity).toBeGreaterThanOrEqual(0.5);
    expect(decision.roles.slice(0, 3)).toEqual(['analyst', 'critic', 'domain_expert']);
  });

  it('answers a short factual question express, well below the threshold and with high confidence', () => {
    const decision = triageQuery(CAPITAL);
    expectWellFormed(decision);
    expect(decision.mode).toBe('express');
    expect(decision.complexity).toBeLessThan(0.25);
    expect(decision.confidence).toBeGreaterThan(0.8);
  });

  it('adds local_context, not economist, when places are named but money is not', () => {
    const text = 'Compare the monsoon flood risk of Dhaka and Sylhet, list the drivers, and evaluate which early-warning design suits each city.';
    const decision = triageQuery({ text, region: 'BD', purpose: 'climate_science_research' });
    expect(decision.mode).toBe('council');
    expect(decision.roles).toEqual(['analyst', 'critic', 'domain_expert', 'local_context']);
    expect(decision.rationale).toContain('local_context because it names Dhaka, Sylhet');
  });

  it('keeps three roles when the council has neither money nor places to add', () => {
    const text = 'design and compare solar microgrid and battery storage strategies, estimate yield, list steps, and outline a plan.';
    const decision = triageQuery({ text, region: 'KE', purpose: 'renewable_energy_optimization' });
    expect(decision.mode).toBe('council');
    expect(decision.roles).toEqual(['analyst', 'critic', 'domain_expert']);
  });
});

describe('triageQuery: confidence', () => {
  it('is lower near the threshold than far from it', () => {
    const far = triageQuery(CAPITAL).confidence;
    const near = triageQuery(MACHAKOS, { councilThreshold: 0.6 }).confidence;
    expect(near).toBeLessThan(far);
    expect(near).toBeGreaterThanOrEqual(0.5);
  });

  it('follows the documented formula', () => {
    const decision = triageQuery(CAPITAL);
    const margin = (0.5 - decision.complexity) / 0.5;
    const agreement = decision.signals.reduce((sum, s) => sum + (s.value < 0.5 ? s.weight : 0), 0);
    const expected = Math.min(0.99, Math.max(0.5, 0.5 + 0.49 * margin * (0.5 + 0.5 * agreement) * 1));
    expect(decision.confidence).toBe(Math.round(expected * 1000) / 1000);
  });

  it('is at its floor for blank text, which still triages express', () => {
    for (const text of ['', '   ', '\n\t ']) {
      const decision = triageQuery({ text, region: 'KE', purpose: 'climate_adaptation' });
      expectWellFormed(decision);
      expect(decision.mode).toBe('express');
      expect(decision.complexity).toBe(0);
      expect(decision.confidence).toBe(0.5);
    }
  });

  it('moves the mode with the threshold', () => {
    expect(triageQuery(MACHAKOS, { councilThreshold: 0.9 }).mode).toBe('express');
    expect(triageQuery(CRYPTO, { councilThreshold: 0.1 }).mode).toBe('council');
    expect(() => triageQuery(CAPITAL, { councilThreshold: 0 })).toThrow(RangeError);
    expect(() => triageQuery(CAPITAL, { councilThreshold: Number.NaN })).toThrow(RangeError);
  });
});

describe('triageQuery: emergencies', () => {
  it('switches to emergency mode for a flood declared in the alpha-3 form of the request region', () => {
    const decision = triageQuery(BANGLADESH, { emergencies: [flood({ region: 'BGD' })] });
    expectWellFormed(decision);
    expect(decision.mode).toBe('emergency');
    expect(decision.roles).toEqual(['hydrologist', 'logistics', 'public_health']);
    expect(decision.confidence).toBe(0.99);
    expect(decision.emergency).toEqual({ emergencyId: 'em-flood-1', region: 'BGD', kind: 'flood' });
    expect(decision.rationale).toContain('Emergency mode: flood emergency em-flood-1');
  });

  it('switches a simple disaster_response question too, with the drought roles', () => {
    const input = { text: 'Where is water available?', region: 'bgd', purpose: 'disaster_response' };
    const decision = triageQuery(input, { emergencies: [flood({ kind: 'drought' })] });
    expect(decision.mode).toBe('emergency');
    expect(decision.roles).toEqual(['agronomist', 'water_engineer', 'food_security']);
  });

  it('gives every emergency kind three valid roles', () => {
    for (const kind of EMERGENCY_KINDS) {
      const decision = triageQuery(BANGLADESH, { emergencies: [flood({ kind })] });
      expectWellFormed(decision);
      expect(decision.roles).toHaveLength(3);
    }
  });

  it('does not switch when the purpose does not qualify, and says the emergency was considered', () => {
    const decision = triageQuery({ ...CRYPTO, region: 'BD' }, { emergencies: [flood()] });
    expect(decision.mode).toBe('express');
    expect(decision.emergency).toBeNull();
    expect(decision.rationale).toContain('flood em-flood-1');
    expect(decision.rationale).toContain('does not change the mode');
  });

  it('ignores an emergency in another region without mentioning it', () => {
    const decision = triageQuery(BANGLADESH, { emergencies: [flood({ region: 'PAK' })] });
    expect(decision.mode).toBe('council');
    expect(decision.rationale).not.toContain('em-flood-1');
  });

  it('picks the earliest declared emergency, ties by id, whatever the list order', () => {
    const later = flood({ emergencyId: 'a-cyclone', kind: 'cyclone', declaredAt: '2025-07-02T00:00:00Z' });
    const earlierB = flood({ emergencyId: 'b-flood', declaredAt: '2025-07-01T00:00:00Z' });
    const earlierA = flood({ emergencyId: 'a-drought', kind: 'drought', declaredAt: '2025-07-01T00:00:00.000Z' });
    const one = triageQuery(BANGLADESH, { emergencies: [later, earlierB, earlierA] });
    const two = triageQuery(BANGLADESH, { emergencies: [earlierA, later, earlierB] });
    expect(one.emergency?.emergencyId).toBe('a-drought');
    expect(two).toEqual(one);
  });
});

describe('sameRegion', () => {
  it('matches alpha-2 and alpha-3 forms of a country, case-insensitively', () => {
    expect(sameRegion('BD', 'BGD')).toBe(true);
    expect(sameRegion('bgd', ' bd ')).toBe(true);
    expect(sameRegion('KEN', 'KEN')).toBe(true);
    expect(sameRegion('MZ', 'MOZ')).toBe(true);
    expect(sameRegion('BD', 'IN')).toBe(false);
    expect(sameRegion('BGD', 'IND')).toBe(false);
    expect(sameRegion('', '')).toBe(false);
  });

  it('agrees with the alpha-3 tables the climate policy already uses', () => {
    expect(ALPHA3_TO_ALPHA2.size).toBe(249);
    for (const [alpha2, alpha3] of UNCTAD_DEVELOPED) expect(ALPHA3_TO_ALPHA2.get(alpha3)).toBe(alpha2);
    for (const { alpha2, alpha3 } of EMBER_COUNTRIES) expect(ALPHA3_TO_ALPHA2.get(alpha3)).toBe(alpha2);
  });
});

describe('triageDecisionSchema', () => {
  it('rejects an extra field, a role out of form and a complexity above 1', () => {
    const decision = triageQuery(BANGLADESH);
    expect(triageDecisionSchema.safeParse({ ...decision, extra: 1 }).success).toBe(false);
    expect(triageDecisionSchema.safeParse({ ...decision, roles: ['Analyst'] }).success).toBe(false);
    expect(triageDecisionSchema.safeParse({ ...decision, roles: [] }).success).toBe(false);
    expect(triageDecisionSchema.safeParse({ ...decision, complexity: 1.2 }).success).toBe(false);
    expect(triageDecisionSchema.safeParse({ ...decision, confidence: Number.POSITIVE_INFINITY }).success).toBe(false);
  });
});

describe('triageQuery: determinism and totality', () => {
  it('returns deep-equal decisions for the same input', () => {
    for (const input of [BANGLADESH, CRYPTO, MACHAKOS, CAPITAL]) {
      expect(triageQuery({ ...input }, { emergencies: [flood()] })).toEqual(triageQuery(input, { emergencies: [flood()] }));
    }
  });

  it('never throws and always yields a schema-valid decision, for any text, region and purpose', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), fc.lorem({ maxCount: 40, mode: 'sentences' }));
    const purpose = fc.oneof(fc.constantFrom(...PURPOSES), fc.string());
    const region = fc.oneof(fc.constantFrom('BD', 'BGD', 'KE', 'us', ''), fc.string({ maxLength: 4 }));
    fc.assert(fc.property(text, region, purpose, (t, r, p) => {
      const decision = triageQuery({ text: t, region: r, purpose: p }, { emergencies: [flood()] });
      expectWellFormed(decision);
      expect(decision.complexity).toBeGreaterThanOrEqual(0);
      expect(decision.complexity).toBeLessThanOrEqual(1);
      expect(decision.confidence).toBeGreaterThanOrEqual(0.5);
      expect(decision.confidence).toBeLessThanOrEqual(0.99);
      expect(triageQuery({ text: t, region: r, purpose: p }, { emergencies: [flood()] })).toEqual(decision);
    }), { numRuns: 100 });
  });
});
