// Runs the property tests N times in a row (default 20), each run with a fresh random seed that is
// printed first, so a failure can be replayed with `FC_SEED=<seed> npm test -- <file>`.
// Usage: tsx scripts/property-runs.ts [runs]   (`npm run test:properties` runs 20; .ci/run runs 2)
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function propertyTestFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return propertyTestFiles(path);
    return name.endsWith('.property.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const runs = Number(process.argv[2] ?? 20);
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
  console.error(`runs must be a whole number from 1 to 1000, got ${process.argv[2]}`);
  process.exit(2);
}
const files = propertyTestFiles(join(ROOT, 'test')).sort();
console.log(`property tests: ${files.join(', ')}`);
const started = Date.now();
for (let run = 1; run <= runs; run++) {
  const seed = randomInt(-(2 ** 31), 2 ** 31);
  console.log(`run ${run}/${runs}: FC_SEED=${seed}`);
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/jest/bin/jest.js'), '--silent', ...files], {
    cwd: ROOT,
    env: { ...process.env, FC_SEED: String(seed), NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    console.error(`run ${run} failed with FC_SEED=${seed}: replay with FC_SEED=${seed} npm test -- ${files.join(' ')}`);
    process.exit(1);
  }
}
console.log(`${runs} runs passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
