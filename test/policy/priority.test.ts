import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { renewableShare2024 } from '../../src/policy/climate/gridIntensity.ts';
import {
  byPriority, defaultPriorityPolicy, isClimateVulnerable, priorityAssignmentSchema, priorityOf, priorityPolicySchema,
  priorityPolicySha256, V20_MEMBERS, type PriorityAssignment, type PriorityPolicy,
} from '../../src/policy/priority/index.ts';
import { PURPOSES, regionSchema } from '../../src/policy/requestOrigin.ts';

// Changing any weight or member must come with a new policy id; update this only together with one.
const PINNED_SHA256 = 'eaa922497ebab5a83f10350d1817b7a8e40bbf76932aa6c0fa438e3d72ae4666';

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const share = (alpha2: string): number => {
  const value = renewableShare2024(alpha2);
  if (value === undefined) throw new Error(`the test needs a renewable share for ${alpha2}`);
  return value;
};

describe('climate-justice priority', () => {
  it('ranks the seed requests BD climate_adaptation > KE sustainable_agriculture > US crypto_mining, term by term', () => {
    const bd = priorityOf({ region: 'BD', purpose: 'climate_adaptation' });
    const bdFactor = 1 + 0.5 * share('BD');
    expect(bd).toMatchObject({ purposeWeight: 5.0, globalSouth: true, climateVulnerable: true, regionMultiplier: 3.0, renewableShare: share('BD'), renewableFactor: bdFactor });
    expect(bd.priority).toBe(round4(5.0 * 3.0 * bdFactor));
    expect(bd.rationale).toBe(`purpose climate_adaptation weight 5.0; BD Global South (UNCTAD) ×2.0; climate-vulnerable (V20 as of 2016-11-18) ×1.5; renewable share ${share('BD')} (Electricity Maps 2024): factor 1 + 0.5 × ${share('BD')} = ${bdFactor}; priority = 5.0 × 3.0 × ${bdFactor} = ${bd.priority}`);

    const ke = priorityOf({ region: 'KE', purpose: 'sustainable_agriculture' });
    const keFactor = 1 + 0.5 * share('KE');
    expect(ke).toMatchObject({ purposeWeight: 3.0, globalSouth: true, climateVulnerable: true, regionMultiplier: 3.0, renewableFactor: keFactor });
    expect(ke.priority).toBe(round4(3.0 * 3.0 * keFactor));

    const us = priorityOf({ region: 'US', purpose: 'crypto_mining' });
    const usFactor = 1 + 0.5 * share('US');
    expect(us).toMatchObject({ purposeWeight: 0.1, globalSouth: false, climateVulnerable: false, regionMultiplier: 1.0, renewableFactor: usFactor });
    expect(us.priority).toBe(round4(0.1 * 1.0 * usFactor));
    expect(us.rationale).toContain('US Global North (UNCTAD) ×1.0; not climate-vulnerable');

    const arrivals = [us, ke, bd];
    expect(byPriority(arrivals, (a) => a.priority).map((a) => a.region)).toEqual(['BD', 'KE', 'US']);
    for (const a of arrivals) expect(a).toMatchObject({ policyId: 'climate-justice-priority@1', policySha256: priorityPolicySha256(defaultPriorityPolicy) });
  });

  it('gives an alpha-3 region the same terms as its alpha-2 code', () => {
    const { region: _a, rationale: _r, ...byAlpha2 } = priorityOf({ region: 'BD', purpose: 'climate_adaptation' });
    const byAlpha3 = priorityOf({ region: 'bgd', purpose: 'climate_adaptation' });
    expect(byAlpha3).toMatchObject({ ...byAlpha2, region: 'BGD' });
    expect(byAlpha3.rationale).toContain('BGD (BD) Global South');
    expect([isClimateVulnerable('BGD'), isClimateVulnerable('PSE'), isClimateVulnerable('ke'), isClimateVulnerable('USA'), isClimateVulnerable('XYZ')])
      .toEqual([true, true, true, false, false]);
  });

  it('gives a purpose the policy does not list the default weight, and says so', () => {
    const a = priorityOf({ region: 'US', purpose: 'asteroid_mining' });
    expect(a.purposeWeight).toBe(defaultPriorityPolicy.defaultPurposeWeight);
    expect(a.rationale).toMatch(/^purpose asteroid_mining not in the policy, default weight 1\.0; /);
    expect(priorityOf({ region: 'US', purpose: 'constructor' }).purposeWeight).toBe(1.0);
  });

  it('records no renewable share where there is no figure, and gives no credit for one', () => {
    expect(renewableShare2024('TV')).toBeUndefined();
    const tuvalu = priorityOf({ region: 'TV', purpose: 'climate_adaptation' });
    expect(tuvalu).toMatchObject({ renewableShare: null, renewableFactor: 1, regionMultiplier: 3.0, priority: 15 });
    expect(tuvalu.rationale).toContain('no renewable share figure for TV (Electricity Maps 2024), counted as 0: factor 1.0');

    const unknown = priorityOf({ region: 'XYZ', purpose: 'general_ai_research' });
    expect(unknown).toMatchObject({ globalSouth: false, climateVulnerable: false, renewableShare: null, priority: 1 });
    expect(unknown.rationale).toContain('XYZ not classified');
  });

  it('is versioned data: it parses with its schema and its sha256 is pinned', () => {
    expect(priorityPolicySchema.parse(defaultPriorityPolicy)).toEqual(defaultPriorityPolicy);
    for (const purpose of PURPOSES) expect(defaultPriorityPolicy.purposeWeights[purpose]).toBeGreaterThan(0);
    const { members } = defaultPriorityPolicy.climateVulnerable;
    expect(members).toHaveLength(48);
    expect(new Set(members).size).toBe(members.length);
    for (const [a2, a3] of V20_MEMBERS) {
      expect(regionSchema.parse(a2)).toBe(a2);
      expect(isClimateVulnerable(a3)).toBe(true);
    }

    const sha = priorityPolicySha256(defaultPriorityPolicy);
    expect(sha).toBe(PINNED_SHA256);
    expect(priorityPolicySha256(structuredClone(defaultPriorityPolicy))).toBe(sha);
    const changed: PriorityPolicy = { ...defaultPriorityPolicy, purposeWeights: { ...defaultPriorityPolicy.purposeWeights, crypto_mining: 0.2 } };
    expect(priorityPolicySha256(changed)).not.toBe(sha);
    expect(priorityOf({ region: 'US', purpose: 'crypto_mining' }, changed).policySha256).toBe(priorityPolicySha256(changed));
    expect(() => { (defaultPriorityPolicy.purposeWeights as Record<string, number>).crypto_mining = 9; }).toThrow(TypeError);
  });

  it('orders by priority, keeping arrival order for ties, without touching the input', () => {
    const arrivals = [{ id: 'a', p: 1 }, { id: 'b', p: 2 }, { id: 'c', p: 1 }, { id: 'd', p: 2 }, { id: 'e', p: 1 }];
    expect(byPriority(arrivals, (x) => x.p).map((x) => x.id)).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(arrivals.map((x) => x.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('has a schema that parses every assignment and refuses an extra field', () => {
    expectTypeOf<z.infer<typeof priorityAssignmentSchema>>().toEqualTypeOf<PriorityAssignment>();
    for (const purpose of [...PURPOSES, 'unlisted']) {
      for (const region of ['BD', 'BGD', 'KE', 'US', 'USA', 'TV', 'DE', 'CN', 'XYZ']) {
        const a = priorityOf({ region, purpose });
        expect(priorityAssignmentSchema.parse(a)).toEqual(a);
      }
    }
    const extra = { ...priorityOf({ region: 'BD', purpose: 'climate_adaptation' }), admitted: true };
    expect(priorityAssignmentSchema.safeParse(extra).success).toBe(false);
  });
});
