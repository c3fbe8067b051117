// The merge queue sending pull requests away (SPEC §4a): a bad pull request
// found by bisection while the rest land, a conflict (their checks say why and
// what to do); and what changes under a batch being tested: a push to the
// base, an approval dismissed. In one process against the fake GitHub over real HTTP
// (test/helpers/queue-app.ts).
import { describe, expect, test } from '@jest/globals';
import type { FakePull, FakeRepo } from '../helpers/github-fake.js';
import { setupRepo } from '../helpers/github-scenario.js';
import { pullPayload } from '../helpers/github-app.js';
import { pushWebhook } from '../helpers/github-fake-webhooks.js';
import type { LandingApp } from '../helpers/landing.js';
import { queuePolicy, QueueScenario } from '../helpers/queue-app.js';
import { queueScenarioEachTest } from '../helpers/queue-each-test.js';
import { openDb } from '../../src/state/db.js';

let q: QueueScenario;
queueScenarioEachTest((s) => (q = s));

describe('pull requests the queue sends away', () => {
  /** CI on every staging head not yet reported: failure where the tree holds a file of a bad pull request. Until no staging branch is left, or `rounds` rounds. */
  async function runCi(app: LandingApp, repo: FakeRepo, bad: readonly FakePull[], rounds = 12): Promise<void> {
    const badFiles = bad.flatMap((p) => p.files.map((f) => f.path));
    for (let round = 0; round < rounds; round++) {
      const untested = q.staging(repo)
        .map((ref) => repo.branches.get(ref)!)
        .filter((sha) => !repo.statuses.some((s) => s.sha === sha));
      if (untested.length === 0) return;
      for (const sha of untested) {
        const failing = badFiles.some((path) => repo.trees.get(sha)?.has(path));
        await q.report(app, repo, sha, failing ? 'FAILURE' : 'SUCCESS', 'https://ci.example/run/1');
      }
      await app.settle();
    }
  }

  test('a failing batch is bisected: the bad pull request leaves with a failing check naming the check, the others land', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 3\nspeculative: 1\nwait: 30s\nretries: 0'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    await runCi(app, repo, [pulls[1]]);
    await app.advance(60_000);
    await runCi(app, repo, [pulls[1]]);
    expect(pulls.map((p) => p.state)).toEqual(['MERGED', 'OPEN', 'MERGED']);
    const run = q.fake.ourRuns(repo, pulls[1].headSha).at(-1)!;
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'left the queue: ci/test failed on its staging branch' });
    expect(run.summary).toContain('https://ci.example/run/1');
    expect(q.announced()).toEqual(expect.arrayContaining([expect.arrayContaining([2])]));
    expect(q.announced().flat().sort()).toEqual([2, 4]);
    // Evaluated again, the same head does not join again.
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', q.fake, repo, pulls[1]));
    await app.settle();
    expect(q.staging(repo)).toEqual([]);
    expect(q.fake.ourRuns(repo, pulls[1].headSha).at(-1)!.conclusion).toBe('failure');
  });

  test('a conflict sends away only the pull request that conflicts, its check saying with what', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const a = q.pull(repo, 2, { 'lib/shared.ts': 'export const x = 1;' });
    const b = q.pull(repo, 3, { 'lib/shared.ts': 'export const x = 2;' });
    const c = q.pull(repo, 4);
    const app = await q.app(openDb(':memory:'));
    for (const pull of [a, b, c]) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    expect(q.fake.ourRuns(repo, b.headSha).at(-1)).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'left the queue: conflicts with main and #2' });
    await app.advance(60_000);
    await app.settle();
    const sha = await q.ci(app, repo, Number(q.staging(repo)[0].split('/').at(-1)), 'SUCCESS');
    await app.settle();
    expect([a, b, c].map((p) => p.state)).toEqual(['MERGED', 'OPEN', 'MERGED']);
    expect(repo.branches.get('main')).toBe(sha);
  });
});

describe('what changes while a batch is tested', () => {
  test('a push to the base by someone else: the batch built on the old head is rebuilt on the new one and lands from there', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const pulls = [2, 3].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.advance(30_000);
    await app.settle();
    expect(q.staging(repo)).toEqual(['merge-gate/queue/main/1']);
    const move = q.fake.git.pushByHand(repo, 'main', { 'NOTES.md': 'by hand' });
    const hook = pushWebhook(q.fake, repo, 'main', move);
    await app.receive(hook.name, hook.payload);
    await app.settle();
    const rebuilt = q.staging(repo);
    expect(rebuilt).toHaveLength(1);
    expect(rebuilt[0]).not.toBe('merge-gate/queue/main/1');
    const sha = await q.ci(app, repo, Number(rebuilt[0].split('/').at(-1)), 'SUCCESS');
    await app.settle();
    expect(repo.branches.get('main')).toBe(sha);
    expect(q.fake.ancestors(sha).has(move.after)).toBe(true);
    expect(q.receiver.received.map((r) => [r.json.before, r.json.after])).toEqual([[move.after, sha]]);
  });

  test('an approval dismissed: the pull request leaves, its batch is rebuilt without it, the others land', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    expect(q.staging(repo)).toEqual(['merge-gate/queue/main/1']);
    pulls[1].reviews = pulls[1].reviews.map((r) => ({ ...r, state: 'DISMISSED' as const }));
    await app.receive('pull_request_review', pullPayload('pull_request_review', 'dismissed', q.fake, repo, pulls[1]));
    await app.settle();
    await app.advance(30_000);
    await app.settle();
    const rebuilt = q.staging(repo);
    expect(rebuilt).toHaveLength(1);
    expect(q.fake.git.stagingMerges.filter((m) => m.base === rebuilt[0]).map((m) => m.head)).toEqual([pulls[0].headSha, pulls[2].headSha]);
    const sha = await q.ci(app, repo, Number(rebuilt[0].split('/').at(-1)), 'SUCCESS');
    await app.settle();
    expect(repo.branches.get('main')).toBe(sha);
    expect(pulls.map((p) => p.state)).toEqual(['MERGED', 'OPEN', 'MERGED']);
    expect(q.title(repo, pulls[1])).not.toMatch(/queue|Landed/);
  });
});
