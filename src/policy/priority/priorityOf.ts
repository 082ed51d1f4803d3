import { z } from 'zod';
import { classifyOrigin } from '../../../projections/climate/resolveFactors.ts';
import { defaultFactorSet } from '../climate/factorSets.ts';
import { RENEWABLE_SHARE_YEAR, renewableShare2024 } from '../climate/gridIntensity.ts';
import { V20_MEMBERS } from './climateVulnerable.ts';
import { defaultPriorityPolicy, priorityPolicySha256, type PriorityPolicy } from './priorityPolicy.ts';

/**
 * Climate-justice priority, from the founding design:
 *
 *   priority = purpose weight × region multiplier × (1 + renewableWeight × renewable share of the region's grid)
 *
 * The region multiplier is the Global South multiplier (UNCTAD developing economies, by the default climate factor
 * set's classification) times the climate-vulnerable multiplier (V20 membership, from the policy). Renewable shares
 * are Electricity Maps' figures in the pinned @tgwf/co2; a region without one counts as 0, so no credit is given
 * without evidence. Every term is recorded with the assignment, so an admission decision can be explained and
 * recomputed.
 */
export interface PriorityAssignment {
  /** Rounded to 4 decimals. */
  priority: number;
  purpose: string;
  region: string;
  purposeWeight: number;
  regionMultiplier: number;
  globalSouth: boolean;
  climateVulnerable: boolean;
  renewableShare: number | null;
  renewableFactor: number;
  /** Each term and the product, "; "-separated, so it fits on one log or event line. */
  rationale: string;
  policyId: string;
  policySha256: string;
}

export const priorityAssignmentSchema = z.strictObject({
  priority: z.number().nonnegative(),
  purpose: z.string(),
  region: z.string(),
  purposeWeight: z.number().positive(),
  regionMultiplier: z.number().positive(),
  globalSouth: z.boolean(),
  climateVulnerable: z.boolean(),
  renewableShare: z.number().min(0).max(1).nullable(),
  renewableFactor: z.number().positive(),
  rationale: z.string().min(1),
  policyId: z.string().min(1),
  policySha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex'),
});

// The factor set's alpha-3 table (UNCTAD developed economies and the grid countries) lacks most V20 members.
const alpha2ByAlpha3: Readonly<Record<string, string>> = {
  ...defaultFactorSet.globalSouth.alpha3,
  ...Object.fromEntries(V20_MEMBERS.map(([a2, a3]) => [a3, a2])),
};

/** The alpha-2 code of a region given as alpha-2 or alpha-3; undefined for an alpha-3 code outside our tables. */
function alpha2Of(region: string): string | undefined {
  const code = region.trim().toUpperCase();
  if (/^[A-Z]{2}$/.test(code)) return code;
  return /^[A-Z]{3}$/.test(code) ? alpha2ByAlpha3[code] : undefined;
}

export function isClimateVulnerable(region: string, policy: PriorityPolicy = defaultPriorityPolicy): boolean {
  const alpha2 = alpha2Of(region);
  return alpha2 !== undefined && policy.climateVulnerable.members.includes(alpha2);
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** 5 → "5.0", 1.115 → "1.115": a whole number keeps one decimal so weights read as weights. */
function figure(x: number): string {
  const rounded = round4(x);
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

// The default policy is frozen, so its hash is computed once.
const defaultPolicySha256 = priorityPolicySha256(defaultPriorityPolicy);

export function priorityOf(request: { region: string; purpose: string }, policy: PriorityPolicy = defaultPriorityPolicy): PriorityAssignment {
  const { purpose } = request;
  const region = request.region.trim().toUpperCase();
  const alpha2 = alpha2Of(region);
  const named = alpha2 === undefined || alpha2 === region ? region : `${region} (${alpha2})`;
  const lines: string[] = [];

  const listed = Object.hasOwn(policy.purposeWeights, purpose);
  const purposeWeight = listed ? policy.purposeWeights[purpose]! : policy.defaultPurposeWeight;
  lines.push(listed ? `purpose ${purpose} weight ${figure(purposeWeight)}` : `purpose ${purpose} not in the policy, default weight ${figure(purposeWeight)}`);

  const origin = alpha2 === undefined ? 'unknown' : classifyOrigin(alpha2, defaultFactorSet);
  const globalSouth = origin === 'global-south';
  lines.push(origin === 'global-south' ? `${named} Global South (UNCTAD) ×${figure(policy.globalSouthMultiplier)}`
    : origin === 'global-north' ? `${named} Global North (UNCTAD) ×1.0`
    : `${named} not classified (no alpha-2 code known for it) ×1.0`);

  const climateVulnerable = alpha2 !== undefined && policy.climateVulnerable.members.includes(alpha2);
  const v20 = `V20 as of ${policy.climateVulnerable.asOf}`;
  lines.push(climateVulnerable ? `climate-vulnerable (${v20}) ×${figure(policy.climateVulnerableMultiplier)}` : `not climate-vulnerable (${v20}) ×1.0`);
  const regionMultiplier = (globalSouth ? policy.globalSouthMultiplier : 1) * (climateVulnerable ? policy.climateVulnerableMultiplier : 1);

  const renewableShare = alpha2 === undefined ? null : (renewableShare2024(alpha2) ?? null);
  const renewableFactor = 1 + policy.renewableWeight * (renewableShare ?? 0);
  const sourced = `Electricity Maps ${RENEWABLE_SHARE_YEAR}`;
  lines.push(renewableShare === null
    ? `no renewable share figure for ${named} (${sourced}), counted as 0: factor ${figure(renewableFactor)}`
    : `renewable share ${figure(renewableShare)} (${sourced}): factor 1 + ${figure(policy.renewableWeight)} × ${figure(renewableShare)} = ${figure(renewableFactor)}`);

  const priority = round4(purposeWeight * regionMultiplier * renewableFactor);
  lines.push(`priority = ${figure(purposeWeight)} × ${figure(regionMultiplier)} × ${figure(renewableFactor)} = ${figure(priority)}`);

  return {
    priority, purpose, region, purposeWeight, regionMultiplier, globalSouth, climateVulnerable, renewableShare, renewableFactor,
    rationale: lines.join('; '),
    policyId: policy.id,
    policySha256: policy === defaultPriorityPolicy ? defaultPolicySha256 : priorityPolicySha256(policy),
  };
}

/** Stable admission order: higher priority first; ties by the given arrival order. */
export function byPriority<T>(items: readonly T[], priorityOfItem: (item: T) => number): T[] {
  // Each priority is computed once, and the arrival index settles ties explicitly rather than by sort stability.
  return items
    .map((item, index) => ({ item, index, priority: priorityOfItem(item) }))
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map((entry) => entry.item);
}
