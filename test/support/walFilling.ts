import type { EventToAppend } from '../../src/events/envelope.ts';
import { taskAssigned } from './events.ts';

/** 2 MB of events (400 of ~5 kB, in appends of 10 over 20 streams): past the point where a store's checkpoint thread starts. */
export function walFillingBatches(): { streamId: string; events: EventToAppend[] }[] {
  const batches: { streamId: string; events: EventToAppend[] }[] = [];
  for (let b = 0; b < 40; b++) {
    const streamId = `session-wal${b % 20}`;
    const first = Math.floor(b / 20) * 10;
    const events = Array.from({ length: 10 }, (_, i) => {
      const event = taskAssigned(streamId, first + i);
      return { ...event, data: { ...(event.data as object), query: `question ${first + i} `.padEnd(5_000, 'x') } };
    });
    batches.push({ streamId, events });
  }
  return batches;
}
