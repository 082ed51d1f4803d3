import { z } from 'zod';
import { COUNCIL_CORE_ROLES, EMERGENCY_ROLES, sameRegion, type ActiveEmergency, type TriageDecision, type TriageInput } from './triageQuery.ts';

/**
 * Triage delegated to a model (a `triage` role): it is asked for the mode, roles, confidence and rationale as JSON;
 * the rule-based signals are still computed and recorded beside its answer, so an auditor sees both. The model can
 * not invent an emergency: emergency mode stands only where one is declared for the region, and an answer that is
 * not the JSON asked for falls back to the rules, with the reason recorded.
 */
const ROLE = /^[a-z][a-z0-9_]*$/;

const modelAnswerSchema = z.object({
  mode: z.enum(['express', 'council', 'emergency']),
  roles: z.array(z.string().regex(ROLE)).max(4).default([]),
  confidence: z.number().min(0).max(1),
  rationale: z.string().min(1).max(2_000),
});

/** The prompt a triage model is given: the rules' own reading of the query is included, as evidence. */
export function modelTriagePrompt(input: TriageInput, rules: TriageDecision, emergencies: readonly ActiveEmergency[]): string {
  const declared = emergencies.filter((e) => sameRegion(e.region, input.region));
  return [
    'You are the triage role of a climate-aware assistant. Decide how this request is answered.',
    'Modes: "express" (one agent answers a simple request), "council" (2–4 roles answer in parallel and a synthesiser merges them),',
    `"emergency" (only if a climate emergency is declared for the request's region and the request responds to it).`,
    `Council roles to choose from: ${[...COUNCIL_CORE_ROLES, 'economist', 'local_context'].join(', ')}.`,
    declared.length > 0
      ? `Declared for this region: ${declared.map((e) => `${e.kind} (roles ${EMERGENCY_ROLES[e.kind].join(', ')})`).join('; ')}.`
      : 'No climate emergency is declared for this region.',
    `Rule-based reading: complexity ${rules.complexity}, mode ${rules.mode}, roles ${rules.roles.join(', ')}.`,
    `Request region: ${input.region}. Purpose: ${input.purpose.replace(/_/g, ' ')}.`,
    `Request: ${input.text}`,
    'Answer with one JSON object and nothing else: {"mode": "...", "roles": ["..."], "confidence": 0.0-1.0, "rationale": "..."}',
  ].join('\n');
}

/** The first JSON object in a reply, if any. */
function jsonObjectIn(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/**
 * The decision from a triage model's reply, on top of the rules' decision (whose signals and complexity are kept);
 * `fallback` says why the rules' decision stands instead, when it does.
 */
export function decisionFromModel(reply: string, rules: TriageDecision, model: string): { decision: TriageDecision; fallback: string | null } {
  const parsed = modelAnswerSchema.safeParse(jsonObjectIn(reply));
  if (!parsed.success) {
    const why = `the triage model ${model} did not answer with the JSON asked for (${parsed.error.issues[0]?.path.join('.') || 'no JSON object'}: ${parsed.error.issues[0]?.message})`;
    return { decision: { ...rules, rationale: `${rules.rationale} Rules used: ${why}.` }, fallback: why };
  }
  const answer = parsed.data;
  if (answer.mode === 'emergency' && rules.emergency === null) {
    const why = `the triage model ${model} chose emergency, but no emergency is declared for the region`;
    return { decision: { ...rules, rationale: `${rules.rationale} Rules used: ${why}.` }, fallback: why };
  }
  // In a declared emergency the emergency's roles stand; otherwise the model's, or the rules' if it named none.
  const roles = answer.mode === 'express' ? ['express'] : answer.mode === 'emergency' ? rules.emergency ? [...EMERGENCY_ROLES[rules.emergency.kind]] : rules.roles
    : answer.roles.length > 0 ? answer.roles : [...COUNCIL_CORE_ROLES];
  return {
    decision: {
      ...rules, mode: answer.mode, roles, confidence: Math.round(answer.confidence * 1000) / 1000,
      emergency: answer.mode === 'emergency' ? rules.emergency : null,
      rationale: `Decided by the triage model ${model}: ${answer.rationale.trim()} (The rules read complexity ${rules.complexity} and chose ${rules.mode}.)`,
    },
    fallback: null,
  };
}
