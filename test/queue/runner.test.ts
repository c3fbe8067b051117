// The merge queue's shell (src/queue: store, runner, batch landing, the gate's
// hooks) in one process: Probot with landing and the queue wired in, real
// webhook payloads, the fake GitHub over real HTTP on 127.0.0.1 (its git model:
// staging merges, refs, fast-forwards, trees), real SQLite, fake time, and a
// real receiver of trunk-updated.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { approve, fileAdding, FULL_POLICY, setupRepo } from '../helpers/github-scenario.js';
import { pullPayload } from '../helpers/github-app.js';
import { statusWebhook } from '../helpers/github-fake-webhooks.js';
import { Receiver, startLandingApp, type LandingApp } from '../helpers/landing.js';
import { ManualClock } from '../helpers/github-timers.js';
import { openDb, type Db } from '../../src/state/db.js';
import { stagingRef } from '../../src/queue/types.js';

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let receiver: Receiver;
let apps: LandingApp[] = [];

beforeEach(async () => {
  ({ fake, close: closeFake } = await FakeGitHub.listening());
  receiver = await new Receiver().start();
});

afterEach(async () => {
  for (const a of apps) a.stop();
  apps = [];
  await receiver.close();
  await closeFake();
  expect(fake.problems).toEqual([]);
});

const queuePolicy = (method: string, queue = 'batch: 3\nspeculative: 1\nwait: 30s') => `${FULL_POLICY}land:\n  method: ${method}\n  queue:\n${queue.replace(/^/gm, '    ')}\n`;

/** A pull request that passes FULL_POLICY (approved, ci/test green on its head), adding a file of its own. */
function pullAdding(repo: FakeRepo, number: number, files: Record<string, string> = { [`lib/f${number}.ts`]: `export const v${number} = ${number};` }): FakePull {
  const pull = fake.addPull(repo, { number, files: Object.entries(files).map(([path, text]) => fileAdding(path, [text])) }, files);
  approve(pull);
  fake.git.ciStatus(repo, pull.headSha, 'ci/test', 'SUCCESS');
  return pull;
}

// The receiver checks signatures against the real time: the app's clock starts now.
async function start(db: Db, clock = new ManualClock(new Date())): Promise<LandingApp> {
  const app = await startLandingApp(fake, { outbox: { urls: [receiver.url] }, landing: { db, queueRetry: { firstMs: 1_000, maxMs: 4_000 } }, start: { clock } });
  apps.push(app);
  return app;
}

const opened = (repo: FakeRepo, pull: FakePull) => {
  const p = pullPayload('pull_request', 'opened', fake, repo, pull);
  p.pull_request.base = { ...p.pull_request.base, ref: pull.baseRef };
  return p;
};

/** CI reports `state` for ci/test on the staging head of `batch`, and GitHub tells the app. */
async function ci(app: LandingApp, repo: FakeRepo, batch: number, state: 'SUCCESS' | 'FAILURE'): Promise<string> {
  const sha = repo.branches.get(stagingRef('main', batch));
  if (!sha) throw new Error(`no staging branch for batch ${batch}: ${[...repo.branches.keys()].join(', ')}`);
  const hook = statusWebhook(fake, repo, fake.git.ciStatus(repo, sha, 'ci/test', state));
  await app.receive(hook.name, hook.payload);
  await app.settle();
  return sha;
}

const title = (repo: FakeRepo, pull: FakePull) => fake.ourRuns(repo, pull.headSha).at(-1)?.title;
const staging = (repo: FakeRepo) => [...repo.branches.keys()].filter((b) => b.startsWith('merge-gate/queue/'));

describe('a batch landing', () => {
  test('method merge: three pull requests tested together land with one fast-forward and one trunk-updated naming all three', async () => {
    const repo = setupRepo(fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const before = repo.branches.get('main')!;
    const app = await start(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', opened(repo, pull));
    await app.settle();
    expect(staging(repo)).toEqual([stagingRef('main', 1)]);
    expect(fake.git.stagingMerges.map((m) => m.head)).toEqual(pulls.map((p) => p.headSha));
    for (const pull of pulls) expect(title(repo, pull)).toMatch(/^testing in batch 1/);

    const stagingSha = await ci(app, repo, 1, 'SUCCESS');
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(fake.git.refUpdates.filter((u) => u.branch === 'main')).toEqual([{ repo: 'octo/app', branch: 'main', from: before, to: stagingSha, force: false }]);
    expect(fake.merges).toEqual([]); // no merge call: the tested commit itself is the base now
    for (const pull of pulls) {
      expect(pull.state).toBe('MERGED');
      expect(title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
    }
    await app.settle();
    expect(receiver.received).toHaveLength(1);
    const event = receiver.received[0].json;
    expect(event).toMatchObject({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', before, after: stagingSha, pull_request: { number: 4 } });
    expect(event.pull_requests.map((p: { number: number; head_sha: string }) => [p.number, p.head_sha])).toEqual(pulls.map((p) => [p.number, p.headSha]));
    expect(staging(repo)).toEqual([]); // the staging branch is deleted once landed
  });
});

describe('squash and rebase batches', () => {
  test('squash: each pull request merged in order with its head SHA pinned, the tree checked against the staging tree, one trunk-updated', async () => {
    const repo = setupRepo(fake, queuePolicy('squash'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const before = repo.branches.get('main')!;
    const app = await start(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', opened(repo, pull));
    await app.settle();
    const stagingSha = await ci(app, repo, 1, 'SUCCESS');
    await app.settle();
    expect(fake.merges.map((m) => [m.number, m.sha, m.method, m.status])).toEqual(pulls.map((p) => [p.number, p.headSha, 'squash', 200]));
    const after = repo.branches.get('main')!;
    expect(after).not.toBe(stagingSha);
    expect(fake.treeOid(repo, after)).toBe(fake.treeOid(repo, stagingSha));
    expect(receiver.received.map((r) => [r.json.before, r.json.after, r.json.pull_requests.map((p: { number: number }) => p.number)])).toEqual([[before, after, [2, 3, 4]]]);
    for (const pull of pulls) expect(title(repo, pull)).toBe(`Landed as ${after.slice(0, 7)} in batch 1`);
  });

  test('a push by hand between the merges of a batch: the tree check fails, nothing is announced, the log and the checks say so, and the batch behind is rebuilt on the new head', async () => {
    const repo = setupRepo(fake, queuePolicy('squash', 'batch: 2\nspeculative: 2\nwait: 30s'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const app = await start(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', opened(repo, pull));
    await app.settle();
    await app.advance(30_000); // #4's batch waits 30 s for more, then starts on top of batch 1
    await app.settle();
    expect(staging(repo).sort()).toEqual([stagingRef('main', 1), stagingRef('main', 2)]);
    let pushed: { before: string; after: string } | null = null;
    fake.mergeFault = (pull) => {
      if (pull.number === 3 && !pushed) pushed = fake.git.pushByHand(repo, 'main', { 'NOTES.md': 'by hand' });
      return 'none';
    };
    await ci(app, repo, 1, 'SUCCESS');
    expect(pushed).not.toBeNull();
    const mismatched = repo.branches.get('main')!;
    expect(fake.merges.map((m) => m.number)).toEqual([2, 3]); // it stopped after the tree check: nothing merged twice
    expect(receiver.received).toEqual([]); // an untested tree is never announced
    expect(app.errors.map((e) => String((e as { msg?: string }).msg ?? e))).toEqual(expect.arrayContaining([expect.stringContaining("main's tree is not the staging tree that passed")]));
    for (const pull of pulls.slice(0, 2)) expect(title(repo, pull)).toBe('merged, but main then differed from what the queue tested');
    // #4 was tested on top of batch 1's staging head, which never became main: rebuilt on main as it is now.
    const rebuilt = staging(repo);
    expect(rebuilt).toHaveLength(1);
    expect(fake.parents.get(repo.branches.get(rebuilt[0])!)?.[0]).toBe(mismatched);
    const batch = Number(rebuilt[0].split('/').at(-1));
    await ci(app, repo, batch, 'SUCCESS');
    await app.settle();
    expect(fake.merges.map((m) => m.number)).toEqual([2, 3, 4]);
    expect(receiver.received.map((r) => [r.json.before, r.json.pull_requests.map((p: { number: number }) => p.number)])).toEqual([[mismatched, [4]]]);
  });
});
