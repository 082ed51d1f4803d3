import type { RecordedEvent } from '../events/envelope.ts';
import type { FinishedTurn } from '../runtime/finishedTurns.ts';

/** JSON with bigints (revisions, positions) as decimal strings, since JSON has no 64-bit integers. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** One line per event for people: position, stream@revision, time, type and a short view of the data. */
export function describeEvent(event: RecordedEvent): string {
  const data = toJson(event.data);
  const shown = data.length > 90 ? `${data.slice(0, 87)}...` : data;
  return `${String(event.position).padStart(6)}  ${`${event.streamId}@${event.revision}`.padEnd(34)} ${event.metadata.recordedAt}  ${event.type.padEnd(18)} ${shown}`;
}

/** An error for stderr as one line: a driver message with line breaks would otherwise read as several errors. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A turn's text for `--json`: the answer, or, for a failed turn, no answer and the reason under `failure` (so no script reads it as one). */
export function answerFields(outcome: { status: string; text: string }): { answer: string } | { answer: null; failure: string } {
  return outcome.status === 'answered' ? { answer: outcome.text } : { answer: null, failure: outcome.text };
}

/** A turn finished by resuming what a stopped process left: its answer (or failure), as `run` would have printed it. */
export function describeFinishedTurn({ sessionId, turn, mode, status, model, text }: FinishedTurn): string {
  const heading = `session ${sessionId}, turn ${turn} (${mode})`;
  return status === 'answered' ? `${heading}, answered by ${model ?? 'no model'}:\n${text}\n` : `${heading} FAILED: ${text}\n`;
}
