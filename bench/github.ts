// GitHub cost of the app: requests per evaluation (REST and GraphQL counted
// apart) for a typical pull request (10 files) and a large one (500 files),
// first evaluation and re-evaluation with nothing changed, every rule
// configured (flags included), with and without `trunk`, and for a repository
// with no policy file; how many evaluations a burst of 1,000 webhooks over 100
// pull requests turns into; and what one deployment_status event costs in a
// repository with 100 open pull requests (the trunk loop).
//
// Runs the real app (Probot + merge-gate) against the fake GitHub the tests
// use (nock, in memory), on fake time.   npx tsx bench/github.ts
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../test/helpers/github-fake.js';
import { aimAt, deploymentStatusPayload, example, pullPayload, startTestApp, type TestApp } from '../test/helpers/github-app.js';
import { approve, deploy, FULL_POLICY, setupRepo, TRUNK, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
import { DEFAULT_CONFIG } from '../src/github/config.js';
import { printTable, writeResults } from './results-file.js';

interface Cost {
  rest: number;
  graphql: number;
  total: number;
  writes: number;
}

async function measure(fake: FakeGitHub, app: TestApp, repo: FakeRepo, pull: FakePull): Promise<{ first: Cost; again: Cost; ms: number }> {
  fake.resetRequests();
  const t0 = performance.now();
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.drain();
  const ms = performance.now() - t0;
  const first = fake.count();
  fake.resetRequests();
  await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
  await app.drain();
  const again = fake.count();
  if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);
  return { first, again, ms };
}

async function perEvaluation(files: number, policy: string | null = FULL_POLICY, setup: (fake: FakeGitHub, repo: FakeRepo) => void = () => undefined) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, policy);
    setup(fake, repo);
    const pull = typicalPull(fake, repo, 2, typicalFiles(files));
    const app = await startTestApp(fake);
    const result = await measure(fake, app, repo, pull);
    app.gate.stop();
    return { ...result, conclusion: fake.ourRuns(repo)[0]?.conclusion ?? null };
  } finally {
    fake.uninstall();
  }
}

/** One deployment_status (failure of a revision merge-gate landed) in a repository with `pulls` open pull requests, already evaluated once. */
async function deploymentStatusFanOut(pulls: number) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, `${FULL_POLICY}${TRUNK}`);
    const landed = fake.landByApp(repo, fake.addPull(repo, { number: 1 }));
    for (let i = 0; i < pulls; i++) typicalPull(fake, repo, i + 2, typicalFiles(10));
    const app = await startTestApp(fake, { coalesceMs: DEFAULT_CONFIG.coalesceMs, concurrency: DEFAULT_CONFIG.concurrency });
    for (const pull of repo.pulls.values()) if (pull.state === 'OPEN') await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app.drain(600_000);
    fake.resetRequests();
    const before = app.gate.stats.evaluations;
    const t0 = performance.now();
    await app.receive('deployment_status', deploymentStatusPayload(fake, repo, deploy(fake, repo, landed, 'FAILURE')));
    await app.drain(600_000);
    const ms = performance.now() - t0;
    const held = [...repo.pulls.values()].filter((p) => p.state === 'OPEN' && !p.byApp && fake.ourRuns(repo, p.headSha).at(-1)?.status === 'in_progress').length;
    const result = { pulls, evaluations: app.gate.stats.evaluations - before, held, reverts: [...repo.pulls.values()].filter((p) => p.byApp).length, requests: fake.count(), ms: Math.round(ms) };
    app.gate.stop();
    if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);
    return result;
  } finally {
    fake.uninstall();
  }
}

/** A small deterministic PRNG, so every run sends the same burst. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function burst(events: number, pulls: number, spreadMs: number) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake);
    const prs = Array.from({ length: pulls }, (_, i) => typicalPull(fake, repo, i + 1, typicalFiles(10)));
    const app = await startTestApp(fake, { coalesceMs: DEFAULT_CONFIG.coalesceMs, concurrency: DEFAULT_CONFIG.concurrency });
    const random = prng(42);
    const kinds = { pull_request: 0, pull_request_review: 0, status: 0, check_run: 0 };
    const t0 = performance.now();
    for (let i = 0; i < events; i++) {
      const pull = prs[Math.floor(random() * pulls)];
      const roll = random();
      if (roll < 0.4) {
        kinds.pull_request++;
        pull.labels = [`l${i}`];
        await app.receive('pull_request', pullPayload('pull_request', roll < 0.2 ? 'labeled' : 'synchronize', fake, repo, pull));
      } else if (roll < 0.6) {
        kinds.pull_request_review++;
        approve(pull, `reviewer${i}`);
        await app.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull));
      } else if (roll < 0.8) {
        kinds.status++;
        const status = aimAt(example('status'), fake, repo);
        status.sha = pull.headSha;
        status.context = `ci/job-${i % 7}`;
        await app.receive('status', status);
      } else {
        kinds.check_run++;
        const run = aimAt(example('check_run', 'completed'), fake, repo);
        run.check_run.app.id = 29310;
        run.check_run.head_sha = pull.headSha;
        run.check_run.pull_requests = [{ number: pull.number, head: { sha: pull.headSha }, base: { ref: 'main', repo: { id: repo.id } } }];
        await app.receive('check_run', run);
      }
      await app.advance(spreadMs / events);
    }
    await app.drain(600_000);
    const ms = performance.now() - t0;
    const count = fake.count();
    const evaluations = app.gate.stats.evaluations;
    const lookups = fake.apiRequests().filter((r) => r.operation === 'MergeGateOpenPulls').length;
    app.gate.stop();
    if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);
    return { events, pulls, spreadMs, coalesceMs: DEFAULT_CONFIG.coalesceMs, kinds, evaluations, eventsPerEvaluation: +(events / evaluations).toFixed(2), shaLookups: lookups, requests: count, ms: Math.round(ms) };
  } finally {
    fake.uninstall();
  }
}

async function main(): Promise<void> {
  nock.disableNetConnect();
  const typical = await perEvaluation(10);
  const large = await perEvaluation(500);
  const trunk = await perEvaluation(10, `${FULL_POLICY}${TRUNK}`, (fake, repo) => deploy(fake, repo, 'f'.repeat(40), 'FAILURE'));
  const ungated = await perEvaluation(10, null);
  const fanOut = await deploymentStatusFanOut(100);
  const bursts = [await burst(1000, 100, 1_000), await burst(1000, 100, 10_000)];

  const row = (name: string, c: Cost) => ({ case: name, REST: c.rest, GraphQL: c.graphql, total: c.total, writes: c.writes });
  printTable('GitHub requests per evaluation (every rule configured, flags included; installation-token requests excluded)', [
    row('typical (10 files), first', typical.first),
    row('typical (10 files), unchanged', typical.again),
    row('large (500 files), first', large.first),
    row('large (500 files), unchanged', large.again),
    row('typical with trunk (held), first', trunk.first),
    row('typical with trunk (held), unchanged', trunk.again),
    row('no policy file, any event', ungated.again),
  ]);
  printTable('One deployment_status event (failure of a revision merge-gate landed; trunk with revert)', [
    {
      'open pull requests': fanOut.pulls,
      evaluations: fanOut.evaluations,
      held: fanOut.held,
      'reverts opened': fanOut.reverts,
      REST: fanOut.requests.rest,
      GraphQL: fanOut.requests.graphql,
      writes: fanOut.requests.writes,
      'wall ms': fanOut.ms,
    },
  ]);
  printTable(`Bursts of 1,000 webhooks over 100 pull requests (coalescing ${DEFAULT_CONFIG.coalesceMs} ms, ${DEFAULT_CONFIG.concurrency} evaluations at once)`,
    bursts.map((b) => ({
      'sent within': `${b.spreadMs / 1000} s`,
      ...b.kinds,
      evaluations: b.evaluations,
      'events/evaluation': b.eventsPerEvaluation,
      'SHA lookups': b.shaLookups,
      REST: b.requests.rest,
      GraphQL: b.requests.graphql,
      writes: b.requests.writes,
      'wall ms': b.ms,
    })),
  );
  writeResults('github', {
    measuredAt: new Date().toISOString(),
    note: 'requests per evaluation exclude installation-token requests (one per installation per hour)',
    perEvaluation: {
      typical10Files: { first: typical.first, unchanged: typical.again, conclusion: typical.conclusion, wallMs: Math.round(typical.ms) },
      large500Files: { first: large.first, unchanged: large.again, conclusion: large.conclusion, wallMs: Math.round(large.ms) },
      typicalWithTrunkHeld: { first: trunk.first, unchanged: trunk.again, conclusion: trunk.conclusion },
      noPolicy: { first: ungated.first, again: ungated.again, conclusion: ungated.conclusion },
    },
    deploymentStatus: fanOut,
    bursts,
  });
  console.log('\nwrote bench/results.json (key "github")');
}

await main();
