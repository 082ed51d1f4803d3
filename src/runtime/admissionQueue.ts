/**
 * Admits turns up to a limit at a time; while saturated, waiting turns are admitted highest climate-justice
 * priority first, ties in arrival order. A release admits the next waiting turn at once.
 */
export class AdmissionQueue {
  readonly limit: number;
  private active = 0;
  private arrivals = 0;
  private readonly waiting: { priority: number; arrival: number; admit: () => void }[] = [];

  constructor(limit = Number.POSITIVE_INFINITY) {
    if (!(limit >= 1)) throw new RangeError(`The admission limit must be at least 1 turn at a time; got ${limit}`);
    this.limit = limit;
  }

  /** Resolves with the release to call when the turn is over. */
  admit(priority: number): Promise<() => void> {
    return new Promise((resolve) => {
      const admit = () => {
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.next();
        });
      };
      if (this.active < this.limit && this.waiting.length === 0) return admit();
      this.waiting.push({ priority, arrival: this.arrivals++, admit });
      this.waiting.sort((a, b) => b.priority - a.priority || a.arrival - b.arrival);
    });
  }

  /** Turns waiting for a slot, highest priority first. */
  get queued(): number {
    return this.waiting.length;
  }

  private next(): void {
    while (this.active < this.limit && this.waiting.length > 0) this.waiting.shift()!.admit();
  }
}
