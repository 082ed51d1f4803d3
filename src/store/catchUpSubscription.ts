import type { RecordedEvent } from '../events/envelope.ts';
import type { ChangeSignal } from './changeSignal.ts';
import type { Subscription } from './eventStore.ts';

/**
 * A pull-based subscription: it reads pages strictly after the last event it delivered, and when a page comes
 * back empty it waits for the store to signal an append. Because it only ever asks "what comes after the cursor",
 * the handover from catch-up to live cannot lose or repeat an event, and a slow consumer simply reads more pages.
 */
export function catchUpSubscription(options: {
  /** Events strictly after `cursor` (undefined = from the very beginning), in order, at most one page. */
  readPage: (cursor: bigint | undefined) => RecordedEvent[] | Promise<RecordedEvent[]>;
  cursorOf: (event: RecordedEvent) => bigint;
  startAfter: bigint | undefined;
  signal: ChangeSignal;
  /** Also re-read this often, for appends made by other processes (sqlite). */
  pollMs?: number;
}): Subscription {
  const abort = new AbortController();
  let cursor = options.startAfter;

  async function* events(): AsyncGenerator<RecordedEvent> {
    // A closed store ends its subscriptions (`close` releases them): done, like a stopped one.
    while (!abort.signal.aborted && !options.signal.closed) {
      const seen = options.signal.current;
      const page = await options.readPage(cursor);
      for (const event of page) {
        if (abort.signal.aborted) return;
        cursor = options.cursorOf(event);
        yield event;
      }
      if (page.length === 0) await options.signal.wait(seen, abort.signal, options.pollMs);
    }
  }

  return singleReaderSubscription(events(), async () => abort.abort());
}

/** A subscription over one async iterator: it can be read once, and `stop()` ends it. */
export function singleReaderSubscription(iterator: AsyncIterator<RecordedEvent>, stop: () => Promise<void>): Subscription {
  let iterated = false;
  return {
    [Symbol.asyncIterator]() {
      if (iterated) throw new Error('A subscription can be iterated once; subscribe again for a second reader.');
      iterated = true;
      return iterator;
    },
    stop,
  };
}
