// Crash-safety of the merge queue's shell (SPEC §4a): an app "dies" at a step
// (from that instant every GitHub call of its queue fails and it is stopped:
// nothing more of it reaches GitHub or the database), and a fresh app on the
// same SQLite database takes over. Nothing lands twice, every landing is
// announced once, orphaned staging branches are deleted. The fake GitHub over
// real HTTP on 127.0.0.1; real SQLite (one in-memory database both apps share).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { approve, fileAdding, FULL_POLICY, setupRepo } from '../helpers/github-scenario.js';
import { pullPayload } from '../helpers/github-app.js';
import { statusWebhook } from '../helpers/github-fake-webhooks.js';
import { Receiver, startLandingApp, type LandingApp } from '../helpers/landing.js';
import { ManualClock } from '../helpers/github-timers.js';
import { openDb, type Db } from '../../src/state/db.js';
import { octokitQueueGitHub, type QueueGitHub } from '../../src/queue/github.js';
import { octokitLandingGitHub, type LandingGitHub } from '../../src/land/github.js';
import { stagingRef } from '../../src/queue/types.js';
import type { Octokit } from '../../src/octokit/types.js';

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

const queuePolicy = (method: string) => `${FULL_POLICY}land:\n  method: ${method}\n  queue:\n    batch: 3\n    speculative: 1\n    wait: 30s\n`;

function pullAdding(repo: FakeRepo, number: number): FakePull {
  const path = `lib/f${number}.ts`;
  const pull = fake.addPull(repo, { number, files: [fileAdding(path, [`export const v${number} = ${number};`])] }, { [path]: `export const v${number} = ${number};` });
  approve(pull);
  fake.git.ciStatus(repo, pull.headSha, 'ci/test', 'SUCCESS');
  return pull;
}

/** Where an app dies: after the call named (it was made, and GitHub did it), every later call of its queue fails. */
interface Crash {
  queue?: { call: keyof QueueGitHub; when: (args: unknown[]) => boolean };
  landing?: { call: keyof LandingGitHub; when: (args: unknown[]) => boolean };
}

class Dead extends Error {
  constructor() {
    super('this app died (a simulated SIGKILL)');
  }
}

async function start(db: Db, clock: ManualClock, crash: Crash = {}): Promise<LandingApp & { died: Promise<void> }> {
  let dead = false;
  let app: LandingApp | null = null;
  let die: () => void = () => undefined;
  const died = new Promise<void>((resolve) => (die = resolve));
  const guard = <T extends object>(real: T, at: { call: keyof T; when: (args: unknown[]) => boolean } | undefined): T =>
    new Proxy(real, {
      get(target, name) {
        const fn = (target as Record<string | symbol, unknown>)[name];
        if (typeof fn !== 'function') return fn;
        return async (...args: unknown[]) => {
          if (dead) throw new Dead();
          const result = await (fn as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (at && name === at.call && at.when(args)) {
            // From this instant nothing of this app reaches GitHub or the database.
            dead = true;
            app?.landing.queue.stop();
            die();
            throw new Dead();
          }
          return result;
        };
      },
    });
  app = await startLandingApp(fake, {
    outbox: { urls: [receiver.url] },
    landing: {
      db,
      queueRetry: { firstMs: 1_000, maxMs: 4_000 },
      queueGithub: (octokit: Octokit, owner: string, repo: string, appId: number) => guard(octokitQueueGitHub(octokit, owner, repo, appId), crash.queue),
      github: (octokit: Octokit, owner: string, repo: string) => guard(octokitLandingGitHub(octokit, owner, repo), crash.landing),
    },
    start: { clock },
  });
  apps.push(app);
  return Object.assign(app, { died });
}

const opened = (repo: FakeRepo, pull: FakePull) => {
  const p = pullPayload('pull_request', 'opened', fake, repo, pull);
  p.pull_request.base = { ...p.pull_request.base, ref: pull.baseRef };
  return p;
};

/** CI passes on `sha`, and GitHub tells the app. */
async function green(app: LandingApp, repo: FakeRepo, sha: string): Promise<void> {
  const hook = statusWebhook(fake, repo, fake.git.ciStatus(repo, sha, 'ci/test', 'SUCCESS'));
  await app.receive(hook.name, hook.payload);
}

async function ci(app: LandingApp, repo: FakeRepo, batch: number): Promise<string> {
  const sha = repo.branches.get(stagingRef('main', batch));
  if (!sha) throw new Error(`no staging branch for batch ${batch}: ${[...repo.branches.keys()].join(', ')}`);
  await green(app, repo, sha);
  await app.settle();
  return sha;
}

/** The first app dies; it is stopped (a dead process does nothing more), and a fresh one takes over the database. */
async function restart(first: LandingApp & { died: Promise<void> }, db: Db): Promise<LandingApp> {
  await first.died;
  first.stop();
  await first.landing.queue.idle().catch(() => undefined);
  const second = await start(db, first.clock);
  await second.settle();
  return second;
}

const staging = (repo: FakeRepo) => [...repo.branches.keys()].filter((b) => b.startsWith('merge-gate/queue/'));
const title = (repo: FakeRepo, pull: FakePull) => fake.ourRuns(repo, pull.headSha).at(-1)?.title;
const announced = () => receiver.received.map((r) => r.json.pull_requests.map((p: { number: number }) => p.number));

describe('a crash, then a fresh app on the same database', () => {
  test('after the staging branch was built (its answer lost): it is built again, tested and landed once; an orphaned staging branch is deleted', async () => {
    const repo = setupRepo(fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const db = openDb(':memory:');
    const last = pulls.at(-1)!.headSha;
    const first = await start(db, new ManualClock(new Date()), { queue: { call: 'mergeInto', when: (args) => args[1] === last } });
    for (const pull of pulls) await first.receive('pull_request', opened(repo, pull));
    await first.settle();
    const orphan = stagingRef('main', 99);
    repo.branches.set(orphan, repo.branches.get('main')!); // left by a process whose state was lost
    const second = await restart(first, db);
    expect(staging(repo)).toEqual([stagingRef('main', 1)]); // built again; the orphan deleted
    expect(fake.git.stagingMerges.filter((m) => m.head === last)).toHaveLength(2);
    const stagingSha = await ci(second, repo, 1);
    await second.settle();
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(announced()).toEqual([[2, 3, 4]]);
    for (const pull of pulls) expect(title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
  });

  test('after the fast-forward, before the landing was recorded: the restart sees the base at the staging head and records it, with its one trunk-updated', async () => {
    const repo = setupRepo(fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const db = openDb(':memory:');
    const first = await start(db, new ManualClock(new Date()), { queue: { call: 'fastForward', when: () => true } });
    for (const pull of pulls) await first.receive('pull_request', opened(repo, pull));
    await first.settle();
    const stagingSha = repo.branches.get(stagingRef('main', 1))!;
    await green(first, repo, stagingSha);
    const second = await restart(first, db);
    await second.settle();
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(fake.git.refUpdates.filter((u) => u.branch === 'main')).toHaveLength(1); // one fast-forward
    expect(announced()).toEqual([[2, 3, 4]]);
    expect(receiver.received[0].json.after).toBe(stagingSha);
    for (const pull of pulls) expect(title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
    expect(staging(repo)).toEqual([]);
  });

  test('halfway through a squash batch: the restart merges only what is left, checks the tree, and announces the batch once', async () => {
    const repo = setupRepo(fake, queuePolicy('squash'));
    const pulls = [2, 3, 4].map((n) => pullAdding(repo, n));
    const before = repo.branches.get('main')!;
    const db = openDb(':memory:');
    const first = await start(db, new ManualClock(new Date()), { landing: { call: 'merge', when: (args) => args[0] === 3 } });
    for (const pull of pulls) await first.receive('pull_request', opened(repo, pull));
    await first.settle();
    const stagingSha = repo.branches.get(stagingRef('main', 1))!;
    await green(first, repo, stagingSha);
    const second = await restart(first, db);
    await second.settle();
    expect(fake.merges.map((m) => [m.number, m.status])).toEqual([
      [2, 200],
      [3, 200],
      [4, 200],
    ]);
    const after = repo.branches.get('main')!;
    expect(fake.treeOid(repo, after)).toBe(fake.treeOid(repo, stagingSha));
    expect(receiver.received.map((r) => [r.json.before, r.json.after])).toEqual([[before, after]]);
    expect(announced()).toEqual([[2, 3, 4]]);
    for (const pull of pulls) expect(title(repo, pull)).toBe(`Landed as ${after.slice(0, 7)} in batch 1`);
  });
});
