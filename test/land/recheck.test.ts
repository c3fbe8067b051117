// Landing rests on facts re-read under the branch's lock right before the merge
// call (docs/landing.md, "Right before the merge"), and approvals are carried
// only over the very update merge-gate asked for. Probot with landing wired in,
// the fake GitHub behind nock, fake time. A change "between the verdict and the
// merge" is made when the passing check is written: after the verdict, before
// the merge call.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { fakeSha, FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { deploy, FULL_POLICY, setupRepo, TRUNK, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';
import { pullPayload } from '../helpers/github-app.js';

let fake: FakeGitHub;
let app: LandingApp | undefined;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});

afterEach(() => {
  app?.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const withLand = (policy: string, land: string) => `${policy}land:\n${land.replace(/^/gm, '  ')}\n`;
const event = (action: string, repo: FakeRepo, pull: FakePull) => pullPayload('pull_request', action, fake, repo, pull);
const merges = () => fake.merges.map((m) => ({ number: m.number, sha: m.sha, status: m.status }));
const checkOn = (repo: FakeRepo, sha: string) => fake.ourRuns(repo, sha).at(-1)!;

/** Run `change` once, when the passing check of `pull`'s head is written: after its verdict, before its merge call. */
function betweenVerdictAndMerge(pull: FakePull, change: () => void): { done: () => boolean } {
  let done = false;
  fake.onRequest = (r) => {
    const body = r.body as { head_sha?: string; conclusion?: string } | undefined;
    if (!done && r.method === 'POST' && r.path.endsWith('/check-runs') && body?.head_sha === pull.headSha && body.conclusion === 'success') {
      done = true;
      change();
    }
  };
  return { done: () => done };
}

async function open(repo: FakeRepo, pull: FakePull): Promise<LandingApp> {
  app = await startLandingApp(fake);
  await app.receive('pull_request', event('opened', repo, pull));
  await app.settle();
  return app;
}

describe('the base changed between the verdict and the merge', () => {
  test('a pull request retargeted from dev to main after its verdict is not merged into main: it is evaluated again, for main', async () => {
    const repo = setupRepo(fake, `${FULL_POLICY}branches: ["dev"]\n`);
    repo.branches.set('dev', repo.branches.get('main')!);
    const pull = typicalPull(fake, repo);
    pull.baseRef = 'dev';
    const change = betweenVerdictAndMerge(pull, () => void (pull.baseRef = 'main'));
    await open(repo, pull);
    expect(change.done()).toBe(true);
    expect(merges()).toEqual([]);
    // Evaluated again against main, which this policy does not gate: not a pass, nothing landed.
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'skipped' });
  });
});

describe('re-checked under the lock, right before the merge', () => {
  /** A one-off freeze from 10:05 UTC on the test clock's day (it starts at 10:00). */
  const FREEZE = `freeze:\n  timezone: UTC\n  windows:\n    - name: release freeze\n      from: "2026-11-22 10:05"\n      to: "2026-11-22 12:00"\n`;

  test.each<[string, string, (repo: FakeRepo, pull: FakePull, app: () => LandingApp) => void, (repo: FakeRepo, pull: FakePull) => void]>([
    [
      'a freeze starts',
      `${FULL_POLICY}${FREEZE}`,
      () => undefined,
      () => app!.clock.set('2026-11-22T10:06:00Z'),
    ],
    [
      'the trunk deployment turns bad',
      `${FULL_POLICY}${TRUNK}`,
      (repo) => void deploy(fake, repo, repo.branches.get('main')!, 'SUCCESS'),
      (repo) => void fake.addDeploymentStatus(repo.deployments[0], 'FAILURE', { createdAt: '2026-11-22T10:03:00Z' }),
    ],
    [
      'the land label is removed (mode: label)',
      withLand(FULL_POLICY, 'mode: label'),
      (_repo, pull) => void (pull.labels = ['land']),
      (_repo, pull) => void (pull.labels = []),
    ],
    [
      'a new review requests changes',
      FULL_POLICY,
      () => undefined,
      (_repo, pull) => void pull.reviews.push({ login: 'carol', state: 'CHANGES_REQUESTED', submittedAt: '2026-11-22T09:45:00Z', commit: pull.headSha }),
    ],
    [
      'a stricter policy is pushed',
      FULL_POLICY,
      (repo, pull) => {
        // On a base other than the default branch, so that only the policy changes (not the base).
        repo.branches.set('release', repo.branches.get('main')!);
        pull.baseRef = 'release';
      },
      (repo) => fake.setDefaultFile(repo, '.github/merge-gate.yml', FULL_POLICY.replace('required: 1\n', 'required: 2\n')),
    ],
  ])('%s between the verdict and the merge: not merged, evaluated again', async (_what, policy, arrange, change) => {
    const repo = setupRepo(fake, policy);
    const pull = typicalPull(fake, repo);
    arrange(repo, pull, () => app!);
    const base = repo.branches.get(pull.baseRef);
    const between = betweenVerdictAndMerge(pull, () => change(repo, pull));
    await open(repo, pull);
    expect(between.done()).toBe(true);
    expect(merges()).toEqual([]);
    expect(repo.branches.get(pull.baseRef)).toBe(base);
    // The check was written again from the new state: no longer the plain pass it was.
    const run = checkOn(repo, pull.headSha);
    expect(run.title).not.toBe('pass: all rules pass');
    expect(run.title === 'pass, lands when labelled land' || run.conclusion !== 'success').toBe(true);
  });

  test('the policy file removed between the verdict and the merge: not merged', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    repo.branches.set('release', repo.branches.get('main')!); // a base other than the default branch: only the policy changes
    pull.baseRef = 'release';
    const between = betweenVerdictAndMerge(pull, () => fake.setDefaultFile(repo, '.github/merge-gate.yml', null));
    await open(repo, pull);
    expect(between.done()).toBe(true);
    expect(merges()).toEqual([]);
  });

  test('with nothing changed it lands, with one read replacing the pull-request read: the base it read is `before`', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const tip = repo.branches.get('main')!;
    const a = await startLandingApp(fake, { outbox: { urls: ['http://deploy.invalid/hook'] }, landing: { fetch: async () => new Response(null, { status: 204 }) } });
    app = a;
    await a.receive('pull_request', event('opened', repo, pull));
    await a.settle();
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, status: 200 }]);
    const ops = fake.apiRequests().map((r) => r.operation);
    // After the passing check: the policy (conditional) and the facts query, then the merge at once; then the tidy-up.
    expect(ops.slice(ops.indexOf('POST /repos/{owner}/{repo}/check-runs'))).toEqual([
      'POST /repos/{owner}/{repo}/check-runs',
      'GET /repos/{owner}/{repo}/contents/{path}',
      'MergeGateFacts',
      'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge',
      'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
      'GET /repos/{owner}/{repo}/pulls',
      'DELETE /repos/{owner}/{repo}/git/refs/{ref}',
    ]);
    expect(fake.apiRequests().filter((r) => r.operation === 'GET /repos/{owner}/{repo}/contents/{path}').map((r) => r.status)).toEqual([200, 304]); // the re-read: not counted by GitHub
    expect(JSON.parse(a.landing.store.all()[0].body)).toMatchObject({ before: tip, after: pull.mergeCommit });
  });
});

describe('approvals carried over an update only for the head merge-gate made', () => {
  const UP_TO_DATE = withLand(FULL_POLICY, 'up_to_date: true');

  /** A person's merge commit of `parents` on the head, with the merge's files and `extra` on top. */
  function handMerge(repo: FakeRepo, pull: FakePull, parents: [string, string], extra: Record<string, string>): string {
    const sha = fakeSha();
    fake.parents.set(sha, parents);
    repo.trees.set(sha, new Map([...fake.mergedFiles(repo, parents[1], parents[0]), ...Object.entries(extra)]));
    pull.headSha = sha;
    repo.statuses.push({ sha, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:50:00Z' });
    return sha;
  }

  test('GitHub refuses the update; the author resolves it by hand with a merge of the same two parents and more: the old approval does not count', async () => {
    const repo = setupRepo(fake, UP_TO_DATE);
    const pull = typicalPull(fake, repo);
    const old = pull.headSha;
    fake.setDefaultFile(repo, 'README.md', 'moved on');
    const base = repo.branches.get('main')!;
    pull.updateConflict = true;
    const a = await open(repo, pull);
    expect(checkOn(repo, old).title).toBe('pass, not landed: could not bring the branch up to date with main');
    pull.updateConflict = false;
    handMerge(repo, pull, [old, base], { 'src/sneaked-in.ts': 'export const x = 1;' });
    await a.receive('pull_request', event('synchronize', repo, pull));
    await a.settle();
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'action_required' });
    expect(checkOn(repo, pull.headSha).summary).not.toContain('| reviews | ✅ pass |');
  });

  test("GitHub accepts the update, but a person's merge of the same two parents with more in it takes its place: the old approval does not count", async () => {
    const repo = setupRepo(fake, UP_TO_DATE);
    const pull = typicalPull(fake, repo);
    const old = pull.headSha;
    fake.setDefaultFile(repo, 'README.md', 'moved on');
    const base = repo.branches.get('main')!;
    const a = await open(repo, pull);
    expect(fake.branchUpdates).toHaveLength(1);
    handMerge(repo, pull, [old, base], { 'src/sneaked-in.ts': 'export const x = 1;' }); // pushed with force over GitHub's update
    await a.receive('pull_request', event('synchronize', repo, pull));
    await a.settle();
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'action_required' });
  });

  test("a person's merge with exactly the content of the update counts like it (it adds nothing but the base)", async () => {
    const repo = setupRepo(fake, UP_TO_DATE);
    const pull = typicalPull(fake, repo);
    const old = pull.headSha;
    fake.setDefaultFile(repo, 'README.md', 'moved on');
    const base = repo.branches.get('main')!;
    const a = await open(repo, pull);
    handMerge(repo, pull, [old, base], {});
    await a.receive('pull_request', event('synchronize', repo, pull));
    await a.settle();
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, status: 200 }]);
  });
});
