// Landing's cost and speed: the GitHub requests one landing adds to the
// evaluation that passed (REST and GraphQL, by operation); the delivery
// latency from the merge to the acknowledged trunk-updated (real timers, a real
// receiver on 127.0.0.1 verifying the signature, the fake GitHub in memory);
// and, in a burst of pull requests passing at once with GitHub's pacing on
// (Probot's production Octokit, fake time), how old the verdict a merge rests
// on is when the merge call is sent.
//   npx tsx bench/landing.ts
import nock from 'nock';
import { systemClock, systemTimers } from '../src/clock.js';
import { FakeGitHub } from '../test/helpers/github-fake.js';
import { ManualClock } from '../test/helpers/github-timers.js';
import { pullPayload } from '../test/helpers/github-app.js';
import { fileAdding, setupRepo, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
import { Receiver, startLandingApp } from '../test/helpers/landing.js';
import { printTable, writeResults } from './results-file.js';

const LANDINGS = 50;

function byOperation(fake: FakeGitHub): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of fake.apiRequests()) out[`${r.kind === 'graphql' ? 'GraphQL' : 'REST'} ${r.operation}`] = (out[`${r.kind === 'graphql' ? 'GraphQL' : 'REST'} ${r.operation}`] ?? 0) + 1;
  return out;
}

/**
 * Requests of one typical evaluation that passes, without landing (land.mode: off), and of one that lands.
 * The only open pull request: re-evaluating the branch's others after a landing is their own evaluation's cost.
 */
async function requestsPerLanding() {
  const measure = async (mode: 'off' | 'auto') => {
    const fake = new FakeGitHub().install();
    try {
      const repo = setupRepo(fake, `version: 1\npreset: default\nreviews: { required: 1 }\nchecks: { required: ["ci/test"] }\nland: { mode: ${mode} }\n`);
      const pull = typicalPull(fake, repo, 2, typicalFiles(10));
      repo.branches.set(pull.headRef, pull.headSha);
      const app = await startLandingApp(fake);
      await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
      await app.drain();
      const counts = { ...fake.count(), operations: byOperation(fake), merged: pull.state === 'MERGED' };
      app.stop();
      if (fake.problems.length) throw new Error(fake.problems.join('\n'));
      return counts;
    } finally {
      fake.uninstall();
    }
  };
  const evaluation = await measure('off');
  const landing = await measure('auto');
  const added: Record<string, number> = {};
  for (const [op, n] of Object.entries(landing.operations)) if (n - (evaluation.operations[op] ?? 0) !== 0) added[op] = n - (evaluation.operations[op] ?? 0);
  return { evaluation, landing, added };
}

/** Merge → acknowledged event, on real time, `LANDINGS` landings one after the other. */
async function mergeToAck() {
  const fake = new FakeGitHub().install();
  const receiver = await new Receiver().start();
  const mergedAt = new Map<number, number>();
  const ackedAt = new Map<number, number>();
  try {
    const repo = setupRepo(fake, 'version: 1\npreset: default\nreviews: { required: 1 }\nchecks: { required: ["ci/test"] }\n');
    fake.mergeFault = (pull) => {
      mergedAt.set(pull.number, performance.now());
      return 'none';
    };
    const app = await startLandingApp(fake, {
      config: { clock: systemClock, timers: systemTimers, coalesceMs: 0 },
      outbox: { urls: [receiver.url] },
      landing: { clock: systemClock, timers: systemTimers },
    });
    for (let i = 0; i < LANDINGS; i++) {
      const pull = typicalPull(fake, repo, 2 + i, typicalFiles(3));
      await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
      const seen = receiver.received.length;
      const deadline = performance.now() + 10_000;
      while (receiver.received.length === seen) {
        if (performance.now() > deadline) throw new Error(`landing ${pull.number} was not delivered`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      ackedAt.set(pull.number, performance.now());
    }
    app.stop();
    const ms = [...ackedAt].map(([n, t]) => t - mergedAt.get(n)!).sort((a, b) => a - b);
    const pct = (p: number) => +ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))].toFixed(2);
    return { landings: LANDINGS, p50: pct(50), p95: pct(95), max: +ms[ms.length - 1].toFixed(2) };
  } finally {
    await receiver.close();
    fake.uninstall();
  }
}

const BURST = { pulls: 30, branches: ['main', 'release-1', 'release-2'] } as const;

/**
 * A burst: BURST.pulls pull requests over three branches pass at once, with
 * GitHub's pacing on (writes a second apart, on fake time). For each merge:
 * how long before the merge call reached GitHub the facts it rests on were
 * read (the pull request's last facts query: landing's re-read right before
 * the merge), and how long before it the evaluation that passed read them.
 */
async function verdictAgeBurst() {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, 'version: 1\npreset: default\nreviews: { required: 1 }\nchecks: { required: ["ci/test"] }\n');
    const tip = repo.branches.get('main')!;
    for (const b of BURST.branches) repo.branches.set(b, tip);
    const clock = new ManualClock();
    const pulls = Array.from({ length: BURST.pulls }, (_, i) => {
      const pull = typicalPull(fake, repo, i + 2, [fileAdding(`src/burst${i}.ts`, [`export const v = ${i};`])]);
      pull.baseRef = BURST.branches[i % BURST.branches.length];
      return pull;
    });
    const lastRead = new Map<number, { at: number; landing: boolean }>();
    const lastEvaluation = new Map<number, number>();
    const ages: Array<{ verdict: number; evaluation: number }> = [];
    fake.onRequest = (r) => {
      const at = clock.now().getTime();
      if (r.operation === 'MergeGateFacts') {
        const number = Number(r.variables!.number);
        lastRead.set(number, { at, landing: r.variables!.landing === true });
        if (r.variables!.landing !== true) lastEvaluation.set(number, at);
      }
      const merge = /\/pulls\/(\d+)\/merge$/.exec(r.path);
      if (merge && r.method === 'PUT') {
        const number = Number(merge[1]);
        ages.push({ verdict: at - lastRead.get(number)!.at, evaluation: at - lastEvaluation.get(number)! });
      }
    };
    // writeSpacingMs set: the throttling plugin's own 3 s between writes that notify people (real time) is
    // lifted, and the pacer's second between writes (fake time) governs every write — what is measured here.
    const app = await startLandingApp(fake, { config: { coalesceMs: 1_000, writeSpacingMs: 1_000 }, start: { clock, production: true } });
    for (const pull of pulls) await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    // Fake time moves only when the app waits on it (GitHub's pacing, coalescing): to the next timer, once
    // no request has reached the fake GitHub for a while of real time.
    const quiet = async () => {
      for (let last = -1; last !== fake.requests.length; ) {
        last = fake.requests.length;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    };
    for (let step = 0, idle = 0; pulls.some((p) => p.state !== 'MERGED'); step++) {
      await quiet();
      const next = clock.nextAt();
      idle = next === null ? idle + 1 : 0; // no timer: requests still in flight (real time), or stalled
      if (step > 20_000 || idle > 250) {
        throw new Error(`the burst stalled: ${pulls.filter((p) => p.state !== 'MERGED').map((p) => `#${p.number} ${p.baseRef}: ${fake.ourRuns(repo, p.headSha).at(-1)?.title}`).join('; ')}; errors ${JSON.stringify(app.errors).slice(0, 2000)}; ${fake.problems.join('\n')}`);
      }
      if (next !== null) await clock.advance(Math.max(0, next - clock.now().getTime()));
    }
    app.stop();
    if (fake.problems.length) throw new Error(fake.problems.join('\n'));
    const pct = (values: number[], p: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    };
    const verdict = ages.map((a) => a.verdict);
    const evaluation = ages.map((a) => a.evaluation);
    return {
      pulls: BURST.pulls,
      branches: BURST.branches.length,
      merges: ages.length,
      verdictAgeMs: { p50: pct(verdict, 50), p95: pct(verdict, 95), max: Math.max(...verdict) },
      evaluationAgeMs: { p50: pct(evaluation, 50), p95: pct(evaluation, 95), max: Math.max(...evaluation) },
    };
  } finally {
    fake.uninstall();
  }
}

async function main(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const requests = await requestsPerLanding();
  const burst = await verdictAgeBurst();
  const latency = await mergeToAck();
  const ms = (a: { p50: number; p95: number; max: number }) => ({ p50: `${a.p50} ms`, p95: `${a.p95} ms`, max: `${a.max} ms` });
  const landingRequests = Object.values(requests.added).reduce((a, b) => a + b, 0);
  printTable('GitHub requests: one typical evaluation that passes, and what landing it adds (installation tokens excluded)', [
    ...Object.entries(requests.landing.operations).map(([op, n]) => ({ operation: op, 'evaluation + landing': n, 'landing adds': requests.added[op] ?? 0 })),
    { operation: 'total', 'evaluation + landing': requests.landing.total, 'landing adds': landingRequests },
  ]);
  printTable(`trunk-updated latency, merge → acknowledged by a local receiver (${LANDINGS} landings, real timers)`, [
    { p50: `${latency.p50} ms`, p95: `${latency.p95} ms`, max: `${latency.max} ms` },
  ]);
  printTable(`Age at the merge call, burst of ${burst.pulls} pull requests over ${burst.branches} branches passing at once (GitHub's pacing on, fake time)`, [
    { read: 'the facts the merge rests on (the re-read)', ...ms(burst.verdictAgeMs) },
    { read: 'the evaluation that passed', ...ms(burst.evaluationAgeMs) },
  ]);
  writeResults(
    'landing',
    { measuredAt: new Date().toISOString(), requests, latency, burst },
    [
      { name: 'requests.land', value: landingRequests, unit: 'requests', target: '<= 6' },
      { name: 'land.verdict_age.p95.ms', value: burst.verdictAgeMs.p95, unit: 'ms', target: null },
      { name: 'outbox.merge_to_ack.p50.ms', value: latency.p50, unit: 'ms', target: null },
    ],
  );
  console.log('\nwrote bench/results.json (key "landing")');
}

await main();
