/**
 * Wakes subscribers when a store has appended. A version counter closes the race between "read found nothing"
 * and "start waiting": a waiter that saw version v returns at once if an append has happened since.
 */
export class ChangeSignal {
  private version = 0;
  private waiters = new Set<() => void>();
  #closed = false;

  get current(): number {
    return this.version;
  }

  /** The store closed: no append will come, so subscriptions end rather than wait forever. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.notify();
  }

  notify(): void {
    this.version++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves when the version moves past `seen`, when `abort` fires, or after `pollMs` (for writers in other processes). */
  wait(seen: number, abort: AbortSignal, pollMs?: number): Promise<void> {
    if (this.version !== seen || abort.aborted || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        abort.removeEventListener('abort', done);
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      const timer = pollMs === undefined ? undefined : setTimeout(done, pollMs);
      this.waiters.add(done);
      abort.addEventListener('abort', done, { once: true });
    });
  }
}
