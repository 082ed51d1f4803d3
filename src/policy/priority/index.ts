export { V20_AS_OF, V20_MEMBERS, V20_SOURCE } from './climateVulnerable.ts';
export { byPriority, isClimateVulnerable, priorityAssignmentSchema, priorityOf, type PriorityAssignment } from './priorityOf.ts';
export { defaultPriorityPolicy, priorityPolicySchema, priorityPolicySha256, type PriorityPolicy } from './priorityPolicy.ts';
