// GitHub cost of the app: requests per evaluation (REST and GraphQL counted
// apart; a conditional read answered 304 is not counted, as GitHub does not)
// for a typical pull request (10 files) under a policy without flags and
// without the mechanical label, the same with every rule configured (flags
// included), with and without `trunk`, a large one (500 files), first
// evaluation and re-evaluation with nothing changed, and a repository with no
// policy file; path-scoped approvals (`reviews.owners`: two groups, one team
// each, one of them CODEOWNERS); how many evaluations a burst of 1,000 webhooks over 100 pull
// requests turns into; what one deployment_status event costs in a repository
// with 100 open pull requests (the trunk loop); and how the writes of a burst
// over 100 pull requests are paced (Probot's production Octokit, throttling on).
//
// Runs the real app (Probot + merge-gate) against the fake GitHub the tests
// use (nock, in memory), on fake time.   npx tsx bench/github.ts
import nock from 'nock';
import { FakeGitHub, type FakeFile, type FakePull, type FakeRepo } from '../test/helpers/github-fake.js';
import { aimAt, deploymentStatusPayload, example, pullPayload, startTestApp, type TestApp } from '../test/helpers/github-app.js';
import { approve, deploy, fileAdding, FULL_POLICY, setupRepo, TRUNK, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
import { ManualClock } from '../test/helpers/github-timers.js';
import { prng } from '../test/helpers/prng.js';
import { DEFAULT_CONFIG } from '../src/github/config.js';
import { printTable, writeResults, type Figure } from './results-file.js';

/** A policy without `flags` and without the mechanical label: what most repositories run. */
const TYPICAL_POLICY = `version: 1
reviews:
  required: 1
  fresh: true
size:
  max_lines: 5000
  exclude: ["**/package-lock.json"]
checks:
  required: ["ci/test"]
`;

/** The typical policy with two owners groups, one team each: a path group, and CODEOWNERS (read at the base). */
const OWNERS_POLICY = TYPICAL_POLICY.replace(
  '  fresh: true\n',
  '  fresh: true\n  owners:\n    - { name: database, paths: ["db/**"], from: ["@octo/dba"] }\n    - { name: code owners, codeowners: true }\n',
);
const OWNERS_FILES: FakeFile[] = [...typicalFiles(8), fileAdding('db/migrate/001.sql', ['create table t (id int);']), fileAdding('web/app.ts', ['export {};'])];

/** Teams with members, CODEOWNERS at the base; the pull request approved by a member of each team. */
function ownersSetup(fake: FakeGitHub, repo: FakeRepo): void {
  fake.orgs.addTeam('octo', 'dba', ['dan']);
  fake.orgs.addTeam('octo', 'web', ['erin']);
  fake.setDefaultFile(repo, '.github/CODEOWNERS', 'web/ @octo/web\n');
}

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

async function perEvaluation(files: number | FakeFile[], policy: string | null = FULL_POLICY, setup: (fake: FakeGitHub, repo: FakeRepo) => void = () => undefined, reviewers: string[] = []) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, policy);
    setup(fake, repo);
    const pull = typicalPull(fake, repo, 2, typeof files === 'number' ? typicalFiles(files) : files);
    for (const login of reviewers) approve(pull, login);
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

async function burst(events: number, pulls: number, spreadMs: number) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake);
    const prs = Array.from({ length: pulls }, (_, i) => typicalPull(fake, repo, i + 1, typicalFiles(10)));
    const app = await startTestApp(fake, { coalesceMs: DEFAULT_CONFIG.coalesceMs, coalesceMaxMs: DEFAULT_CONFIG.coalesceMaxMs, concurrency: DEFAULT_CONFIG.concurrency });
    const random = prng(42); // the same burst on every run
    const kinds = { pull_request: 0, pull_request_review: 0, status: 0, check_run: 0 };
    // Fake time of each pull request's last event, and of its evaluations' facts queries.
    const lastEvent = new Map<number, number>();
    const evaluatedAt = new Map<number, number[]>();
    fake.onRequest = (r) => {
      if (r.operation === 'MergeGateFacts') evaluatedAt.set(Number(r.variables!.number), [...(evaluatedAt.get(Number(r.variables!.number)) ?? []), app.clock.now().getTime()]);
    };
    const t0 = performance.now();
    for (let i = 0; i < events; i++) {
      const pull = prs[Math.floor(random() * pulls)];
      lastEvent.set(pull.number, app.clock.now().getTime());
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
    // How long after its last event each pull request was evaluated for the last time (its check then shows the final state).
    const lateness = Math.max(...[...lastEvent].map(([n, at]) => Math.max(...(evaluatedAt.get(n) ?? [Infinity])) - at)) / 1000;
    return { events, pulls, spreadMs, coalesceMs: DEFAULT_CONFIG.coalesceMs, coalesceMaxMs: DEFAULT_CONFIG.coalesceMaxMs, kinds, evaluations, eventsPerEvaluation: +(events / evaluations).toFixed(2), shaLookups: lookups, requests: count, ms: Math.round(ms), lateness };
  } finally {
    fake.uninstall();
  }
}

/**
 * 100 pull requests opened at once, Probot's production Octokit (throttling
 * on, writes paced on the app's fake clock): when each check-run write goes
 * out. Time moves a second at a time once every evaluation waits to write.
 */
async function pacedBurst(n: number) {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, TYPICAL_POLICY);
    const prs = Array.from({ length: n }, (_, i) => typicalPull(fake, repo, i + 1, typicalFiles(10)));
    const clock = new ManualClock();
    const writes: number[] = [];
    fake.onRequest = (r) => {
      if (r.kind === 'rest' && r.method !== 'GET') writes.push(clock.now().getTime());
    };
    const app = await startTestApp(fake, { coalesceMs: DEFAULT_CONFIG.coalesceMs, concurrency: DEFAULT_CONFIG.concurrency }, {}, { clock, production: true });
    const until = async (condition: () => boolean) => {
      for (let i = 0; !condition(); i++) {
        if (i > 3000) throw new Error(`paced burst stalled: ${writes.length} writes, ${fake.problems.join('\n')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const t0 = clock.now().getTime();
    for (const pull of prs) await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await clock.advance(DEFAULT_CONFIG.coalesceMs);
    await until(() => app.gate.stats.evaluations === n && fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts').length === n && writes.length >= 1);
    while (writes.length < n) {
      const before = writes.length;
      await clock.advance(1000);
      await until(() => writes.length > before);
    }
    await app.gate.idle();
    app.gate.stop();
    if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);
    const gaps = writes.slice(1).map((t, i) => t - writes[i]);
    const perMinute = Math.max(...writes.map((t) => writes.filter((u) => u >= t && u < t + 60_000).length));
    return { pulls: n, writes: writes.length, drainS: (writes.at(-1)! - t0) / 1000, minGapMs: Math.min(...gaps), maxWritesPerMinute: perMinute };
  } finally {
    fake.uninstall();
  }
}

async function main(): Promise<void> {
  nock.disableNetConnect();
  const typical = await perEvaluation(10, TYPICAL_POLICY);
  const typicalFlags = await perEvaluation(10);
  const large = await perEvaluation(500);
  const trunk = await perEvaluation(10, `${FULL_POLICY}${TRUNK}`, (fake, repo) => deploy(fake, repo, 'f'.repeat(40), 'FAILURE'));
  const ungated = await perEvaluation(10, null);
  const owners = await perEvaluation(OWNERS_FILES, OWNERS_POLICY, ownersSetup, ['dan', 'erin']);
  if (owners.conclusion !== 'success') throw new Error(`the owners pull request should pass, got ${owners.conclusion}`);
  const fanOut = await deploymentStatusFanOut(100);
  const bursts = [await burst(1000, 100, 1_000), await burst(1000, 100, 10_000)];
  const paced = await pacedBurst(100);

  const row = (name: string, c: Cost) => ({ case: name, REST: c.rest, GraphQL: c.graphql, total: c.total, writes: c.writes });
  printTable('GitHub requests per evaluation (304s and installation-token requests not counted)', [
    row('typical (10 files, no flags), first', typical.first),
    row('typical (10 files, no flags), unchanged', typical.again),
    row('typical (10 files, every rule), first', typicalFlags.first),
    row('typical (10 files, every rule), unchanged', typicalFlags.again),
    row('large (500 files), first', large.first),
    row('large (500 files), unchanged', large.again),
    row('typical with trunk (held), first', trunk.first),
    row('typical with trunk (held), unchanged', trunk.again),
    row('no policy file, any event', ungated.again),
    row('reviews.owners (two groups, one team each, CODEOWNERS), first', owners.first),
    row('reviews.owners, unchanged', owners.again),
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
      'final state after last event s': b.lateness,
      'wall ms': b.ms,
    })),
  );
  printTable('Pacing of a burst: 100 pull requests opened at once, one check write each (production Octokit, fake time)', [
    { writes: paced.writes, 'drain s': paced.drainS, 'smallest gap ms': paced.minGapMs, 'most writes in a minute': paced.maxWritesPerMinute },
  ]);
  const [oneSecond, tenSeconds] = bursts;
  const figures: Figure[] = [
    { name: 'requests.typical.first', value: typical.first.total, unit: 'requests', target: '<= 3' },
    { name: 'requests.typical.unchanged', value: typical.again.total, unit: 'requests', target: '= 1' },
    { name: 'writes.typical.unchanged', value: typical.again.writes, unit: 'requests', target: '= 0' },
    { name: 'requests.typical_flags.first', value: typicalFlags.first.total, unit: 'requests', target: null },
    { name: 'requests.large.first', value: large.first.total, unit: 'requests', target: null },
    { name: 'requests.owners.first', value: owners.first.total, unit: 'requests', target: '<= 4' },
    { name: 'requests.owners.unchanged', value: owners.again.total, unit: 'requests', target: '<= 1' },
    { name: 'burst.1s.evaluations_per_pull', value: +(oneSecond.evaluations / oneSecond.pulls).toFixed(2), unit: 'evaluations', target: '<= 1.5' },
    { name: 'burst.10s.evaluations_per_pull', value: +(tenSeconds.evaluations / tenSeconds.pulls).toFixed(2), unit: 'evaluations', target: '<= 2' },
    { name: 'burst.10s.writes_per_pull', value: +(tenSeconds.requests.writes / tenSeconds.pulls).toFixed(2), unit: 'requests', target: null },
    { name: 'burst.10s.final_state_after_last_event_s', value: tenSeconds.lateness, unit: 's', target: '<= 5' },
    { name: 'burst.100.writes_per_minute_max', value: paced.maxWritesPerMinute, unit: 'writes', target: '<= 80' },
    { name: 'burst.100.min_write_gap_ms', value: paced.minGapMs, unit: 'ms', target: '>= 1000' },
  ];
  writeResults('github', {
    measuredAt: new Date().toISOString(),
    note: 'requests per evaluation exclude installation-token requests (one per installation per hour) and conditional reads answered 304',
    perEvaluation: {
      typical10Files: { first: typical.first, unchanged: typical.again, conclusion: typical.conclusion, wallMs: Math.round(typical.ms) },
      typical10FilesEveryRule: { first: typicalFlags.first, unchanged: typicalFlags.again, conclusion: typicalFlags.conclusion },
      large500Files: { first: large.first, unchanged: large.again, conclusion: large.conclusion, wallMs: Math.round(large.ms) },
      typicalWithTrunkHeld: { first: trunk.first, unchanged: trunk.again, conclusion: trunk.conclusion },
      noPolicy: { first: ungated.first, again: ungated.again, conclusion: ungated.conclusion },
      owners: { first: owners.first, unchanged: owners.again, conclusion: owners.conclusion },
    },
    deploymentStatus: fanOut,
    bursts,
    pacedBurst100: paced,
  }, figures);
  console.log('\nwrote bench/results.json (key "github")');
}

await main();
