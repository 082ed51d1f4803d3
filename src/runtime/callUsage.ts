import type { EventData } from '../events/catalogue.ts';
import type { RecordedEvent } from '../events/envelope.ts';

/**
 * The tokens a model call's outcome says were used: an answer's usage, or what a failed call was billed (`billed`);
 * undefined for any other event, and for failures that ran nothing billable.
 */
export function usageOfOutcome(event: RecordedEvent): { inputTokens: number; outputTokens: number } | undefined {
  if (event.type === 'model.responded') return (event.data as EventData<'model.responded'>).usage;
  if (event.type === 'model.failed') return (event.data as EventData<'model.failed'>).billed?.usage;
  return undefined;
}

/** The tokens a session's calls used, answered or billed without an answer. */
export function tokensUsed(events: readonly RecordedEvent[]): { input: number; output: number } {
  let input = 0;
  let output = 0;
  for (const event of events) {
    const usage = usageOfOutcome(event);
    if (usage === undefined) continue;
    input += usage.inputTokens;
    output += usage.outputTokens;
  }
  return { input, output };
}
