// Time to verdict the way production runs: the app started as `npm start`
// starts it (`probot run ./lib/index.js`, a separate process, Probot's
// production Octokit with its throttling) against the fake GitHub over real
// HTTP on 127.0.0.1, real signed webhooks, real time.
//   - latency.webhook_to_check.ms: a pull_request.opened webhook to its
//     check-run write, one pull request on an idle app, default settings (the
//     first event of an idle pull request is evaluated at once): median of 10,
//     after a warm-up;
//   - burst.30.drain_s: 30 pull requests opened at once, each needing one
//     check-run write, until the last check is written;
//   - burst.30.unchanged_drain_s: the same 30 re-evaluated with nothing
//     changed (no writes), until the last of their reads.
// Builds lib/ first.   npx tsx bench/production.ts
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeGitHub, type FakePull, type FakeRepo, type RecordedRequest } from '../test/helpers/github-fake.js';
import { pullPayload } from '../test/helpers/github-app.js';
import { startProbotProcess, type ProbotProcess } from '../test/helpers/probot-process.js';
import { setupRepo, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
import { DEFAULT_CONFIG } from '../src/github/config.js';
import { printTable, writeResults, type Figure } from './results-file.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const waiters = new Map<FakeGitHub, Set<(r: RecordedRequest) => void>>();

/** Resolves with the first recorded request that `match` accepts (already recorded, or to come). */
function waitFor(fake: FakeGitHub, match: (r: RecordedRequest) => boolean, timeoutMs = 120_000): Promise<RecordedRequest> {
  const seen = fake.requests.find(match);
  if (seen) return Promise.resolve(seen);
  let set = waiters.get(fake);
  if (!set) {
    const all = new Set<(r: RecordedRequest) => void>();
    waiters.set(fake, (set = all));
    fake.onRequest = (r) => {
      for (const w of [...all]) w(r);
    };
  }
  const listeners = set;
  return new Promise((resolve, reject) => {
    const waiter = (r: RecordedRequest) => {
      if (!match(r)) return;
      clearTimeout(timer);
      listeners.delete(waiter);
      resolve(r);
    };
    const timer = setTimeout(() => {
      listeners.delete(waiter);
      reject(new Error('timed out waiting for a request'));
    }, timeoutMs);
    listeners.add(waiter);
  });
}

const checkWriteFor = (pull: FakePull) => (r: RecordedRequest) =>
  r.method === 'POST' && r.path.endsWith('/check-runs') && (r.body as { head_sha?: string })?.head_sha === pull.headSha;

const factsQueryFor = (pull: FakePull, after: number) => (r: RecordedRequest) =>
  r.operation === 'MergeGateFacts' && r.at >= after && r.variables?.number === pull.number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Samples of the latency figure, after one warm-up. */
const LATENCY_SAMPLES = 10;

/** Webhook to check-run write, one pull request at a time on an otherwise idle app (after one warm-up: token, JIT). */
async function latency(fake: FakeGitHub, repo: FakeRepo, app: ProbotProcess, first: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i <= LATENCY_SAMPLES; i++) {
    const pull = typicalPull(fake, repo, first + i, typicalFiles(10));
    await sleep(1_500); // idle: no write of the previous sample still spacing this one
    const t0 = performance.now();
    const status = await app.send('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    if (status >= 300) throw new Error(`webhook answered ${status}`);
    const write = await waitFor(fake, checkWriteFor(pull));
    if (i > 0) samples.push(write.at - t0);
  }
  return samples;
}

async function burst(fake: FakeGitHub, repo: FakeRepo, app: ProbotProcess, first: number, n: number) {
  const pulls = Array.from({ length: n }, (_, i) => typicalPull(fake, repo, first + i, typicalFiles(10)));
  await sleep(1_500);
  let t0 = performance.now();
  await Promise.all(pulls.map((p) => app.send('pull_request', pullPayload('pull_request', 'opened', fake, repo, p))));
  const writes = await Promise.all(pulls.map((p) => waitFor(fake, checkWriteFor(p))));
  const drainMs = Math.max(...writes.map((w) => w.at)) - t0;
  const gaps = writes
    .map((w) => w.at)
    .sort((a, b) => a - b)
    .slice(1)
    .map((at, i, all) => at - (i === 0 ? Math.min(...writes.map((w) => w.at)) : all[i - 1]));

  // The same pull requests again, nothing changed: reads only.
  await sleep(1_500);
  const writesBefore = fake.apiRequests().filter((r) => r.method !== 'GET' && r.kind === 'rest').length;
  t0 = performance.now();
  await Promise.all(pulls.map((p) => app.send('pull_request', pullPayload('pull_request', 'edited', fake, repo, p))));
  const reads = await Promise.all(pulls.map((p) => waitFor(fake, factsQueryFor(p, t0))));
  const unchangedMs = Math.max(...reads.map((r) => r.at)) - t0;
  await sleep(2_000); // any write would show up by now
  const writesAfter = fake.apiRequests().filter((r) => r.method !== 'GET' && r.kind === 'rest').length;
  return { drainMs, minGapMs: Math.min(...gaps), unchangedMs, unchangedWrites: writesAfter - writesBefore };
}

async function withApp<T>(env: Record<string, string>, fn: (fake: FakeGitHub, repo: FakeRepo, app: ProbotProcess) => Promise<T>): Promise<T> {
  const { fake, close } = await FakeGitHub.listening({ prefix: '/api/v3' });
  const repo = setupRepo(fake);
  // DRY_RUN: the verdicts only (a passing pull request would otherwise be landed, which is not what these figures time).
  const app = await startProbotProcess(fake, { MERGE_GATE_SCHEDULE_ON_START: 'false', DRY_RUN: 'true', ...env });
  try {
    const result = await fn(fake, repo, app);
    if (fake.problems.length) throw new Error(`fake GitHub problems:\n${fake.problems.join('\n')}`);
    return result;
  } catch (err) {
    console.error(app.output());
    throw err;
  } finally {
    await app.stop();
    await close();
  }
}

async function main(): Promise<void> {
  // Emit only: the type check is `npm run typecheck`'s job, and takes most of a build's time.
  execFileSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: ROOT, stdio: 'inherit' });
  const window = DEFAULT_CONFIG.coalesceMs;
  const { samples, bursts } = await withApp({}, async (fake, repo, app) => ({
    samples: await latency(fake, repo, app, 1),
    bursts: await burst(fake, repo, app, 101, 30),
  }));

  const figures: Figure[] = [
    { name: 'latency.webhook_to_check.ms', value: Math.round(median(samples)), unit: 'ms', target: '<= 300' },
    { name: 'burst.30.drain_s', value: +(bursts.drainMs / 1000).toFixed(1), unit: 's', target: '<= 35' },
    { name: 'burst.30.unchanged_drain_s', value: +(bursts.unchangedMs / 1000).toFixed(1), unit: 's', target: '<= 5' },
  ];
  printTable(`Time to verdict, app started as by \`npm start\` (production Octokit, throttling on; an idle pull request's first event at once, then a ${window} ms coalescing window)`, [
    ...figures.map((f) => ({ figure: f.name, value: f.value, unit: f.unit, target: f.target ?? '' })),
    // As they reach the fake: the pacer spaces the requests' starts by a second, HTTP round trips vary by a few ms.
    { figure: 'burst.30 smallest gap between two check writes, at arrival', value: Math.round(bursts.minGapMs), unit: 'ms', target: '~1000' },
    { figure: 'burst.30 unchanged: writes', value: bursts.unchangedWrites, unit: 'requests', target: '0' },
  ]);
  writeResults(
    'production',
    {
      measuredAt: new Date().toISOString(),
      coalesceMs: window,
      latencyMs: samples.map(Math.round),
      burst30: { drainMs: Math.round(bursts.drainMs), minGapMs: Math.round(bursts.minGapMs), unchangedMs: Math.round(bursts.unchangedMs), unchangedWrites: bursts.unchangedWrites },
    },
    figures,
  );
  console.log('\nwrote bench/results.json (key "production")');
}

await main();
