// `merge-gate replay --github` and `simulate`, as a user runs them: the real CLI
// in a child process, GITHUB_API_URL pointing at the fake GitHub over HTTP.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub, type FakeRepo, type RecordedRequest } from '../helpers/github-fake.js';
import { addMergedPull, type MergedPullSpec } from '../helpers/github-fake-history.js';
import { startCli, type CliRun } from '../helpers/cli.js';
import { rateLimitWait } from '../../src/octokit/token.js';

const POLICY = `version: 1
preset: none
reviews:
  required: 1
  fresh: true
freeze:
  timezone: UTC
  windows:
    - name: weekend
      weekly: { from: "sat 00:00", to: "mon 00:00" }
  exception: { label: hotfix, required: 1 }
checks:
  required: [ci/test]
trunk:
  environment: production
`;

const hourBefore = (iso: string, h = 1) => new Date(Date.parse(iso) - h * 3_600_000).toISOString();

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let repo: FakeRepo;
let dir: string;

/** A pull request that passes as of its merge, with what a case overrides. */
function merged(spec: MergedPullSpec & { approveAt?: string; approveOn?: string }) {
  const pull = addMergedPull(fake, repo, { checks: [{ name: 'ci/test', startedAt: hourBefore(spec.mergedAt, 2), completedAt: hourBefore(spec.mergedAt) }], ...spec });
  pull.reviews = spec.reviews ?? [{ login: 'bob', state: 'APPROVED', submittedAt: spec.approveAt ?? hourBefore(spec.mergedAt), commit: spec.approveOn ?? pull.headSha }];
  return pull;
}

function env(): Record<string, string> {
  return { GITHUB_TOKEN: 'ghp_test', GITHUB_API_URL: fake.baseUrl, XDG_CACHE_HOME: join(dir, 'cache') };
}

async function cli(args: string[], onChild?: (kill: () => void) => void): Promise<CliRun> {
  const run = startCli(args, dir, env());
  onChild?.(() => run.child.kill('SIGKILL'));
  return run.done;
}

function json(run: CliRun) {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}

const factsRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.operation === 'MergeGateReplayPulls');
const numbersAsked = (requests: RecordedRequest[]) => factsRequests(requests).flatMap((r) => Object.entries(r.variables ?? {}).filter(([k]) => /^n\d+$/.test(k)).map(([, v]) => v as number));

beforeEach(async () => {
  ({ fake, close: closeFake } = await FakeGitHub.listening());
  repo = fake.addRepo('octo', 'app', { files: { '.github/merge-gate.yml': POLICY } });
  dir = mkdtempSync(join(tmpdir(), 'replay-github-'));
});

afterEach(async () => {
  await closeFake();
  rmSync(dir, { recursive: true, force: true });
  expect(fake.problems).toEqual([]);
});

describe('replay --github: each pull request as of its merge', () => {
  test('reviews, labels, checks and deployments after the merge do not count; fresh wants the merged head', async () => {
    // Tue 10 Nov 2026: weekdays; Sat 14 Nov: the weekend freeze.
    merged({ number: 1, title: 'all good', mergedAt: '2026-11-10T12:00:00Z' });
    merged({ number: 2, title: 'approved after the merge', mergedAt: '2026-11-10T13:00:00Z', approveAt: '2026-11-10T13:30:00Z' });
    merged({ number: 3, title: 'approved an earlier head', mergedAt: '2026-11-10T14:00:00Z', approveOn: 'e'.repeat(40) });
    merged({ number: 4, title: 'ci finished after the merge', mergedAt: '2026-11-10T15:00:00Z', checks: [{ name: 'ci/test', startedAt: '2026-11-10T14:30:00Z', completedAt: '2026-11-10T15:10:00Z' }] });
    merged({ number: 5, title: 'ci re-run after the merge', mergedAt: '2026-11-10T16:00:00Z', checks: [{ name: 'ci/test', startedAt: '2026-11-10T17:00:00Z', completedAt: '2026-11-10T17:10:00Z' }] });
    merged({ number: 6, title: 'deployed while trunk was failing', mergedAt: '2026-11-12T12:00:00Z' });
    merged({ number: 7, title: 'hotfix label after the merge', mergedAt: '2026-11-14T10:00:00Z', labelEvents: [{ name: 'hotfix', added: true, at: '2026-11-14T11:00:00Z' }] });
    merged({ number: 8, title: 'hotfix label before the merge', mergedAt: '2026-11-14T12:00:00Z', labelEvents: [{ name: 'hotfix', added: true, at: '2026-11-14T09:00:00Z' }] });
    merged({
      number: 9,
      title: 'hotfix label removed before the merge',
      mergedAt: '2026-11-14T13:00:00Z',
      labelEvents: [
        { name: 'hotfix', added: true, at: '2026-11-14T09:00:00Z' },
        { name: 'hotfix', added: false, at: '2026-11-14T10:00:00Z' },
      ],
    });
    const healthy = fake.addDeployment(repo, { sha: 'a'.repeat(40), createdAt: '2026-11-01T10:00:00Z' });
    fake.addDeploymentStatus(healthy, 'SUCCESS', { createdAt: '2026-11-01T10:05:00Z' });
    const bad = fake.addDeployment(repo, { sha: 'b'.repeat(40), createdAt: '2026-11-12T10:00:00Z' });
    fake.addDeploymentStatus(bad, 'FAILURE', { createdAt: '2026-11-12T10:05:00Z', description: 'error rate 9%' });
    fake.addDeploymentStatus(bad, 'SUCCESS', { createdAt: '2026-11-12T14:00:00Z' });
    // Deployed after every merge: counts for none of them.
    fake.addDeploymentStatus(fake.addDeployment(repo, { sha: 'c'.repeat(40), createdAt: '2026-11-20T10:00:00Z' }), 'FAILURE', { createdAt: '2026-11-20T10:01:00Z' });

    const run = await cli(['replay', '--github', 'octo/app', '--json']);
    const report = json(run);
    expect(run.code).toBe(0);
    // One listing page, one facts request for all nine, the deployments once.
    expect(fake.count()).toMatchObject({ graphql: 3, rest: 0, writes: 0 });
    const byNumber = Object.fromEntries(report.changes.map((c: { pull_request: number }) => [c.pull_request, c]));
    const rules = (n: number) => byNumber[n].rules;
    expect(report.changes.map((c: { pull_request: number }) => c.pull_request)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(byNumber[1]).toMatchObject({ result: 'pass', at: '2026-11-10T12:00:00Z', title: 'all good', sha: repo.pulls.get(1)!.mergeCommit, reasons: [] });
    expect(rules(1)).toEqual({ reviews: 'pass', size: 'skip', freeze: 'pass', flags: 'skip', checks: 'pass', trunk: 'pass' });
    expect(rules(2).reviews).toBe('fail');
    expect(rules(3).reviews).toBe('fail');
    expect(rules(4).checks).toBe('wait');
    expect(rules(5).checks).toBe('unknown');
    expect(rules(6).trunk).toBe('wait');
    expect(byNumber[6].reasons.join('\n')).toMatch(/trunk: .*failure/);
    expect(rules(7).freeze).toBe('wait');
    expect(byNumber[8].result).toBe('pass');
    expect(rules(9).freeze).toBe('wait');
    expect(report.summary).toMatchObject({ total: 9, pass: 2, fail: 2, wait: 4, unknown: 1 });
    expect(run.stderr).toMatch(/9 of 9 pull requests/);
    fake.resetRequests();
    const text = await cli(['replay', '--github', 'octo/app']);
    // From the cache: the listing and the deployments only.
    expect(fake.requests.map((r) => r.operation)).toEqual(['MergeGateReplayList', 'MergeGateReplayDeployments']);
    expect(text.stdout).toMatch(/policy: \.github\/merge-gate\.yml on main/);
    expect(text.stdout).toMatch(/#2 +fail .*approved after the merge\n +reviews: 0 \/ 1 approval/);
  });

  test('connections past 100 items are paged for that pull request: the 103rd label event and the 101st review count', async () => {
    const mergedAt = '2026-11-14T12:00:00Z'; // Saturday: frozen unless it carried hotfix
    const labelEvents = Array.from({ length: 102 }, (_, i) => ({ name: 'noise', added: i % 2 === 0, at: new Date(Date.parse('2026-11-14T08:00:00Z') + i * 1000).toISOString() }));
    labelEvents.push({ name: 'hotfix', added: true, at: '2026-11-14T11:00:00Z' });
    const pull = merged({ number: 1, mergedAt, labelEvents, files: Array.from({ length: 130 }, (_, i) => ({ path: `f${i}.ts`, additions: 1, deletions: 0, status: 'added' as const })) });
    const comment = (i: number) => ({ login: `c${i}`, state: 'COMMENTED' as const, submittedAt: '2026-11-14T09:00:00Z', commit: pull.headSha });
    pull.reviews = [...Array.from({ length: 100 }, (_, i) => comment(i)), { login: 'bob', state: 'APPROVED', submittedAt: '2026-11-14T10:00:00Z', commit: pull.headSha }];
    const run = await cli(['replay', '--github', 'octo/app', '--json']);
    const [change] = json(run).changes;
    expect(change.rules).toMatchObject({ reviews: 'pass', freeze: 'pass', checks: 'pass' });
    expect(fake.requests.map((r) => r.operation)).toEqual(['MergeGateReplayList', 'MergeGateReplayPulls', 'MergeGateReplayTimeline', 'MergeGateMore', 'MergeGateReplayDeployments']);
  });

  test('an interrupted replay resumes: the second run asks only for what the first did not read', async () => {
    for (let n = 1; n <= 120; n++) merged({ number: n, mergedAt: new Date(Date.parse('2026-11-02T09:00:00Z') + n * 60_000).toISOString() });
    let killed = false;
    const first = await cli(['replay', '--github', 'octo/app', '--last', '120', '--json'], (kill) => {
      fake.onRequest = (r) => {
        if (r.operation === 'MergeGateReplayPulls' && factsRequests(fake.requests).length === 2) {
          killed = true;
          kill();
        }
      };
    });
    fake.onRequest = null;
    expect(killed).toBe(true);
    expect(first.code).not.toBe(0);
    const readBefore = numbersAsked(fake.requests).slice(0, 50);
    fake.resetRequests();

    const second = await cli(['replay', '--github', 'octo/app', '--last', '120', '--json']);
    expect(json(second).summary.total).toBe(120);
    const asked = numbersAsked(fake.requests);
    expect(asked).toHaveLength(70);
    expect(asked.filter((n) => readBefore.includes(n))).toEqual([]);
    expect(second.stderr).toMatch(/50 already read/);
    // Budget: listing pages and facts requests, far under 2 a pull request.
    expect(fake.count().total / 70).toBeLessThanOrEqual(2);

    // A third run reads nothing but the listing.
    fake.resetRequests();
    expect(json(await cli(['replay', '--github', 'octo/app', '--last', '120', '--json'])).summary.total).toBe(120);
    expect(factsRequests(fake.requests)).toHaveLength(0);

    // The last 10: one listing page is enough (nothing unseen was updated, so merged, later), newest merge first.
    fake.resetRequests();
    const last10 = json(await cli(['replay', '--github', 'octo/app', '--last', '10', '--json']));
    expect(last10.changes.map((c: { pull_request: number }) => c.pull_request)).toEqual([120, 119, 118, 117, 116, 115, 114, 113, 112, 111]);
    expect(fake.requests.filter((r) => r.operation === 'MergeGateReplayList')).toHaveLength(1);
  });

  test('a low rate limit: it waits for the reset, says so, and goes on', async () => {
    merged({ number: 1, mergedAt: '2026-11-10T12:00:00Z' });
    let answered = 0;
    let resetAt = 0;
    fake.responseHeaders = () => {
      if (answered++ > 0) return { 'x-ratelimit-remaining': '4000', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600) };
      resetAt = Math.ceil(Date.now() / 1000) + 1; // a second ahead (at most two)
      return { 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(resetAt) };
    };
    const arrivals: number[] = [];
    fake.onRequest = () => arrivals.push(Date.now());
    const run = await cli(['replay', '--github', 'octo/app', '--json']);
    fake.onRequest = null;
    expect(json(run).summary.total).toBe(1);
    expect(run.stderr).toMatch(/rate limit: 3 requests left; waiting \d+ s, until its reset at/);
    // The next request left only after the reset.
    expect(arrivals.length).toBeGreaterThan(1);
    expect(arrivals[1]).toBeGreaterThanOrEqual(resetAt * 1000);
  });

  test('usage and GitHub errors: exit 2 with one line', async () => {
    expect((await cli(['replay', '--github', 'not a repo'])).code).toBe(2);
    const missing = await cli(['replay', '--github', 'octo/nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/octo\/nope was not found/);
    // GitHub failing part way: exit 2, one line saying how to go on.
    merged({ number: 1, mergedAt: '2026-11-10T12:00:00Z' });
    fake.fail({ match: /^MergeGateReplayPulls$/, status: 502 });
    const broken = await cli(['replay', '--github', 'octo/app']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/GitHub answered 502: .*run the same command again to resume/);
    expect((await cli(['replay', '--github', 'octo/app', '--json'])).code).toBe(0);
  });
});

describe('rateLimitWait', () => {
  test('waits until just past the reset when few are left; not otherwise', () => {
    const now = 1_000_000_000_000;
    expect(rateLimitWait({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(now / 1000 + 10) }, now, 50)).toEqual({ ms: 10_500, remaining: 3, resetAt: now + 10_500 });
    expect(rateLimitWait({ 'x-ratelimit-remaining': '51', 'x-ratelimit-reset': String(now / 1000 + 10) }, now, 50)).toBeNull();
    expect(rateLimitWait({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 - 10) }, now, 50)).toBeNull();
    expect(rateLimitWait({}, now, 50)).toBeNull();
  });
});

describe('simulate OWNER/REPO#N', () => {
  test("a live pull request against a local policy: the check's table and its exit code; nothing written", async () => {
    writeFileSync(join(dir, 'policy.yml'), 'version: 1\npreset: none\nreviews:\n  required: 2\nchecks:\n  required: [ci/test]\n');
    const pull = fake.addPull(repo, { number: 42, title: 'A live one', files: [{ path: 'a.ts', additions: 3, deletions: 0, status: 'added' }] });
    pull.reviews = [{ login: 'bob', state: 'APPROVED', submittedAt: '2026-11-10T10:00:00Z', commit: pull.headSha }];
    fake.addCheckRun(repo, { appId: 7, name: 'ci/test', headSha: pull.headSha });

    const failing = await cli(['simulate', 'octo/app#42', '--policy', 'policy.yml']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/policy: policy\.yml \(local\); octo\/app#42 \(open\)/);
    expect(failing.stdout).toMatch(/reviews.*1 \/ 2/);

    pull.reviews.push({ login: 'carol', state: 'APPROVED', submittedAt: '2026-11-10T10:01:00Z', commit: pull.headSha });
    const passing = await cli(['simulate', 'octo/app#42', '--policy', 'policy.yml', '--json']);
    expect(passing.code).toBe(0);
    expect(json(passing)).toMatchObject({ outcome: 'pass', exitCode: 0 });

    expect(fake.count().writes).toBe(0);
    expect(fake.requests.filter((r) => r.kind === 'graphql' && /^\s*mutation/.test(String((r.body as { query: string }).query)))).toEqual([]);

    expect((await cli(['simulate', 'octo/app', '--policy', 'policy.yml'])).code).toBe(2);
    const gone = await cli(['simulate', 'octo/app#404', '--policy', 'policy.yml']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/not found/);
  });
});
