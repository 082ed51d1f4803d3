import type { Worker } from 'node:worker_threads';
import type { RecordedEvent } from '../events/envelope.ts';
import type { EventRegistry } from '../events/eventRegistry.ts';
import type { StreamEvents } from './eventStore.ts';
import type { ReadAheadChunk, ReadAheadRequest, ReadAheadRow } from './readAheadProtocol.ts';
import { decodeRecord, linkChecker } from './recordDecoder.ts';
import { startStoreThread } from './storeThread.ts';

/**
 * Rows per chunk: enough that a message's fixed cost (~10 µs) is small beside the ~10 µs per row the reader spends
 * decoding and folding. The first is smaller, so the reader starts sooner.
 */
const CHUNK_ROWS = 512;
const FIRST_CHUNK_ROWS = 64;
/** Chunks the thread may have read beyond the one the reader is decoding. */
const AHEAD = 2;

/**
 * Reads many whole streams of a SQLite store with a thread of the store's own fetching rows and checking their
 * hashes one chunk ahead of the reader, which decodes, validates and link-checks each chunk while the thread reads
 * the next. Measured on the 2-core bench VM: those two halves of a replay's per-event cost are ~4–5 µs and ~10 µs,
 * so a replay of many streams runs at the second's pace instead of their sum.
 *
 * The records are trusted exactly as `readStream` trusts them: a row whose hash the thread could not confirm over
 * its canonical text is checked again here by `decodeRecord`, which accepts it or names what is wrong and where.
 * Should the thread stop or fail, `read` throws `ReadAheadStopped`, saying how far it got.
 */
export class ReadAhead {
  readonly #path: string;
  readonly #registry: EventRegistry;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  #nextRead = 0;
  /** Reads waiting on a chunk from the thread. */
  #waiting = 0;
  readonly #inboxes = new Map<number, Inbox>();

  constructor(path: string, registry: EventRegistry) {
    this.#path = path;
    this.#registry = registry;
  }

  /**
   * Each stream's events in the order asked, one stream at a time. `onEmpty` is asked about a stream with no rows:
   * it throws when the stream has no readable history (the errors `readStream` raises), or returns whether to yield
   * it (false: pass over it).
   */
  async *read(streamIds: readonly string[], onEmpty: (streamId: string) => boolean): AsyncGenerator<StreamEvents> {
    const read = this.#nextRead++;
    const inbox = new Inbox();
    const worker = this.#start();
    this.#inboxes.set(read, inbox);
    let done = false;
    try {
      worker.postMessage({ kind: 'open', read, streamIds } satisfies ReadAheadRequest);
      for (let i = 0; i < AHEAD; i++) worker.postMessage({ kind: 'more', read, rows: i === 0 ? FIRST_CHUNK_ROWS : CHUNK_ROWS } satisfies ReadAheadRequest);
      let streamId: string | undefined;
      let events: RecordedEvent[] = [];
      let checkLink = linkChecker('forwards');
      let handled = 0;
      while (!done) {
        const chunk = await this.#receive(worker, inbox);
        if ('error' in chunk) throw new ReadAheadStopped(chunk.error, handled);
        done = chunk.done;
        if (!done) worker.postMessage({ kind: 'more', read, rows: CHUNK_ROWS } satisfies ReadAheadRequest);
        for (const segment of chunk.segments) {
          if (segment.streamId !== streamId) {
            streamId = segment.streamId;
            events = [];
            checkLink = linkChecker('forwards');
          }
          for (let i = 0; i < segment.rows.length; i++) {
            const event = decodeRecord(toRecord(streamId, segment.rows[i]!), this.#registry, { hashChecked: segment.hashChecked[i]! });
            checkLink(event);
            events.push(event);
          }
          if (segment.last) {
            if (events.length > 0 || onEmpty(streamId)) yield { streamId, events };
            streamId = undefined;
            handled++;
          }
        }
      }
    } finally {
      this.#inboxes.delete(read);
      if (!done && this.#worker === worker) worker.postMessage({ kind: 'end', read } satisfies ReadAheadRequest);
    }
  }

  /**
   * The read's next chunk. The thread keeps the process alive only while a reader waits on it: an idle store's, or
   * one whose reader holds its iteration paused, must not stop a process from exiting.
   */
  async #receive(worker: Worker, inbox: Inbox): Promise<ReadAheadChunk> {
    if (this.#waiting++ === 0) worker.ref();
    try {
      return await inbox.next();
    } finally {
      if (--this.#waiting === 0) worker.unref();
    }
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const { worker, exited } = startStoreThread('readAheadWorker', { path: this.#path });
    worker.on('message', (chunk: ReadAheadChunk) => this.#inboxes.get(chunk.read)?.push(chunk));
    const fail = (reason: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [read, inbox] of this.#inboxes) inbox.push({ read, error: reason });
    };
    worker.on('error', (error) => fail(`its read-ahead thread stopped: ${error.message}`));
    worker.on('exit', (code) => fail(`its read-ahead thread exited (code ${code})`));
    this.#exited = exited;
    // Referenced only while a reader waits on it (`#receive`), once the listeners, which hold it, are on.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Stops the thread, so the file can be removed or reopened at once; reads still waiting on it fail. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    await worker.terminate();
    await this.#exited;
  }
}

/**
 * The thread could not go on (it stopped, or its connection failed) after `handled` of the streams asked for were
 * yielded or passed over. Nothing about the records is known from it: the caller reads the rest itself, where a
 * fault of the store shows as the error it is.
 */
export class ReadAheadStopped extends Error {
  override readonly name = 'ReadAheadStopped';
  readonly handled: number;
  constructor(reason: string, handled: number) {
    super(reason);
    this.handled = handled;
  }
}

function toRecord(streamId: string, [position, revision, eventId, type, data, metadata]: ReadAheadRow) {
  return { streamId, revision, position, eventId, type, data, metadata };
}

/** Chunks of one read as they arrive, handed to the reader in order. */
class Inbox {
  readonly #chunks: ReadAheadChunk[] = [];
  #waiting: ((chunk: ReadAheadChunk) => void) | undefined;

  push(chunk: ReadAheadChunk): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(chunk);
    else this.#chunks.push(chunk);
  }

  next(): Promise<ReadAheadChunk> {
    const chunk = this.#chunks.shift();
    return chunk ? Promise.resolve(chunk) : new Promise((resolve) => { this.#waiting = resolve; });
  }
}
