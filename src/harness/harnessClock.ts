import { SimulatedClock } from '../runtime/clock.ts';

/**
 * The runtime's simulated clock, plus what the harness needs to drive it exactly: when the next timer is due.
 * Driving jumps from one due timer to the next instead of ticking, so a test that waits out a 60 s cool-down costs
 * a few steps, and a state held only between two timers (a model call in flight) is never stepped over.
 */
export class HarnessClock extends SimulatedClock {
  readonly #due = new Map<unknown, number>();

  override setTimer(delayMs: number, fire: () => void): unknown {
    const handle: unknown = super.setTimer(delayMs, () => {
      this.#due.delete(handle);
      fire();
    });
    this.#due.set(handle, this.now() + Math.max(0, delayMs));
    return handle;
  }

  override clearTimer(handle: unknown): void {
    this.#due.delete(handle);
    super.clearTimer(handle);
  }

  /** When the earliest waiting timer is due (ms since the epoch), or undefined when none waits. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#due.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}

/** Lets the promise chains the last step started (appends, deliveries, model replies) run before looking again. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Driving the clock came to a point where nothing is scheduled and the awaited work is still not done. */
export class HarnessStalledError extends Error {
  override readonly name = 'HarnessStalledError';
}

/**
 * Moves the clock from one due timer to the next until `work` settles. Fails when nothing is scheduled and the
 * work is still pending (it would never finish), or when it would take longer than `maxMs` of simulated time.
 */
export async function driveUntil<T>(clock: HarnessClock, work: Promise<T>, options: { maxMs: number; what: string; describe: () => string }): Promise<T> {
  let done = false;
  work.then(() => { done = true; }, () => { done = true; });
  const deadline = clock.now() + options.maxMs;
  for (;;) {
    await settle();
    if (done) return work;
    const next = clock.nextDueAt();
    if (next === undefined) {
      // Nothing scheduled: only store work can still be running, and it needs no time to pass.
      await settle(20);
      if (done) return work;
      if (clock.nextDueAt() === undefined) throw new HarnessStalledError(`${options.what} stalled: no timer or model reply is pending, and it has not finished.\n${options.describe()}`);
      continue;
    }
    if (next > deadline) throw new HarnessStalledError(`${options.what} did not finish within ${options.maxMs} simulated ms (next timer due ${new Date(next).toISOString()}).\n${options.describe()}`);
    await clock.advance(Math.max(0, next - clock.now()));
  }
}
