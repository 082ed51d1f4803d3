import { hash } from 'node:crypto';
import type { Effect } from '../../machines/effects.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import { activeTimerWithKey, type ActorTracking } from '../runtime/actorTracking.ts';

/** Records the runtime writes for effects, in the actor's own stream, caused by the event whose step asked for them. */
export const EFFECT_RECORD_TYPES: ReadonlySet<string> = new Set(['model.requested', 'model.cancelled', 'timer.started', 'timer.cancelled', 'message.sent', 'turn.completed', 'triage.decided']);

const promptHash = (prompt: string) => hash('sha256', prompt, 'hex').slice(0, 12);

/**
 * What a step's effects become in the log, one comparable line each: the per-event evidence of what the machine did
 * live, between the checkpoints that record its whole state. Ids the runtime mints (request, timer, message ids)
 * are left out, and so is data the runtime adds (a task's prompt context); a cancel of a timer that is no longer
 * running records nothing, as in the runtime.
 */
export function expectedRecords(effects: readonly Effect[], tracking: ActorTracking): string[] {
  const lines: string[] = [];
  for (const effect of effects) {
    switch (effect.type) {
      case 'model.call':
        lines.push(`model.requested ${effect.model} attempt ${effect.attempt} prompt#${promptHash(effect.prompt)}`);
        break;
      case 'model.cancel':
        lines.push(`model.cancelled ${effect.requestId}`);
        break;
      case 'timer.start':
        lines.push(`timer.started ${effect.key} ${effect.delayMs} ms`);
        break;
      case 'timer.cancel':
        if (activeTimerWithKey(tracking, effect.key) !== undefined) lines.push(`timer.cancelled ${effect.key}`);
        break;
      case 'message.send':
        lines.push(`message.sent ${effect.messageType} to ${effect.to}`);
        break;
      case 'turn.complete':
        lines.push(`turn.completed turn ${effect.turn} ${effect.status} ${effect.mode}`);
        break;
      case 'triage.request':
        lines.push(`triage of turn ${effect.turn}`);
        break;
    }
  }
  return lines;
}

/**
 * The same lines from the records a step caused. Triage is recorded either as its decision (rules) or as a request
 * to a triage model; a decision that follows a triage model's answer is the runtime's, not a machine effect.
 */
export function recordedEffects(caused: readonly RecordedEvent[], triageAsked: number | undefined): string[] {
  const lines: string[] = [];
  for (const event of caused) {
    const data = event.data as Record<string, unknown>;
    if (triageAsked !== undefined && (event.type === 'triage.decided' || event.type === 'model.requested')) {
      lines.push(`triage of turn ${triageAsked}`);
      continue;
    }
    switch (event.type) {
      case 'model.requested':
        lines.push(`model.requested ${String(data.model)} attempt ${String(data.attempt)} prompt#${promptHash(String(data.prompt))}`);
        break;
      case 'model.cancelled':
        lines.push(`model.cancelled ${String(data.requestId)}`);
        break;
      case 'timer.started':
        lines.push(`timer.started ${String(data.key)} ${String(data.delayMs)} ms`);
        break;
      case 'timer.cancelled':
        lines.push(`timer.cancelled ${String(data.key)}`);
        break;
      case 'message.sent':
        lines.push(`message.sent ${String(data.messageType)} to ${String(data.to)}`);
        break;
      case 'turn.completed':
        lines.push(`turn.completed turn ${String(data.turn)} ${String(data.status)} ${String(data.mode)}`);
        break;
    }
  }
  return lines;
}

/** The turn a step asked triage for, if it did. */
export function triageAskedFor(effects: readonly Effect[]): number | undefined {
  return effects.find((e) => e.type === 'triage.request')?.turn;
}
