// The merge queue's shell (src/queue: store, runner, batch landing, the gate's
// hooks) in one process: Probot with landing and the queue wired in, real
// webhook payloads, the fake GitHub over real HTTP on 127.0.0.1 (its git model:
// staging merges, refs, fast-forwards, trees), real SQLite, fake time, and a
// real receiver of trunk-updated.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { approve, fileAdding, FULL_POLICY, setupRepo } from '../helpers/github-scenario.js';
import { aimAt, example, pullPayload } from '../helpers/github-app.js';
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

/** GitHub's `status` webhook for a status on `sha`. */
function statusPayload(repo: FakeRepo, sha: string, context: string, state: string): Record<string, any> {
  const p = aimAt(example('status'), fake, repo);
  return { ...p, sha, context, state: state.toLowerCase(), branches: [] };
}

/** CI reports `state` for ci/test on the staging head of `batch`, and GitHub tells the app. */
async function ci(app: LandingApp, repo: FakeRepo, batch: number, state: 'SUCCESS' | 'FAILURE'): Promise<string> {
  const sha = repo.branches.get(stagingRef('main', batch));
  if (!sha) throw new Error(`no staging branch for batch ${batch}: ${[...repo.branches.keys()].join(', ')}`);
  fake.git.ciStatus(repo, sha, 'ci/test', state);
  await app.receive('status', statusPayload(repo, sha, 'ci/test', state));
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
