// Landing without land.queue goes through the merge queue's core (issue 19,
// src/land/direct.ts): one place decides what lands next. Against the fake
// GitHub, on fake time, with the app's real state database.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';
import { pullPayload } from '../helpers/github-app.js';
import { octokitLandingGitHub } from '../../src/land/github.js';
import { describe as describeQueue, queueStats } from '../../src/queue/core.js';
import { WITHOUT_QUEUE } from '../../src/queue/settings.js';
import { queueKey } from '../../src/queue/store.js';
import type { PullStatus } from '../../src/queue/types.js';

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

describe('landing without land.queue is the queue core’s batch of one', () => {
  test('each merge call is the core’s landing of that pull request alone; the two of one branch land one after the other, and the queue counts both', async () => {
    const repo = setupRepo(fake);
    const first = typicalPull(fake, repo, 2);
    const second = typicalPull(fake, repo, 3);
    const where = { installationId: fake.installationId, repository: `${repo.owner}/${repo.name}`, branch: 'main' };
    /** At each merge call: what the queue's state says of both pull requests, and what its landing action holds. */
    const seen: { merging: number; statuses: Record<number, PullStatus['kind']>; landing: number[] | null }[] = [];
    app = await startLandingApp(fake, {
      landing: {
        github: (octokit, owner, name) => {
          const gh = octokitLandingGitHub(octokit, owner, name);
          return {
            ...gh,
            merge: async (number, sha, method) => {
              const stored = app!.landing.queue.store.branch(queueKey(where))!;
              seen.push({
                merging: number,
                statuses: { 2: describeQueue(stored.state, 2).kind, 3: describeQueue(stored.state, 3).kind },
                landing: app!.landing.queue.store.landing(queueKey(where))?.pulls.map((p) => p.number) ?? null,
              });
              return gh.merge(number, sha, method);
            },
          };
        },
      },
    });
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, first));
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, second));
    await app.settle();
    expect(fake.merges.map((m) => [m.number, m.status])).toEqual([
      [2, 200],
      [3, 200],
    ]);
    // The merge call is carried out for the core's `land` of a batch of one, while the core shows it landing.
    expect(seen.map((s) => [s.merging, s.landing, s.statuses[s.merging]])).toEqual([
      [2, [2], 'landing'],
      [3, [3], 'landing'],
    ]);
    // Never two landings at once: while one lands, the other is not landing.
    for (const s of seen) expect(s.statuses[s.merging === 2 ? 3 : 2]).not.toBe('landing');
    const stored = app.landing.queue.store.branch(queueKey(where))!;
    expect(stored.setup.settings).toEqual(WITHOUT_QUEUE);
    expect(stored.state.pulls).toEqual([]);
    expect(queueStats(stored.state)).toMatchObject({ depth: 0, landed: 2, ciRuns: 0 });
    // No staging branch, ever.
    expect([...repo.branches.keys()].filter((b) => b.startsWith('merge-gate/queue/'))).toEqual([]);
  });
});
