import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../events/canonicalJson.ts';
import { V20_AS_OF, V20_MEMBERS, V20_SOURCE } from './climateVulnerable.ts';

/**
 * The climate-justice priority policy as versioned data, like a climate factor set: its id names it and its sha256
 * (over its canonical JSON) pins it, so every priority assignment can say exactly which weights produced it. Any
 * changed figure or member is a new policy with a new id (test/policy/priority.test.ts pins the hash).
 */
const weight = z.number().positive();
const alpha2 = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code');

export const priorityPolicySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.@-]*$/, 'a lowercase id such as climate-justice-priority@1'),
  /** Keyed by our purpose vocabulary (PURPOSES in requestOrigin.ts). */
  purposeWeights: z.record(z.string().min(1), weight),
  /** For a purpose the policy does not list. */
  defaultPurposeWeight: weight,
  globalSouthMultiplier: weight,
  climateVulnerableMultiplier: weight,
  /** Priority scales by (1 + renewableWeight × renewable share of the origin's grid). */
  renewableWeight: z.number().nonnegative(),
  climateVulnerable: z.strictObject({
    source: z.string().min(10),
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD'),
    members: z.array(alpha2),
  }),
});

export type PriorityPolicy = z.infer<typeof priorityPolicySchema>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * The founding design's table. Its seed names differ from our vocabulary in two places: its `general` (1.0) is our
 * `general_ai_research`, and its `cryptocurrency_mining` (0.1) is our `crypto_mining`. Frozen, because a policy edited in memory would no longer
 * match its hash.
 */
export const defaultPriorityPolicy: PriorityPolicy = deepFreeze(priorityPolicySchema.parse({
  id: 'climate-justice-priority@1',
  purposeWeights: {
    climate_adaptation: 5.0,
    disaster_response: 4.0,
    renewable_energy_optimization: 3.5,
    sustainable_agriculture: 3.0,
    climate_science_research: 2.5,
    global_south_education: 2.0,
    general_ai_research: 1.0,
    luxury_applications: 0.2,
    crypto_mining: 0.1,
  },
  defaultPurposeWeight: 1.0,
  // Both apply to a Global South V20 member (×3.0): the two name different claims, economic position and exposure
  // to climate harm, and a country that has both carries both.
  globalSouthMultiplier: 2.0,
  climateVulnerableMultiplier: 1.5,
  renewableWeight: 0.5,
  climateVulnerable: { source: V20_SOURCE, asOf: V20_AS_OF, members: V20_MEMBERS.map(([a2]) => a2).sort() },
}));

/** sha256 (hex) of the policy's canonical JSON. */
export function priorityPolicySha256(policy: PriorityPolicy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}
