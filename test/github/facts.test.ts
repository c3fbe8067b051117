// Facts from GitHub: one query, follow-up pages only past 100, the flag
// registry at the merge base, and what each GitHub shape becomes.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { FactsCache } from '../../src/github/facts-cache.js';
import { GitHubPullRequestSource, reverseApply } from '../../src/github/facts.js';
import type { Octokit } from '../../src/octokit/types.js';
import { classifyError, ExplainedError, PullGoneError, StaleReadError } from '../../src/github/errors.js';
import type { FactNeeds, FileDiff } from '../../src/facts/types.js';
import { parseUnifiedDiff } from '../../src/facts/diff.js';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { REGISTRY, fileAdding } from '../helpers/github-scenario.js';

const ALL: FactNeeds = { reviews: true, files: true, checks: true, registryPath: 'flags.yml', gitattributes: true };
const NONE: FactNeeds = { reviews: false, files: false, checks: false, registryPath: null, gitattributes: false };

describe('reverseApply', () => {
  const diffOf = (patch: string, path = 'f.yml'): FileDiff => parseUnifiedDiff(`diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n${patch}\n`)[0];

  test('undoes additions and deletions in the middle of a file', () => {
    const base = 'a\nb\nc\nd\ne\nf\ng\n';
    const head = 'a\nb\nC\nd\ne\nnew\nf\ng\n';
    const patch = ['@@ -1,7 +1,8 @@', ' a', ' b', '-c', '+C', ' d', ' e', '+new', ' f', ' g'].join('\n');
    expect(reverseApply(head, diffOf(patch))).toBe(base);
  });

  test('a deleted file comes back from its deleted lines; an added one vanishes', () => {
    const deleted = parseUnifiedDiff('diff --git a/f b/f\n--- a/f\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-one\n-two\n')[0];
    expect(reverseApply(null, deleted)).toBe('one\ntwo\n');
    const added = parseUnifiedDiff('diff --git a/f b/f\n--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+one\n+two\n')[0];
    expect(reverseApply('one\ntwo\n', added)).toBe('');
  });

  test('hunks that do not fit the head text (a newer head) are a stale read', () => {
    const patch = ['@@ -1,2 +1,2 @@', ' a', '-b', '+B'].join('\n');
    expect(() => reverseApply('a\nX\n', diffOf(patch))).toThrow(StaleReadError);
  });
});

describe('GitHubPullRequestSource', () => {
  let fake: FakeGitHub;
  let repo: FakeRepo;
  let octokit: Octokit;
  const appId = 4242;

  beforeEach(() => {
    nock.disableNetConnect();
    fake = new FakeGitHub({ appId }).install();
    repo = fake.addRepo('octo', 'app', { files: { 'flags.yml': REGISTRY } });
    octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
  });
  afterEach(() => {
    fake.uninstall();
    expect(fake.problems).toEqual([]);
  });

  const source = (number: number, extra: { cache?: FactsCache } = {}) =>
    new GitHubPullRequestSource({ octokit, owner: 'octo', repo: 'app', number, appId, checkName: 'merge-gate', ...extra });

  test('one query for everything a policy can need; nothing that is not needed', async () => {
    fake.setDefaultFile(repo, '.gitattributes', 'dist/** linguist-generated\n');
    // The head's own .gitattributes is not what decides: the base branch's is.
    const pull = fake.addPull(repo, { number: 5, labels: ['feature'], files: [fileAdding('src/a.ts', ['x'])] }, { 'flags.yml': REGISTRY, '.gitattributes': '* linguist-generated\n' });
    pull.reviews.push({ login: 'bob', state: 'APPROVED', submittedAt: '2026-11-22T09:00:00Z', commit: pull.headSha });
    pull.reviews.push({ login: 'renovate', bot: true, state: 'APPROVED', submittedAt: '2026-11-22T09:01:00Z', commit: pull.headSha });
    pull.reviews.push({ login: 'carol', state: 'PENDING', submittedAt: '2026-11-22T09:02:00Z', commit: pull.headSha });
    fake.addCheckRun(repo, { appId: 29310, name: 'ci/build', headSha: pull.headSha, status: 'in_progress', conclusion: null, completedAt: null });
    fake.addCheckRun(repo, { appId: 29310, name: 'ci/odd', headSha: pull.headSha, conclusion: 'startup_failure' });
    const ours = fake.addCheckRun(repo, { appId, name: 'merge-gate', headSha: pull.headSha, conclusion: 'success', title: 'pass: all rules pass', summary: 'S', text: 'T' });
    repo.statuses.push({ sha: pull.headSha, context: 'ci/test', state: 'EXPECTED', createdAt: '2026-11-22T09:00:00Z' });

    const s = source(5);
    const facts = await s.load(ALL);
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts']);
    expect(facts).toMatchObject({
      repository: 'octo/app',
      number: 5,
      author: { login: 'alice', bot: false },
      base: { ref: 'main', sha: repo.branches.get('main') },
      head: { ref: 'topic-5', sha: pull.headSha },
      labels: ['feature'],
      draft: false,
      state: 'open',
      files: [{ path: 'src/a.ts', status: 'added', additions: 1, deletions: 0 }],
      registry: { base: REGISTRY, head: REGISTRY },
      gitattributes: 'dist/** linguist-generated\n',
    });
    expect(facts.reviews).toEqual([
      { author: { login: 'bob', bot: false }, state: 'APPROVED', commitSha: pull.headSha, submittedAt: '2026-11-22T09:00:00Z' },
      { author: { login: 'renovate', bot: true }, state: 'APPROVED', commitSha: pull.headSha, submittedAt: '2026-11-22T09:01:00Z' },
    ]);
    // Our own check is the verdict, never an input to it.
    expect(facts.checks).toEqual([
      { name: 'ci/build', source: 'check_run', state: 'pending', updatedAt: '2026-11-20T10:00:00Z' },
      { name: 'ci/odd', source: 'check_run', state: 'failure', updatedAt: '2026-11-20T10:05:00Z' },
      { name: 'ci/test', source: 'status', state: 'pending', updatedAt: '2026-11-22T09:00:00Z' },
    ]);
    expect(s.existingCheckRun).toEqual({ id: ours.id, status: 'completed', conclusion: 'success', title: 'pass: all rules pass', summary: 'S', text: 'T', externalId: null });

    const query = fake.apiRequests()[0].variables!;
    expect(query).toMatchObject({ reviews: true, files: true, checks: true, registry: true, gitattributes: true, appId });
  });

  test('asks only for what the policy needs', async () => {
    fake.addPull(repo, { number: 5 });
    const facts = await source(5).load(NONE);
    expect(fake.apiRequests()[0].variables).toMatchObject({ reviews: false, files: false, checks: false, registry: false, gitattributes: false });
    expect(facts).not.toHaveProperty('reviews');
    expect(facts).not.toHaveProperty('files');
    expect(facts).not.toHaveProperty('checks');
    expect(facts).not.toHaveProperty('registry');
  });

  test('connections past 100 are paged together, one follow-up query per round', async () => {
    const pull = fake.addPull(repo, {
      number: 6,
      labels: Array.from({ length: 130 }, (_, i) => `l${i}`),
      files: Array.from({ length: 250 }, (_, i) => fileAdding(`docs/f${i}.md`, ['x'])),
    });
    for (let i = 0; i < 210; i++) pull.reviews.push({ login: `r${i}`, state: 'COMMENTED', submittedAt: `2026-11-22T09:${String(i % 60).padStart(2, '0')}:00Z`, commit: pull.headSha });
    for (let i = 0; i < 101; i++) repo.statuses.push({ sha: pull.headSha, context: `ci/${i}`, state: 'SUCCESS', createdAt: '2026-11-22T09:00:00Z' });
    const facts = await source(6).load({ ...ALL, registryPath: null, gitattributes: false });
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts', 'MergeGateMore', 'MergeGateMore']);
    expect(facts.labels).toHaveLength(130);
    expect(facts.files).toHaveLength(250);
    expect(facts.reviews).toHaveLength(210);
    expect(facts.checks).toHaveLength(101);
    const second = fake.apiRequests()[2].variables!;
    expect(second).toMatchObject({ labels: false, reviews: true, files: true, contexts: false }); // only what still has pages
    expect(new Set(facts.files!.map((f) => f.path)).size).toBe(250);
  });

  test('a push between pages is a stale read, not a mix of two heads', async () => {
    const pull = fake.addPull(repo, { number: 6, files: Array.from({ length: 150 }, (_, i) => fileAdding(`f${i}`, ['x'])) });
    const s = source(6);
    const loading = s.load({ ...NONE, files: true });
    // The first answer is on its way; move the head before the follow-up is asked.
    const original = pull.headSha;
    const moved = new Promise<void>((resolve) => {
      const check = () => (fake.apiRequests().length >= 1 ? (fake.push(repo, pull), resolve()) : setImmediate(check));
      check();
    });
    await moved;
    await expect(loading).rejects.toThrow(StaleReadError);
    expect(pull.headSha).not.toBe(original);
  });

  test('a pull request whose commit list stops short of the head (over 250 commits): the head is read by SHA', async () => {
    fake.addPull(repo, { number: 7, lastListedCommit: 'c'.repeat(40) }, { 'flags.yml': REGISTRY });
    repo.trees.set('c'.repeat(40), new Map());
    const facts = await source(7).load(ALL);
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts', 'MergeGateHeadCommit']);
    expect(facts.registry?.head).toBe(REGISTRY);
  });

  test('.gitattributes is read at the base branch, whatever the head has; none at the base is none', async () => {
    fake.addPull(repo, { number: 5, files: [fileAdding('.gitattributes', ['* linguist-generated'])] }, { '.gitattributes': '* linguist-generated\n' });
    expect((await source(5).load({ ...NONE, gitattributes: true })).gitattributes).toBeNull();
    fake.setDefaultFile(repo, '.gitattributes', 'vendor/** linguist-generated\n');
    expect((await source(5).load({ ...NONE, gitattributes: true })).gitattributes).toBe('vendor/** linguist-generated\n');
    // Still the one query.
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts', 'MergeGateFacts']);
  });

  test('our newest run is the existing check, whichever of our suites lists it first', async () => {
    const pull = fake.addPull(repo, { number: 5 });
    // Three suites of ours on the head; the newest run is in the second one listed.
    fake.addCheckRun(repo, { id: 5001, appId, name: 'merge-gate', headSha: pull.headSha, suite: 1, conclusion: 'success', title: 'older' });
    fake.addCheckRun(repo, { id: 5003, appId, name: 'merge-gate', headSha: pull.headSha, suite: 2, conclusion: 'failure', title: 'newest' });
    fake.addCheckRun(repo, { id: 5002, appId, name: 'merge-gate', headSha: pull.headSha, suite: 3, conclusion: 'success', title: 'middle' });
    const s = source(5);
    await s.load(NONE);
    expect(s.existingCheckRun).toMatchObject({ id: 5003, title: 'newest', conclusion: 'failure' });
  });

  test.each([
    ['is binary', () => fake.binaryBlobs.add('.gitattributes'), /\.gitattributes could not be read: it is a binary file/],
    [
      'is truncated, and the contents API refuses it',
      () => {
        fake.truncatedBlobs.add('.gitattributes');
        fake.fail({ method: 'GET', match: /contents\/\.gitattributes/, status: 403, body: { message: 'This API returns blobs up to 100 MB in size' } });
      },
      /\.gitattributes could not be read at [0-9a-f]{7} .*403/,
    ],
  ])('a .gitattributes that %s is explained, naming the file, with the facts known for the failure check', async (_what, arrange, words) => {
    fake.setDefaultFile(repo, '.gitattributes', 'dist/** linguist-generated\n');
    const pull = fake.addPull(repo, { number: 5 });
    arrange();
    const s = source(5);
    const error = await s.load({ ...NONE, gitattributes: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExplainedError);
    expect((error as Error).message).toMatch(words);
    expect(classifyError(error).retryable).toBe(false);
    expect(s.facts).toMatchObject({ head: { sha: pull.headSha }, state: 'open' });
  });

  test('a binary flag registry at the head is explained, naming it', async () => {
    fake.addPull(repo, { number: 5 }, { 'flags.yml': REGISTRY });
    fake.binaryBlobs.add('flags.yml');
    const s = source(5);
    await expect(s.load({ ...NONE, registryPath: 'flags.yml' })).rejects.toThrow(/flags\.yml could not be read: it is a binary file/);
    expect(s.facts).not.toBeNull();
  });

  test('a truncated blob is read through REST', async () => {
    fake.addPull(repo, { number: 8 }, { 'flags.yml': REGISTRY });
    fake.truncatedBlobs.add('flags.yml');
    const facts = await source(8).load({ ...NONE, registryPath: 'flags.yml' });
    expect(facts.registry).toEqual({ base: REGISTRY, head: REGISTRY });
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts', 'GET /repos/{owner}/{repo}/contents/{path}']);
  });

  describe('the flag registry at the merge base', () => {
    const headRegistry = `${REGISTRY}  dark-mode:\n    default: false\n    lifecycle: experimental\n`;
    const patch = ['@@ -4,3 +4,6 @@', '     lifecycle: experimental', '     owner: "@sched-team"', '     description: Faster scheduler', '+  dark-mode:', '+    default: false', '+    lifecycle: experimental'].join('\n');

    function registryPull(number: number): FakePull {
      return fake.addPull(repo, { number, files: [{ path: 'flags.yml', status: 'modified', additions: 3, deletions: 0, patch }] }, { 'flags.yml': headRegistry });
    }

    test('changed by the pull request: the head text with its hunks undone, from the diff the rules need anyway', async () => {
      // Trunk moved on after the branch point: the base tip's registry is not what the pull request changed.
      fake.setDefaultFile(repo, 'flags.yml', `${REGISTRY}  trunk-only:\n    default: false\n    lifecycle: experimental\n`);
      registryPull(9);
      const s = source(9);
      const facts = await s.load(ALL);
      expect(facts.registry).toEqual({ base: REGISTRY, head: headRegistry });
      await s.diff(facts); // what gatherFacts asks next: already read
      expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts', 'GET /repos/{owner}/{repo}/pulls/{pull_number}']);
    });

    test('renamed away: read at the merge base through compare', async () => {
      fake.addPull(repo, { number: 10, files: [{ path: 'config/flags.yml', previousPath: 'flags.yml', status: 'renamed', additions: 0, deletions: 0, patch: '' }] }, { 'config/flags.yml': REGISTRY });
      const facts = await source(10).load(ALL);
      expect(facts.registry).toEqual({ base: REGISTRY, head: null });
      expect(fake.apiRequests().map((r) => r.operation)).toEqual([
        'MergeGateFacts',
        'GET /repos/{owner}/{repo}/pulls/{pull_number}',
        'GET /repos/{owner}/{repo}/compare/{basehead}',
        'GET /repos/{owner}/{repo}/contents/{path}',
      ]);
    });

    test('a diff cached for the same base and head is not read again', async () => {
      registryPull(11);
      const cache = new FactsCache();
      await source(11, { cache }).load(ALL);
      fake.resetRequests();
      await source(11, { cache }).load(ALL);
      expect(fake.apiRequests().map((r) => r.operation)).toEqual(['MergeGateFacts']);
    });
  });

  test("a 406 for the diff is final: Probot's retry plugin does not send it again", async () => {
    // The production octokit retries failed requests (a second, then 4, then 9); a 406 must not be.
    const withRetries = new ProbotOctokit({ auth: { token: 'test' }, throttle: { enabled: false } } as never) as Octokit;
    fake.addPull(repo, { number: 13, files: [fileAdding('src/a.ts', ['x'])] });
    fake.diffTooLarge.add(13);
    const s = new GitHubPullRequestSource({ octokit: withRetries, owner: 'octo', repo: 'app', number: 13, appId, checkName: 'merge-gate' });
    const facts = await s.load({ ...NONE, files: true });
    const diff = await s.diff(facts);
    expect(diff.map((d) => d.path)).toEqual(['src/a.ts']);
    // The diff asked once, then straight to the per-file patches: no retry of the 406 in between.
    expect(fake.apiRequests().map((r) => r.operation)).toEqual([
      'MergeGateFacts',
      'GET /repos/{owner}/{repo}/pulls/{pull_number}',
      'GET /repos/{owner}/{repo}/pulls/{pull_number}/files',
    ]);
  });

  test('a closed pull request: no diff is read', async () => {
    fake.addPull(repo, { number: 12, state: 'CLOSED', files: [fileAdding('a', ['x'])] });
    const s = source(12);
    const facts = await s.load({ ...NONE, files: true });
    expect(facts.state).toBe('closed');
    expect(await s.diff(facts)).toEqual([]);
    expect(fake.apiRequests()).toHaveLength(1);
  });

  test('a pull request that does not exist is explained, not retried', async () => {
    const error = await source(404).load(NONE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullGoneError);
    expect(classifyError(error)).toMatchObject({ retryable: false, explanation: expect.stringContaining('octo/app#404 was not found') });
  });
});

describe('FactsCache', () => {
  test('evicts the least recently used past its budget of files and diff lines', () => {
    const cache = new FactsCache(10);
    const diff = (n: number): FileDiff[] => [{ path: 'x', lines: Array.from({ length: n }, () => ({ type: 'add' as const, content: '' })) }];
    cache.update('a', { diff: diff(4) });
    cache.update('b', { diff: diff(4) });
    cache.get('a');
    cache.update('c', { diff: diff(4) });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    cache.update('huge', { diff: diff(50) });
    expect(cache.get('huge')).toBeUndefined();
  });

  test('files and diff of one key are kept together', () => {
    const cache = new FactsCache();
    cache.update('k', { files: [{ path: 'a', status: 'added', additions: 1, deletions: 0 }] });
    cache.update('k', { diff: [] });
    expect(cache.get('k')).toEqual({ files: [{ path: 'a', status: 'added', additions: 1, deletions: 0 }], diff: [] });
  });
});
