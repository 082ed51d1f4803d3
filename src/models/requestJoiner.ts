import type { ModelReply, ModelRequest } from './languageModel.ts';
import { abortedCallError } from './modelCallError.ts';
import { untilAborted } from './wait.ts';

const REMEMBERED_REPLIES = 1024;

/**
 * Makes `requestId` an idempotency key within one process: a call whose id is already in flight joins it, and a
 * call whose id already succeeded gets the same reply, so a redelivered effect never pays for a second model call.
 * Failures are not remembered: a failed id may be tried again on purpose. Each joined caller can still abort its
 * own wait with its own signal; the underlying call follows the first caller's signal, and
 * if that caller aborts it, those still waiting start it again.
 */
export class RequestJoiner {
  readonly #inFlight = new Map<string, Promise<ModelReply>>();
  readonly #replies = new Map<string, ModelReply>();
  /** Calls that failed because the caller who started them aborted: joined callers start their own. */
  readonly #abandoned = new WeakSet<Promise<ModelReply>>();

  run(request: ModelRequest, perform: (request: ModelRequest) => Promise<ModelReply>): Promise<ModelReply> {
    const remembered = this.#replies.get(request.requestId);
    if (remembered) return Promise.resolve(remembered);
    let shared = this.#inFlight.get(request.requestId);
    if (!shared) {
      shared = this.#start(request, perform);
      return shared;
    }
    const signal = request.abortSignal;
    const first = shared;
    // Should the call fail because the caller who started it gave up (a worker that lost the session), a caller
    // still waiting starts it again rather than inheriting someone else's abort.
    const joined = first.catch((error: unknown) => {
      if (this.#abandoned.has(first) && !signal?.aborted) return this.run(request, perform);
      throw error;
    });
    return untilAborted(joined, signal, () => abortedCallError(signal!));
  }

  #start(request: ModelRequest, perform: (request: ModelRequest) => Promise<ModelReply>): Promise<ModelReply> {
    const { requestId } = request;
    const starter = request.abortSignal;
    const shared: Promise<ModelReply> = perform(request).then(
      (reply) => {
        this.#inFlight.delete(requestId);
        this.#remember(requestId, reply);
        return reply;
      },
      (error: unknown) => {
        this.#inFlight.delete(requestId);
        if (starter?.aborted) this.#abandoned.add(shared);
        throw error;
      },
    );
    this.#inFlight.set(requestId, shared);
    return shared;
  }

  /** Bounded, oldest first out: ids are unique per request, so only recent redeliveries matter. */
  #remember(requestId: string, reply: ModelReply): void {
    this.#replies.set(requestId, reply);
    if (this.#replies.size > REMEMBERED_REPLIES) {
      const oldest = this.#replies.keys().next();
      if (!oldest.done) this.#replies.delete(oldest.value);
    }
  }
}
