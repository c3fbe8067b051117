// The queue's batch size, adapted to the failure rate it observes (SPEC §4a,
// docs/queue.md). Pure.
//
// The rate: a decayed count of the pull requests whose fate the queue learnt —
// a landing counts 0; a batch failing on its own account counts 1 at once (a
// bad pull request, or a flake: either fails batches), and the pull request
// later found bad in it no more (core.ts; counting it only when it left, after
// bisection and retries, kept the rate too low for hours and the batches too
// big: seeds 1–6, 6.6 → 7.1 landings an hour at 10%, 17.4 → 18.9 at 2%) —
// each older observation weighing DECAY times the next,
// so the last ~200 outcomes count (a shorter memory chased the noise of a few
// bad pull requests: at 2% failing, one more bad one in the last 50 moved the
// size from 8 to 6; the simulator measured 16.4 → 16.8 landings an hour at 2%
// and 6.0 → 6.15 at 10% with the longer one), with a prior of PRIOR_BAD bad in
// PRIOR_N.
//
// The size: with r the rate and F the flake rate, a batch of k passes with
// P = (1 − r)^k·(1 − F). When it fails, each level of its bisection fails
// once more before the bad pull request is alone (E[levels(k)]: 1 for 2, 5/3
// for 3, 2 for 4, ≈ log2 k), and a batch of one that fails is retried (one
// more failing run when `retries` > 0; a bisected one usually needs none: the
// evidence of core.ts). Every failing run costs the S − 1 runs built on top of
// it, S = `speculative`, in full: after a failure the chain is rebuilt at once,
// so its runs start together and are all near their end when the next failure
// in it comes. Landings per CI run:
//     L(k) = k·P / (1 + (1 − P)·(S − 1)·levels(k)),  levels(1) = 1 with retries
// We choose the k ≤ settings.batch that maximises L (ties to the smaller k):
// with S = 5, 2 from about 7% to 30% failing, 4 at 3–5%, 8 at 2%. The
// simulator (bench/queue.ts, seeds 1–6, each size forced) measured the best
// fixed sizes there: 2 at 10%, 15% and 30% (7.3, 4.9, 3.4 landings an hour
// against 6.6, 4.7, 3.1 for 3 and 5.9, 4.6, 3.2 for 1), 3–4 at 5%, 4–8 flat at
// 2%; the earlier formula (half the chain wasted, 1 + log2 k levels, no
// retry) chose 3 at 8–10% and lost a landing an hour there. With probes
// (plan.ts: the halves of a failed batch tested beside the chain) the best
// fixed sizes are the same (seeds 1–6): at 10%, 2 lands 8.24 an hour against
// 8.03 for 4, 7.86 for 3 and 6.28 for 1; at 30%, 2 lands 3.9 against 3.66
// for 4 and 3.54 for 1.

export interface FailureRate {
  /** Decayed count of pull requests found bad. */
  bad: number;
  /** Decayed count of pull requests whose fate is known. */
  seen: number;
}

const DECAY = 0.995;
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

/** The flake rate assumed: a run failing with no bad pull request in it. */
export const FLAKE = 0.02;

/** Expected bisection levels until a batch of k's bad pull request is alone (halves ⌈k/2⌉ and ⌊k/2⌋, the bad one anywhere). */
export function bisectionLevels(k: number): number {
  if (k <= 1) return 0;
  const [a, b] = [Math.ceil(k / 2), Math.floor(k / 2)];
  return 1 + (a / k) * bisectionLevels(a) + (b / k) * bisectionLevels(b);
}

/** Landings per CI run of batches of `k` when each pull request is bad with probability `r` and `slots` batches are tested at once (the formula above). */
export function landingsPerRun(k: number, r: number, slots: number, retries: number): number {
  const p = (1 - r) ** k * (1 - FLAKE);
  const levels = k === 1 ? (retries > 0 ? 1 : 0) : bisectionLevels(k);
  return (k * p) / (1 + (1 - p) * (slots - 1) * levels);
}

export function chooseBatchSize(rate: FailureRate, maxBatch: number, slots: number, retries: number): number {
  const r = failureRate(rate);
  const run = (k: number) => landingsPerRun(k, r, Math.max(1, slots), retries);
  let best = 1;
  for (let k = 2; k <= Math.max(1, maxBatch); k++) if (run(k) > run(best) + 1e-9) best = k;
  return best;
}
