// The deploy trigger: how long from a trunk-updated event to the deploy
// command starting (event received → mirror fetched → tree laid out → process
// spawned), median and p99 over sequential landings; and how a burst of 50
// events coalesces into deploys.
//
// Real trunk (git in a temp folder), real trigger over real HTTP, the sample
// service of examples/service as the deployed program.   npx tsx bench/deploy.ts
import { DeployTrigger } from '../src/deploy/trigger.js';
import { announce, land, makeTrunk, SECRET, waitFor, writeConfig } from '../test/helpers/deploy.js';
import { printTable, writeResults } from './results-file.js';

const SEQUENTIAL = 40;
const BURST = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function withTrigger<T>(run: (t: DeployTrigger, url: string, started: Map<string, number>, trunk: ReturnType<typeof makeTrunk>) => Promise<T>): Promise<T> {
  const trunk = makeTrunk();
  const setup = writeConfig({ remote: trunk.dir, keep: 1 });
  const started = new Map<string, number>();
  const trigger = new DeployTrigger({
    config: setup.config,
    env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET },
    stopGraceMs: 1000,
    stopServicesOnExit: true, // a benchmark leaves nothing running
    log: (line) => {
      const m = /: started ([0-9a-f]{40}) /.exec(line);
      if (m) started.set(m[1], performance.now());
    },
  });
  try {
    const url = await trigger.start();
    const head = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('the first revision healthy', () => trigger.store.revision('octo/app', head)?.state === 'healthy', 30_000, 5);
    return await run(trigger, url, started, trunk);
  } finally {
    await trigger.stop();
    setup.remove();
    trunk.remove();
  }
}

const latencies = await withTrigger(async (trigger, url, started, trunk) => {
  const out: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const sha = land(trunk, 'healthy', `bench ${i}`);
    const t0 = performance.now();
    await announce(url, sha);
    await waitFor('the deploy command started', () => started.has(sha), 30_000, 1);
    out.push(started.get(sha)! - t0);
    await waitFor('healthy', () => trigger.store.revision('octo/app', sha)?.state === 'healthy', 30_000, 5);
  }
  return out.sort((a, b) => a - b);
});

const burst = await withTrigger(async (trigger, url, _started, trunk) => {
  const before = trigger.store.revisions('octo/app').length;
  // As in test/deploy/burst.test.ts: the first landing starts slowly; the other 49 arrive while it deploys.
  const t0 = performance.now();
  const shas = [land(trunk, 'slow', 'burst 0')];
  const answers: Promise<unknown>[] = [announce(url, shas[0])];
  await waitFor('the first landing starting', () => trigger.store.revision('octo/app', shas[0])?.state === 'starting', 30_000, 5);
  for (let i = 1; i < BURST; i++) {
    const sha = land(trunk, 'healthy', `burst ${i}`);
    shas.push(sha);
    answers.push(announce(url, sha));
  }
  await Promise.all(answers);
  const newest = shas.at(-1)!;
  await waitFor('the newest healthy', () => trigger.store.revision('octo/app', newest)?.state === 'healthy', 60_000, 5);
  const deploys = trigger.store.revisions('octo/app').length - before;
  return { events: BURST, deploys, endsOnNewest: trigger.store.desired('octo/app') === newest, ms: performance.now() - t0 };
});

const p50 = percentile(latencies, 50);
const p99 = percentile(latencies, 99);
const ratio = burst.events / burst.deploys;
printTable(`Event to deploy start, ${SEQUENTIAL} sequential landings (ms)`, [
  { min: latencies[0].toFixed(1), p50: p50.toFixed(1), p99: p99.toFixed(1), max: latencies.at(-1)!.toFixed(1) },
]);
printTable(`Burst of ${BURST} events`, [{ events: burst.events, deploys: burst.deploys, 'coalescing ratio': ratio.toFixed(1), 'ends on newest': String(burst.endsOnNewest), 'to newest healthy (ms)': burst.ms.toFixed(0) }]);

writeResults(
  'deploy',
  {
    machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
    eventToStartMs: { samples: SEQUENTIAL, min: latencies[0], p50, p99, max: latencies.at(-1) },
    burst: { ...burst, coalescingRatio: ratio },
  },
  [
    { name: 'deploy.event_to_start.p50.ms', value: Number(p50.toFixed(1)), unit: 'ms', target: null },
    { name: 'deploy.event_to_start.p99.ms', value: Number(p99.toFixed(1)), unit: 'ms', target: null },
    { name: 'deploy.burst50.deploys', value: burst.deploys, unit: 'deploys', target: '<= 2' },
    { name: 'deploy.burst50.coalescing_ratio', value: Number(ratio.toFixed(1)), unit: 'events per deploy', target: '>= 25' },
  ],
);
if (!burst.endsOnNewest || burst.deploys > 2) process.exitCode = 1;
