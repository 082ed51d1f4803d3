import type { EventData } from '../events/catalogue.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { shortJson } from './auditProblem.ts';

/** A decision the log records, with the reason it gives. */
export interface Decision { position: string; recordedAt: string; streamId: string; type: string; turn: number | null; decision: string; rationale: string }

/** A line of data for the timeline: checkpoints and prompts are summarised, everything else cut to a line. */
export function shortData(event: RecordedEvent): string {
  const d = event.data as Record<string, unknown>;
  if (event.type === 'checkpoint.recorded') return `${String(d.reason)} at ${String(d.usageTokens)} tokens, covering ${Object.keys(d.covered as object).length} streams`;
  if (event.type === 'model.requested') return `${String(d.model)} attempt ${String(d.attempt)}, ~${String(d.estimatedInputTokens)} input tokens`;
  if (event.type === 'message.sent') return `${String(d.messageType)} to ${String(d.to)}`;
  return shortJson(d, 100);
}

/** A decision and its rationale, as the event that records it gives them. */
export function decisionOf(event: RecordedEvent): Decision {
  const turnOf = (event.data as { turn?: unknown }).turn;
  const base = { position: String(event.position), recordedAt: event.metadata.recordedAt, streamId: event.streamId, type: event.type, turn: typeof turnOf === 'number' ? turnOf : null };
  switch (event.type) {
    case 'triage.decided': {
      const { decision: t, decidedBy } = event.data as EventData<'triage.decided'>;
      const by = decidedBy ? `, decided by ${decidedBy.by}${decidedBy.model ? ` (${decidedBy.model})` : ''}${decidedBy.fallback ? `; rules stood in: ${decidedBy.fallback}` : ''}` : '';
      return { ...base, decision: `${t.mode}: ${t.roles.join(', ')} (complexity ${t.complexity.toFixed(2)}, confidence ${t.confidence.toFixed(2)}${by})`, rationale: t.rationale };
    }
    case 'priority.assigned': {
      const { priority: p } = event.data as EventData<'priority.assigned'>;
      return { ...base, decision: `priority ${p.priority.toFixed(2)} (${p.purpose} in ${p.region}; ${p.policyId})`, rationale: p.rationale };
    }
    case 'budget.estimated': {
      const b = event.data as EventData<'budget.estimated'>;
      return {
        ...base, decision: `${b.total} tokens for ${b.mode} with ${b.roles} role(s)`,
        rationale: `(base ${b.base} + ${b.perRole} × ${b.roles} roles) × confidence factor ${b.confidenceFactor.toFixed(2)}, rounded up = ${b.total}; the base learnt from ${b.learnedFrom} reconciliation(s), seed ${b.seedBase}`,
      };
    }
    default:
      return { ...base, ...handOff(event) };
  }
}

/** A hand-off step (`transition.*`): who hands what to whom, and why. */
function handOff(event: RecordedEvent): { decision: string; rationale: string } {
  const d = event.data as Partial<EventData<'transition.requested'> & EventData<'transition.validated'> & EventData<'transition.failed'>>;
  const participants = (d.participants ?? []).map((p) => `${p.fromAgent} → ${p.toAgent}`).join(', ');
  const what = [d.protocol, participants, d.agentStream].filter(Boolean).join(' ');
  const why = d.reason ?? (d.ok === undefined ? '' : d.ok ? `validated: ${d.presentInPrompt}/${d.essentialLines} essential lines in the prompt` : `not validated: ${(d.problems ?? []).join('; ')}`);
  return { decision: `${event.type.slice('transition.'.length)}${what ? `: ${what}` : ''}`, rationale: why };
}
