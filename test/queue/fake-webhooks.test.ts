// The fake GitHub's webhooks about CI results and pushes by hand
// (github-fake-webhooks.ts) reach the app as GitHub's would: each makes it
// evaluate again what it is about.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { ProbotOctokit } from 'probot';
import { octokitQueueGitHub } from '../../src/queue/github.js';
import type { Octokit } from '../../src/octokit/types.js';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { CI_APP_ID } from '../helpers/github-fake-git.js';
import { checkRunWebhook, checkSuiteWebhook, pushWebhook, statusWebhook, type Webhook } from '../helpers/github-fake-webhooks.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { approve, setupRepo, typicalPull } from '../helpers/github-scenario.js';

let fake: FakeGitHub;
let repo: FakeRepo;
let pull: FakePull;
let app: TestApp;

beforeEach(async () => {
  fake = new FakeGitHub().install();
  repo = setupRepo(fake, 'version: 1\nchecks:\n  required: [ci/test]\n');
  pull = typicalPull(fake, repo, 2);
  approve(pull);
  app = await startTestApp(fake);
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.drain();
  fake.resetRequests();
});

afterEach(() => {
  app.gate.stop();
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

/** Deliver, and say whether the app read the pull request's facts again. */
async function evaluatesAgain(hook: Webhook): Promise<boolean> {
  fake.resetRequests();
  await app.receive(hook.name, hook.payload);
  await app.drain();
  expect(app.errors).toEqual([]);
  return fake.requests.some((r) => r.kind === 'graphql' && r.operation === 'MergeGateFacts' && r.variables?.number === pull.number);
}

test('a CI check run, check suite and status on a pull request head reach the app', async () => {
  const run = fake.git.ciCheckRun(repo, pull.headSha, 'ci/test', 'success', { url: 'https://ci.example/1' });
  expect(await evaluatesAgain(checkRunWebhook(fake, repo, run))).toBe(true);
  expect(await evaluatesAgain(checkSuiteWebhook(fake, repo, pull.headSha, { appId: CI_APP_ID, conclusion: 'success' }))).toBe(true);
  expect(await evaluatesAgain(statusWebhook(fake, repo, fake.git.ciStatus(repo, pull.headSha, 'ci/test', 'SUCCESS')))).toBe(true);
});

test('a CI check run on a staging head names its branch and is about no pull request', async () => {
  const ref = 'merge-gate/queue/main/1';
  repo.branches.set(ref, fake.git.commit(repo, [repo.branches.get('main')!, pull.headSha], new Map()));
  const hook = checkRunWebhook(fake, repo, fake.git.ciCheckRun(repo, repo.branches.get(ref)!, 'ci/test', 'failure'));
  expect(hook.payload.check_run).toMatchObject({ conclusion: 'failure', pull_requests: [], check_suite: { head_branch: ref } });
  expect(await evaluatesAgain(hook)).toBe(false);
});

test('a push by hand to the default branch names the files it changed (here the policy: everything is evaluated again)', async () => {
  const move = fake.git.pushByHand(repo, 'main', { '.github/merge-gate.yml': 'version: 1\nchecks:\n  required: [ci/other]\n', 'gone.txt': null });
  const hook = pushWebhook(fake, repo, 'main', move);
  expect(hook.payload.head_commit).toMatchObject({ id: move.after, modified: ['.github/merge-gate.yml'] });
  expect(hook.payload).toMatchObject({ ref: 'refs/heads/main', before: move.before, after: move.after, forced: false });
  expect(await evaluatesAgain(hook)).toBe(true);
});

test('every branch change the fake makes is reported, as GitHub sends a push for each', async () => {
  const moves: Array<[string, boolean, boolean]> = [];
  fake.git.onRefChange = (r, branch, move) => {
    const { payload } = pushWebhook(fake, r, branch, move, 'merge-gate[bot]');
    moves.push([branch, payload.created, payload.deleted]);
  };
  const ref = 'merge-gate/queue/main/1';
  const octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
  const queue = octokitQueueGitHub(octokit, 'octo', 'app', fake.appId);
  await queue.resetBranch(ref, repo.branches.get('main')!);
  const merged = await queue.mergeInto(ref, pull.headSha, 'Merge #2');
  expect(await queue.fastForward('main', (merged as { sha: string }).sha)).toEqual({ ok: true });
  await queue.deleteBranch(ref);
  fake.git.pushByHand(repo, 'main', { 'x.txt': 'x' });
  expect(moves).toEqual([
    [ref, true, false],
    [ref, false, false],
    ['main', false, false],
    [ref, false, true],
    ['main', false, false],
  ]);
  expect(pull.state).toBe('MERGED');
});
