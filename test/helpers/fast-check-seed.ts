// Runs before every test file (jest `setupFilesAfterEnv`). `FC_SEED` fixes the seed of every
// property in the run, so scripts/property-runs.ts can print a seed that reproduces a failure;
// without it fast-check draws its own seed and prints it in the failure message.
import fc from 'fast-check';

const seed = process.env.FC_SEED;
if (seed !== undefined && seed !== '') {
  if (!/^-?\d+$/.test(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(seed)}`);
  fc.configureGlobal({ seed: Number(seed) });
}
