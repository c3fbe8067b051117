// The queue's batch size, adapted to the failure rate it observes (SPEC §4a,
// docs/queue.md). Pure.
//
// The rate: a decayed count of the pull requests whose fate the queue learnt —
// a landing counts 0, a pull request that left failed (or timed out) alone past
// its retries counts 1 — each older observation weighing DECAY times the next,
// so the last ~50 outcomes count, with a prior of PRIOR_BAD bad in PRIOR_N.
//
// The size: with r the rate, a batch of k passes with P = (1 − r)^k. When it
// fails, the `speculative` − 1 = S − 1 batches behind it are thrown away (about
// half run, on average) and its bisection fails about 1 + log2(k) times before
// the bad pull request is alone, each time again throwing away what is behind.
// Landings per CI run:
//     L(k) = k·P / (1 + (1 − P)·(S − 1)·(1 + log2 k) / 2)
// We choose the k ≤ settings.batch that maximises L (ties to the smaller k):
// with S = 5, 1 at r ≥ ~15%, 2 at 10%, 8 at 2%. The simulator (bench/queue.ts)
// measured the sizes this picks as the best fixed sizes for those loads.

export interface FailureRate {
  /** Decayed count of pull requests found bad. */
  bad: number;
  /** Decayed count of pull requests whose fate is known. */
  seen: number;
}

const DECAY = 0.98;
const PRIOR_BAD = 0.4;
const PRIOR_N = 20;

export function initialRate(): FailureRate {
  return { bad: 0, seen: 0 };
}

export function observe(rate: FailureRate, bad: boolean): FailureRate {
  return { bad: rate.bad * DECAY + (bad ? 1 : 0), seen: rate.seen * DECAY + 1 };
}

export function failureRate(rate: FailureRate): number {
  return (rate.bad + PRIOR_BAD) / (rate.seen + PRIOR_N);
}

/** Landings per CI run of batches of `k` when each pull request is bad with probability `r` and `slots` batches are tested at once (the formula above). */
export function landingsPerRun(k: number, r: number, slots: number): number {
  const p = (1 - r) ** k;
  return (k * p) / (1 + ((1 - p) * (slots - 1) * (1 + Math.log2(k))) / 2);
}

export function chooseBatchSize(rate: FailureRate, maxBatch: number, slots: number): number {
  const r = failureRate(rate);
  let best = 1;
  for (let k = 2; k <= Math.max(1, maxBatch); k++) {
    if (landingsPerRun(k, r, Math.max(1, slots)) > landingsPerRun(best, r, Math.max(1, slots)) + 1e-9) best = k;
  }
  return best;
}
