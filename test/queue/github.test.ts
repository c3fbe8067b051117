// The merge queue's GitHub calls (src/queue/github.ts) against the fake GitHub
// over real HTTP on 127.0.0.1, with Probot's Octokit (its retries on, as in
// production): what each call answers, and how many requests it costs.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { ProbotOctokit } from 'probot';
import { octokitQueueGitHub, ownStagingBranches, type QueueGitHub } from '../../src/queue/github.js';
import { octokitLandingGitHub } from '../../src/land/github.js';
import { stagingPrefix, stagingRef } from '../../src/queue/types.js';
import type { Octokit } from '../../src/octokit/types.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';

let fake: FakeGitHub;
let close: () => Promise<void>;
let repo: FakeRepo;
let octokit: Octokit;
let queue: QueueGitHub;

beforeEach(async () => {
  ({ fake, close } = await FakeGitHub.listening());
  repo = fake.addRepo('octo', 'app', { files: { 'README.md': 'hello', 'src/a.ts': 'a0', 'src/b.ts': 'b0' } });
  octokit = new ProbotOctokit({ auth: { token: 'test' }, baseUrl: fake.baseUrl, throttle: { enabled: false } } as never) as Octokit;
  queue = octokitQueueGitHub(octokit, 'octo', 'app', fake.appId);
});

afterEach(async () => {
  await close();
  expect(fake.problems).toEqual([]);
});

/** The requests one call made (REST and GraphQL, as GitHub counts them). */
async function counted<T>(call: () => Promise<T>): Promise<{ value: T; requests: string[] }> {
  fake.resetRequests();
  const value = await call();
  return { value, requests: fake.apiRequests().map((r) => (r.kind === 'graphql' ? `graphql ${r.operation}` : `${r.method} ${r.path} ${r.status}`)) };
}

const tip = (branch = 'main') => repo.branches.get(branch)!;

describe('branchHead', () => {
  test("a branch's head and tree in one request; a missing branch is null", async () => {
    const { value, requests } = await counted(() => queue.branchHead('main'));
    expect(value).toEqual({ sha: tip(), tree: fake.treeOid(repo, tip()) });
    expect(requests).toEqual(['GET /repos/octo/app/branches/main 200']);
    expect(await queue.branchHead('gone')).toBeNull();
  });

  test('a branch name with slashes and odd characters is percent-encoded, and found', async () => {
    const name = 'release/1.0+ü#%&x';
    repo.branches.set(name, tip());
    const { value, requests } = await counted(() => queue.branchHead(name));
    expect(value?.sha).toBe(tip());
    expect(requests).toEqual([`GET /repos/octo/app/branches/${encodeURIComponent(name)} 200`]);
    expect(requests[0]).toContain('release%2F1.0%2B%C3%BC%23%25%26x');
  });
});

describe('resetBranch', () => {
  test('creates a branch in one request, and forces an existing one back in two', async () => {
    const ref = stagingRef('release/1.0', 7);
    const created = await counted(() => queue.resetBranch(ref, tip()));
    expect(created.requests).toEqual(['POST /repos/octo/app/git/refs 201']);
    expect(repo.branches.get(ref)).toBe(tip());

    const moved = fake.git.pushByHand(repo, ref, { 'x.txt': 'x' }).after;
    const reset = await counted(() => queue.resetBranch(ref, tip()));
    expect(reset.requests).toEqual(['POST /repos/octo/app/git/refs 422', `PATCH /repos/octo/app/git/refs/${encodeURIComponent(`heads/${ref}`)} 200`]);
    expect(repo.branches.get(ref)).toBe(tip());
    expect(fake.git.refUpdates.at(-1)).toMatchObject({ branch: ref, from: moved, to: tip(), force: true });
  });

  test('a branch cannot be created where git would need a file and a folder of one name (GitHub answers 422)', async () => {
    await queue.resetBranch(stagingRef('main', 1), tip());
    await expect(queue.resetBranch(`${stagingRef('main', 1)}/2`, tip())).rejects.toMatchObject({ status: 422 });
  });
});

describe('mergeInto', () => {
  test('merged: the new head and its tree from the one answer; a conflict and nothing-to-merge are told apart, each in one request', async () => {
    const a = fake.addPull(repo, { number: 1 }, { 'src/a.ts': 'a1' });
    const b = fake.addPull(repo, { number: 2 }, { 'src/a.ts': 'a2' }); // touches a.ts differently: conflicts with #1
    const ref = stagingRef('main', 1);
    await queue.resetBranch(ref, tip());

    const merged = await counted(() => queue.mergeInto(ref, a.headSha, 'Merge #1'));
    expect(merged.requests).toEqual(['POST /repos/octo/app/merges 201']);
    expect(merged.value).toEqual({ kind: 'merged', sha: repo.branches.get(ref), tree: fake.treeOid(repo, repo.branches.get(ref)!) });
    expect(repo.trees.get(repo.branches.get(ref)!)?.get('src/a.ts')).toBe('a1');

    // Probot's Octokit retries a 409 unless told not to: one request, not four.
    const conflict = await counted(() => queue.mergeInto(ref, b.headSha, 'Merge #2'));
    expect(conflict).toEqual({ value: { kind: 'conflict' }, requests: ['POST /repos/octo/app/merges 409'] });

    const nothing = await counted(() => queue.mergeInto(ref, a.headSha, 'Merge #1 again'));
    expect(nothing).toEqual({ value: { kind: 'nothing' }, requests: ['POST /repos/octo/app/merges 204'] });
  });

  test('a pull request that changes a workflow file: GitHub refuses an app without the workflows permission (403, thrown)', async () => {
    const ci = fake.addPull(repo, { number: 3 }, { '.github/workflows/ci.yml': 'on: push' });
    const ref = stagingRef('main', 1);
    await queue.resetBranch(ref, tip());
    await expect(queue.mergeInto(ref, ci.headSha, 'Merge #3')).rejects.toMatchObject({ status: 403, message: expect.stringContaining('workflows') });
    fake.workflowsPermission = true;
    const merged = (await queue.mergeInto(ref, ci.headSha, 'Merge #3')) as { sha: string };
    fake.workflowsPermission = false;
    await expect(queue.fastForward('main', merged.sha)).rejects.toMatchObject({ status: 403 });
    expect(tip()).not.toBe(merged.sha);
  });

  test('the same file changed the same way by two pull requests is no conflict', async () => {
    const a = fake.addPull(repo, { number: 1 }, { 'src/a.ts': 'same' });
    const b = fake.addPull(repo, { number: 2 }, { 'src/a.ts': 'same', 'src/b.ts': 'b2' });
    const ref = stagingRef('main', 1);
    await queue.resetBranch(ref, tip());
    expect((await queue.mergeInto(ref, a.headSha, 'm')).kind).toBe('merged');
    expect((await queue.mergeInto(ref, b.headSha, 'm')).kind).toBe('merged');
  });

  test.each(['squash', 'rebase', 'merge'])('a staging branch that merged A then B has the tree the base ends with after %s-merging A then B', async (method) => {
    // #1's head also lists README.md as it was when it branched off: not a change of its own.
    const a = fake.addPull(repo, { number: 1, commitCount: 2 }, { 'src/a.ts': 'a1', 'new.ts': 'n', 'README.md': 'hello' });
    const b = fake.addPull(repo, { number: 2 }, { 'src/b.ts': 'b1' });
    // The base moved since both pull requests branched off: the merge base is where they did.
    fake.git.pushByHand(repo, 'main', { 'README.md': 'hello again' });
    const ref = stagingRef('main', 1);
    await queue.resetBranch(ref, tip());
    await queue.mergeInto(ref, a.headSha, 'm');
    const staged = await queue.mergeInto(ref, b.headSha, 'm');
    expect(staged.kind).toBe('merged');

    const landing = octokitLandingGitHub(octokit, 'octo', 'app');
    await landing.merge(1, a.headSha, method);
    await landing.merge(2, b.headSha, method);
    const base = await queue.branchHead('main');
    expect(base!.tree).toBe((staged as { tree: string }).tree);
    expect(Object.fromEntries(repo.trees.get(base!.sha)!)).toEqual({ 'README.md': 'hello again', 'src/a.ts': 'a1', 'src/b.ts': 'b1', 'new.ts': 'n' });
    expect(await queue.tree(base!.sha)).toBe(base!.tree);
  });
});

describe('fastForward', () => {
  test("moves the base to a staging head that contains it, marking the pull requests it brought merged; refuses what is not a fast-forward", async () => {
    const a = fake.addPull(repo, { number: 1 }, { 'src/a.ts': 'a1' });
    const ref = stagingRef('main', 1);
    await queue.resetBranch(ref, tip());
    const merged = await queue.mergeInto(ref, a.headSha, 'Merge #1');
    const staged = (merged as { sha: string }).sha;

    const ok = await counted(() => queue.fastForward('main', staged));
    expect(ok).toEqual({ value: { ok: true }, requests: ['PATCH /repos/octo/app/git/refs/heads%2Fmain 200'] });
    expect(tip()).toBe(staged);
    expect(a).toMatchObject({ state: 'MERGED', mergeCommit: staged, mergedBy: { login: 'merge-gate[bot]', bot: true } });

    // Someone pushed to the base: the staging head built before no longer contains it.
    const b = fake.addPull(repo, { number: 2 }, { 'src/b.ts': 'b1' });
    await queue.resetBranch(ref, tip());
    const next = (await queue.mergeInto(ref, b.headSha, 'Merge #2')) as { sha: string };
    const pushed = fake.git.pushByHand(repo, 'main', { 'README.md': 'by hand' }).after;
    const refused = await counted(() => queue.fastForward('main', next.sha));
    expect(refused).toEqual({ value: { ok: false, why: 'not-fast-forward' }, requests: ['PATCH /repos/octo/app/git/refs/heads%2Fmain 422'] });
    expect(tip()).toBe(pushed);
    expect(b.state).toBe('OPEN');
  });

  test('a base named like release/1.0 is encoded', async () => {
    const base = 'release/1.0';
    repo.branches.set(base, tip());
    const a = fake.addPull(repo, { number: 1, baseRef: base }, { 'src/a.ts': 'a1' });
    const ref = stagingRef(base, 3);
    await queue.resetBranch(ref, tip(base));
    const staged = (await queue.mergeInto(ref, a.headSha, 'm')) as { sha: string };
    const { value, requests } = await counted(() => queue.fastForward(base, staged.sha));
    expect(value).toEqual({ ok: true });
    expect(requests).toEqual(['PATCH /repos/octo/app/git/refs/heads%2Frelease%2F1.0 200']);
    expect(a.state).toBe('MERGED');
  });
});

describe('deleteBranch and stagingBranches', () => {
  test('deletes in one request; one already gone is fine', async () => {
    const ref = stagingRef('main', 4);
    await queue.resetBranch(ref, tip());
    const deleted = await counted(() => queue.deleteBranch(ref));
    expect(deleted.requests).toEqual([`DELETE /repos/octo/app/git/refs/${encodeURIComponent(`heads/${ref}`)} 204`]);
    expect(repo.branches.has(ref)).toBe(false);
    await expect(queue.deleteBranch(ref)).resolves.toBeUndefined();
  });

  test('lists the branches under a prefix, a page at a time', async () => {
    for (const n of [1, 2, 3, 10, 11]) repo.branches.set(stagingRef('main', n), tip());
    repo.branches.set(stagingRef('other', 1), tip());
    repo.branches.set('merge-gate/queue/mainline/1', tip());
    fake.git.matchingRefsPageSize = 2;
    const { value, requests } = await counted(() => queue.stagingBranches(stagingPrefix('main')));
    expect(value.sort()).toEqual([1, 10, 11, 2, 3].map((n) => stagingRef('main', n)).sort());
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.startsWith('GET /repos/octo/app/git/matching-refs/heads%2Fmerge-gate%2Fqueue%2Fmain%2F'))).toBe(true);
    expect(await queue.stagingBranches(stagingPrefix('none'))).toEqual([]);
  });

  test("a base's own staging branches are told from those of a base whose name extends it", () => {
    const names = [stagingRef('main', 1), stagingRef('main', 12), stagingRef('main/x', 3), `${stagingPrefix('main')}07`, `${stagingPrefix('main')}0`, `${stagingPrefix('main')}4-old`];
    expect(ownStagingBranches('main', names)).toEqual([
      { ref: stagingRef('main', 1), batch: 1 },
      { ref: stagingRef('main', 12), batch: 12 },
    ]);
    expect(ownStagingBranches('main/x', names)).toEqual([{ ref: stagingRef('main/x', 3), batch: 3 }]);
  });
});

describe('requiredChecks', () => {
  const required = ['ci/test', 'lint'];
  let sha: string;
  beforeEach(() => {
    sha = tip();
  });
  const read = (names = required, allowNeutral = false) => counted(() => queue.requiredChecks(sha, names, allowNeutral));

  test('pending while a required check is not reported or still running, naming none until CI reported one of them; one query', async () => {
    expect(await read()).toEqual({ value: { outcome: 'pending', pending: [] }, requests: ['graphql MergeGateQueueChecks'] });
    fake.git.ciStatus(repo, sha, 'other/check', 'PENDING'); // not a required one: CI has still said nothing of those
    expect((await read()).value).toEqual({ outcome: 'pending', pending: [] });
    fake.git.ciCheckRun(repo, sha, 'ci/test', null);
    expect((await read()).value).toEqual({ outcome: 'pending', pending: ['ci/test', 'lint'] });
    fake.git.ciStatus(repo, sha, 'lint', 'SUCCESS');
    expect((await read()).value).toEqual({ outcome: 'pending', pending: ['ci/test'] });
  });

  test('success when check runs and statuses all succeeded; our own check run is never one of them', async () => {
    fake.git.ciCheckRun(repo, sha, 'ci/test', 'success');
    fake.git.ciStatus(repo, sha, 'lint', 'SUCCESS');
    fake.git.ciCheckRun(repo, sha, 'merge-gate', 'failure', { appId: fake.appId });
    expect((await read()).value).toEqual({ outcome: 'success' });
    expect((await read(['merge-gate'])).value).toEqual({ outcome: 'pending', pending: [] });
  });

  test('failure names the first failed check and its link (a check run, a status), even while others are pending', async () => {
    fake.git.ciStatus(repo, sha, 'lint', 'FAILURE', 'https://ci.example/lint/9');
    expect((await read()).value).toEqual({ outcome: 'failure', check: 'lint', url: 'https://ci.example/lint/9' });
    fake.git.ciCheckRun(repo, sha, 'ci/test', 'timed_out', { url: 'https://ci.example/test/3' });
    expect((await read()).value).toEqual({ outcome: 'failure', check: 'ci/test', url: 'https://ci.example/test/3' });
  });

  test('neutral and skipped fail unless allow_neutral, as in the checks rule; the latest result of a name wins', async () => {
    fake.git.ciCheckRun(repo, sha, 'ci/test', 'neutral');
    fake.git.ciStatus(repo, sha, 'lint', 'SUCCESS');
    expect((await read()).value).toEqual({ outcome: 'failure', check: 'ci/test', url: null });
    expect((await read(required, true)).value).toEqual({ outcome: 'success' });
    // A re-run (later) that failed: the latest counts.
    const later = fake.git.ciCheckRun(repo, sha, 'ci/test', 'failure', { url: 'https://ci.example/rerun' });
    later.completedAt = '2099-01-01T00:00:00Z';
    expect((await read(required, true)).value).toEqual({ outcome: 'failure', check: 'ci/test', url: 'https://ci.example/rerun' });
  });

  test('more than 100 results: one more query per 100', async () => {
    for (let i = 0; i < 150; i++) fake.git.ciStatus(repo, sha, `other/${i}`, 'SUCCESS');
    fake.git.ciCheckRun(repo, sha, 'ci/test', 'success');
    fake.git.ciCheckRun(repo, sha, 'lint', 'success');
    expect(await read()).toEqual({ value: { outcome: 'success' }, requests: ['graphql MergeGateQueueChecks', 'graphql MergeGateQueueChecks'] });
  });

  test('an unknown commit is an error, not a pass', async () => {
    sha = 'f'.repeat(40);
    await expect(queue.requiredChecks(sha, required, false)).rejects.toThrow(/does not know commit/);
  });
});
