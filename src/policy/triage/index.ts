export {
  ALPHA3_TO_ALPHA2, COUNCIL_CORE_ROLES, DEFAULT_COUNCIL_THRESHOLD, EMERGENCY_KINDS, EMERGENCY_PURPOSES, EMERGENCY_ROLES,
  sameRegion, TRIAGE_RULES_VERSION, TRIAGE_SIGNAL_NAMES, triageDecisionSchema, triageQuery,
  type ActiveEmergency, type EmergencyKind, type TriageDecision, type TriageInput, type TriageOptions, type TriageSignal,
} from './triageQuery.ts';
export {
  AMBIGUITY_MARKERS, COST_TERMS, DELIVERABLES, DOMAIN_TERMS, extractFeatures, scoreSignals, SIGNAL_RULES,
  type SignalName, type TextFeatures,
} from './triageSignals.ts';
export { decisionFromModel, modelTriagePrompt } from './modelTriage.ts';
