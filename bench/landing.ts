// Landing's cost and speed: the GitHub requests one landing adds to the
// evaluation that passed (REST and GraphQL, by operation), and the delivery
// latency from the merge to the acknowledged trunk-updated (real timers, a real
// receiver on 127.0.0.1 verifying the signature, the fake GitHub in memory).
//   npx tsx bench/landing.ts
import nock from 'nock';
import { systemClock, systemTimers } from '../src/clock.js';
import { FakeGitHub } from '../test/helpers/github-fake.js';
import { pullPayload } from '../test/helpers/github-app.js';
import { setupRepo, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
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

async function main(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const requests = await requestsPerLanding();
  const latency = await mergeToAck();
  const landingRequests = Object.values(requests.added).reduce((a, b) => a + b, 0);
  printTable('GitHub requests: one typical evaluation that passes, and what landing it adds (installation tokens excluded)', [
    ...Object.entries(requests.landing.operations).map(([op, n]) => ({ operation: op, 'evaluation + landing': n, 'landing adds': requests.added[op] ?? 0 })),
    { operation: 'total', 'evaluation + landing': requests.landing.total, 'landing adds': landingRequests },
  ]);
  printTable(`trunk-updated latency, merge → acknowledged by a local receiver (${LANDINGS} landings, real timers)`, [
    { p50: `${latency.p50} ms`, p95: `${latency.p95} ms`, max: `${latency.max} ms` },
  ]);
  writeResults(
    'landing',
    { measuredAt: new Date().toISOString(), requests, latency },
    [
      { name: 'requests.land', value: landingRequests, unit: 'requests', target: null },
      { name: 'outbox.merge_to_ack.p50.ms', value: latency.p50, unit: 'ms', target: null },
    ],
  );
  console.log('\nwrote bench/results.json (key "landing")');
}

await main();
