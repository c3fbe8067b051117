// A small deterministic PRNG (a linear congruential generator) for seeded test
// scenarios and benchmarks: the same seed, the same run.
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
