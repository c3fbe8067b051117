// The status page and /api/state share the trigger's only thread with its
// probes and deliveries. Ten clients looping on a page of 50 revisions once
// delayed a signed delivery by 3 s. So readers take turns, and what they cost
// is bounded whatever their number: after a render that took d ms, the next
// starts no sooner than d × (1 / share − 1) ms later (the thread does other
// work meanwhile); a probe or a delivery waits for one render at most.
// Readers beyond `maxWaiting` are answered 503 at once.

export interface ReaderBudgetOptions {
  /** The part of the thread readers may take, at most (0–1). */
  share: number;
  /** Readers waiting for their turn, at most. */
  maxWaiting: number;
  /** A monotonic clock in ms (the work's own duration). */
  clock: () => number;
  wait: (ms: number) => Promise<void>;
}

const DEFAULTS: ReaderBudgetOptions = {
  share: 0.125,
  maxWaiting: 64,
  clock: () => performance.now(),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class ReaderBudget {
  private readonly o: ReaderBudgetOptions;
  private freeAt = 0;
  private waiting = 0;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(options: Partial<ReaderBudgetOptions> = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** `make()` in its turn; null when too many readers wait already (answer 503). */
  run<T>(make: () => T): Promise<T | null> {
    if (this.waiting >= this.o.maxWaiting) return Promise.resolve(null);
    this.waiting++;
    const result = this.turn.then(async () => {
      const rest = this.freeAt - this.o.clock();
      if (rest > 0) await this.o.wait(rest);
      const start = this.o.clock();
      try {
        return make();
      } finally {
        const end = this.o.clock();
        this.freeAt = end + (end - start) * (1 / this.o.share - 1);
        this.waiting--;
      }
    });
    this.turn = result.catch(() => {});
    return result;
  }
}
