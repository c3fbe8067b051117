// trunk-updated delivered to real HTTP receivers on 127.0.0.1 that verify it
// with the standardwebhooks library, from a landing by the app (fake GitHub
// behind nock, fake time for the outbox's backoff).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { ManualClock } from '../helpers/github-timers.js';
import { FULL_POLICY, setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { Receiver, startLandingApp, type LandingApp } from '../helpers/landing.js';

let fake: FakeGitHub;
let app: LandingApp | undefined;
const receivers: Receiver[] = [];

beforeEach(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  fake = new FakeGitHub().install();
});

afterEach(async () => {
  app?.stop();
  app = undefined;
  for (const r of receivers.splice(0)) await r.close();
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

async function receiver(): Promise<Receiver> {
  const r = await new Receiver().start();
  receivers.push(r);
  return r;
}

/** The receiver checks timestamps against the real time (5 minutes' tolerance): the fake clock starts at it. */
const nowClock = () => new ManualClock(new Date());

async function landOne(urls: string[], policy = FULL_POLICY, arrange: (repo: FakeRepo, pull: FakePull) => void = () => undefined, fetchImpl?: typeof fetch) {
  const repo = setupRepo(fake, policy);
  const pull = typicalPull(fake, repo);
  arrange(repo, pull);
  const before = repo.branches.get('main')!;
  app = await startLandingApp(fake, { outbox: { urls }, start: { clock: nowClock() }, landing: fetchImpl ? { fetch: fetchImpl } : {} });
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.settle();
  return { repo, pull, before };
}

/** Let fake time pass in steps, waiting for the deliveries each step starts. */
async function pass(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    await app!.advance(1000);
    await app!.landing.sender.settled();
  }
}

describe('delivery on landing', () => {
  test.each([
    ['squash', 1],
    ['merge', 1],
    ['rebase', 3],
  ])('%s: the SPEC §4 body, signed; before is the old tip and after the new one; pull_requests lists the one pull request', async (method, commits) => {
    const r = await receiver();
    const { pull, before, repo } = await landOne([r.url], `${FULL_POLICY}land:\n  method: ${method}\n`, (_repo, p) => void (p.commitCount = commits));
    expect(r.received).toHaveLength(1);
    const after = repo.branches.get('main')!;
    expect(after).toBe(pull.mergeCommit);
    const { json, id } = r.received[0];
    expect(Object.keys(json)).toEqual(['type', 'id', 'repository', 'branch', 'before', 'after', 'pull_request', 'pull_requests', 'landed_at']);
    expect(json).toEqual({
      type: 'trunk-updated',
      id,
      repository: 'octo/app',
      branch: 'main',
      before,
      after,
      pull_request: { number: 2, title: 'Pull request 2', url: 'https://github.com/octo/app/pull/2', author: 'alice', head_sha: pull.headSha },
      pull_requests: [{ number: 2, title: 'Pull request 2', url: 'https://github.com/octo/app/pull/2', author: 'alice', head_sha: pull.headSha }],
      landed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // `after` is the last commit the method put on the branch: walking back `commits` first parents reaches `before`.
    let sha = after;
    for (let i = 0; i < commits; i++) sha = fake.parents.get(sha)![0];
    expect(sha).toBe(before);
  });

  test('the receiver down for a while, then up: delivered, with the same webhook-id on every attempt', async () => {
    const r = await receiver();
    r.down = 503;
    await landOne([r.url]);
    expect(r.hits).toBe(1);
    await pass(10_000); // backoff 1 s, 2 s, 4 s (with jitter): a few more attempts, all refused
    const attempts = r.hits;
    expect(attempts).toBeGreaterThan(2);
    expect(r.received).toEqual([]);
    r.down = null;
    await pass(60_000);
    expect(r.received).toHaveLength(1);
    expect(r.hits).toBe(attempts + 1); // delivered once acknowledged, never again
    expect(new Set(r.seenIds)).toEqual(new Set([r.received[0].id]));
    expect(app!.landing.store.all().map((d) => [d.state, d.attempts])).toEqual([['delivered', attempts + 1]]);
  });

  test('two targets, one down: the other is delivered at once', async () => {
    const dead = await receiver();
    const live = await receiver();
    dead.down = 500;
    await landOne([dead.url, live.url]);
    expect(live.received).toHaveLength(1);
    expect(dead.received).toEqual([]);
    expect(app!.landing.store.all().map((d) => [d.target, d.state])).toEqual([
      [dead.url, 'pending'],
      [live.url, 'delivered'],
    ]);
  });

  test('a tampered body is rejected by the receiver, and the delivery is not taken as done', async () => {
    const r = await receiver();
    let tamper = true;
    const meddling: typeof fetch = async (input, init) => {
      if (!tamper) return fetch(input, init);
      const body = JSON.parse(String(init!.body));
      body.after = 'f'.repeat(40); // a man in the middle moves trunk elsewhere
      return fetch(input, { ...init, body: JSON.stringify(body) });
    };
    await landOne([r.url], FULL_POLICY, () => undefined, meddling);
    expect(r.received).toEqual([]);
    expect(r.rejected).toEqual([{ id: expect.any(String), error: expect.stringMatching(/signature/i) }]);
    expect(app!.landing.store.all()[0].state).toBe('pending');
    tamper = false;
    await pass(5_000);
    expect(r.received).toHaveLength(1);
  });
});
