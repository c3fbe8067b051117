// The queue's batch size, adapted to the failure rate it observes (SPEC §4a,
// docs/queue.md). Pure.
//
// The rate: a decayed count of the pull requests whose fate the queue learnt —
// a landing counts 0, a pull request that left failed (or timed out) alone past
// its retries counts 1 — each older observation weighing DECAY times the next,
// so the last ~50 outcomes count, with a prior of PRIOR_BAD bad in PRIOR_N.
//
// The size: with r the rate, a batch of k passes with p = (1 − r)^k. The chain
// of `speculative` = S batches lands, per round of CI, the batches ahead of the
// first failure: k·(p + p² + … + p^S) pull requests. A failed batch costs its
// runs and the chain behind it; its bisection costs about log2(k) more runs.
// We choose the k ≤ settings.batch maximising landings per run:
//     k·Σ_{j=1..S} p^j  /  (S + (1 − p)·log2(k))
// (ties to the smaller k). At r = 10% that is 1, at 2% it is 6–8.

export interface FailureRate {
  /** Decayed count of pull requests found bad. */
  bad: number;
  /** Decayed count of pull requests whose fate is known. */
  seen: number;
}

const DECAY = 0.98;
const PRIOR_BAD = 1;
const PRIOR_N = 10;

export function initialRate(): FailureRate {
  return { bad: 0, seen: 0 };
}

export function observe(rate: FailureRate, bad: boolean): FailureRate {
  return { bad: rate.bad * DECAY + (bad ? 1 : 0), seen: rate.seen * DECAY + 1 };
}

export function failureRate(rate: FailureRate): number {
  return (rate.bad + PRIOR_BAD) / (rate.seen + PRIOR_N);
}

/** Landings per CI run of a chain of `slots` batches of `k` when each pull request is bad with probability `r` (the formula above). */
export function landingsPerRun(k: number, r: number, slots: number): number {
  const p = (1 - r) ** k;
  let sum = 0;
  for (let j = 1, pj = p; j <= slots; j++, pj *= p) sum += pj;
  return (k * sum) / (slots + (1 - p) * Math.log2(k));
}

export function chooseBatchSize(rate: FailureRate, maxBatch: number, slots: number): number {
  const r = failureRate(rate);
  let best = 1;
  for (let k = 2; k <= Math.max(1, maxBatch); k++) {
    if (landingsPerRun(k, r, Math.max(1, slots)) > landingsPerRun(best, r, Math.max(1, slots)) + 1e-9) best = k;
  }
  return best;
}
