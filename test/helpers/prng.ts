// A small deterministic PRNG (an LCG) for tests that draw their own random
// choices from a seed they print (FC_SEED or a fixed one), so a failure replays.
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The seed of a test's own random choices: FC_SEED when set (as for fast-check properties), else `fallback`. */
export function testSeed(fallback: number): number {
  const seed = process.env.FC_SEED;
  return seed !== undefined && seed !== '' ? Number(seed) : fallback;
}
