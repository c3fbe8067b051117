// Crash-safety of the merge queue's shell (SPEC §4a): an app "dies" at a step
// (from that instant every GitHub call of its queue fails and it is stopped:
// nothing more of it reaches GitHub or the database), and a fresh app on the
// same SQLite database takes over. Nothing lands twice, every landing is
// announced once, orphaned staging branches are deleted. The fake GitHub over
// real HTTP on 127.0.0.1; real SQLite (one in-memory database both apps share).
import { describe, expect, test } from '@jest/globals';
import { setupRepo } from '../helpers/github-scenario.js';
import type { LandingApp } from '../helpers/landing.js';
import { queuePolicy, QueueScenario } from '../helpers/queue-app.js';
import { queueScenarioEachTest } from '../helpers/queue-each-test.js';
import { ManualClock } from '../helpers/github-timers.js';
import { openDb, type Db } from '../../src/state/db.js';
import { octokitQueueGitHub, type QueueGitHub } from '../../src/queue/github.js';
import { octokitLandingGitHub, type LandingGitHub } from '../../src/land/github.js';
import { stagingRef } from '../../src/queue/types.js';
import type { Octokit } from '../../src/octokit/types.js';

let q: QueueScenario;
queueScenarioEachTest((s) => (q = s));

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
  app = await q.app(db, clock, {
    queueGithub: (octokit: Octokit, owner: string, repo: string, appId: number) => guard(octokitQueueGitHub(octokit, owner, repo, appId), crash.queue),
    github: (octokit: Octokit, owner: string, repo: string) => guard(octokitLandingGitHub(octokit, owner, repo), crash.landing),
  });
  return Object.assign(app, { died });
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

describe('a crash, then a fresh app on the same database', () => {
  test('after the staging branch was built (its answer lost): it is built again, tested and landed once; an orphaned staging branch is deleted', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const db = openDb(':memory:');
    const last = pulls.at(-1)!.headSha;
    const first = await start(db, new ManualClock(new Date()), { queue: { call: 'mergeInto', when: (args) => args[1] === last } });
    for (const pull of pulls) await first.receive('pull_request', q.opened(repo, pull));
    await first.settle();
    const orphan = stagingRef('main', 99);
    repo.branches.set(orphan, repo.branches.get('main')!); // left by a process whose state was lost
    const second = await restart(first, db);
    expect(q.staging(repo)).toEqual([stagingRef('main', 1)]); // built again; the orphan deleted
    expect(q.fake.git.stagingMerges.filter((m) => m.head === last)).toHaveLength(2);
    const stagingSha = await q.ci(second, repo, 1, 'SUCCESS');
    await second.settle();
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(q.announced()).toEqual([[2, 3, 4]]);
    for (const pull of pulls) expect(q.title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
  });

  test('after the fast-forward, before the landing was recorded: the restart sees the base at the staging head and records it, with its one trunk-updated', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const db = openDb(':memory:');
    const first = await start(db, new ManualClock(new Date()), { queue: { call: 'fastForward', when: () => true } });
    for (const pull of pulls) await first.receive('pull_request', q.opened(repo, pull));
    await first.settle();
    const stagingSha = repo.branches.get(stagingRef('main', 1))!;
    await q.report(first, repo, stagingSha, 'SUCCESS');
    const second = await restart(first, db);
    await second.settle();
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(q.fake.git.refUpdates.filter((u) => u.branch === 'main')).toHaveLength(1); // one fast-forward
    expect(q.announced()).toEqual([[2, 3, 4]]);
    expect(q.receiver.received[0].json.after).toBe(stagingSha);
    for (const pull of pulls) expect(q.title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
    expect(q.staging(repo)).toEqual([]);
  });

  test('halfway through a squash batch: the restart merges only what is left, checks the tree, and announces the batch once', async () => {
    const repo = setupRepo(q.fake, queuePolicy('squash'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const before = repo.branches.get('main')!;
    const db = openDb(':memory:');
    const first = await start(db, new ManualClock(new Date()), { landing: { call: 'merge', when: (args) => args[0] === 3 } });
    for (const pull of pulls) await first.receive('pull_request', q.opened(repo, pull));
    await first.settle();
    const stagingSha = repo.branches.get(stagingRef('main', 1))!;
    await q.report(first, repo, stagingSha, 'SUCCESS');
    const second = await restart(first, db);
    await second.settle();
    expect(q.fake.merges.map((m) => [m.number, m.status])).toEqual([
      [2, 200],
      [3, 200],
      [4, 200],
    ]);
    const after = repo.branches.get('main')!;
    expect(q.fake.treeOid(repo, after)).toBe(q.fake.treeOid(repo, stagingSha));
    expect(q.receiver.received.map((r) => [r.json.before, r.json.after])).toEqual([[before, after]]);
    expect(q.announced()).toEqual([[2, 3, 4]]);
    for (const pull of pulls) expect(q.title(repo, pull)).toBe(`Landed as ${after.slice(0, 7)} in batch 1`);
  });
});
