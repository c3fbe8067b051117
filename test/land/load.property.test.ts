// 200 landings across 5 branches, with the merge call and the receiver
// failing at random (seeded: FC_SEED or a fixed seed): every landing delivered
// at least once, none lost, no pull request merged twice, nothing merged with
// a SHA other than the evaluated head, one landing at a time per branch (each
// landing's `before` is the previous landing's `after`). Fake time drives the
// gate's queue and the outbox's backoff; the receiver is a real HTTP server.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { ManualClock } from '../helpers/github-timers.js';
import { fileAdding, setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { Receiver, startLandingApp } from '../helpers/landing.js';
import { prng, testSeed } from '../helpers/prng.js';

const POLICY = `version: 1
preset: none
reviews:
  required: 1
  fresh: true
checks:
  required: ["ci/test"]
land:
  mode: auto
  method: squash
`;

const BRANCHES = ['main', 'release-1', 'release-2', 'release-3', 'release-4'];
const PER_BRANCH = 40;
const OPEN_AT_ONCE = 3;

let receiver: Receiver;
let fake: FakeGitHub;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  fake = new FakeGitHub().install();
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver.close();
  fake.uninstall();
});

test('200 landings across 5 branches, merge call and receiver failing at random', async () => {
  const seed = testSeed(20261201);
  const random = prng(seed);
  const repo = setupRepo(fake, POLICY);
  const tip = repo.branches.get('main')!;
  for (const b of BRANCHES) repo.branches.set(b, tip);

  // The merge call: 10% a 502 before merging, 10% a 502 after merging (the answer is lost).
  fake.mergeFault = () => {
    const r = random();
    return r < 0.1 ? 'fail-before' : r < 0.2 ? 'fail-after' : 'none';
  };
  // The receiver: down (500) for 30% of requests.
  const answer = receiver.answer.bind(receiver);
  receiver.answer = () => (random() < 0.3 ? 500 : answer());

  // Signatures carry the attempt's time, checked within 5 minutes of the real time: start a little before now.
  const clock = new ManualClock(new Date(Date.now() - 60_000));
  const app = await startLandingApp(fake, {
    config: { coalesceMs: 10, retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 } },
    outbox: { urls: [receiver.url], backoff: { baseMs: 100, maxMs: 2_000 } },
    start: { clock },
    // A 502 before merging is believed "not merged" only after the settle time: short, or virtual time outruns the 5 minutes.
    landing: { random, settleMs: 2_000 },
  });

  const pending = new Map(BRANCHES.map((b) => [b, [] as FakePull[]]));
  let number = 2;
  for (const b of BRANCHES) {
    for (let i = 0; i < PER_BRANCH; i++) {
      const n = number++;
      pending.get(b)!.push(typicalPull(fake, repo, n, [fileAdding(`src/${b}/change${n}.ts`, [`export const v = ${n};`])]));
      repo.pulls.get(n)!.baseRef = b;
    }
  }
  const all = [...repo.pulls.values()];
  const headAtMerge = new Map(all.map((p) => [p.number, p.headSha]));

  const opened = new Set<number>();
  for (let round = 0; round < 400 && all.some((p) => p.state !== 'MERGED'); round++) {
    for (const b of BRANCHES) {
      const open = pending.get(b)!.filter((p) => opened.has(p.number) && p.state === 'OPEN').length;
      for (const p of pending.get(b)!.filter((q) => !opened.has(q.number)).slice(0, OPEN_AT_ONCE - open)) {
        opened.add(p.number);
        await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, p));
      }
    }
    await app.settle();
    await app.advance(200);
  }
  // Let the outbox deliver what is left.
  for (let i = 0; i < 600 && app.landing.store.pending().length > 0; i++) {
    await app.advance(500);
    await app.landing.sender.settled();
  }
  app.stop();

  const failures = fake.merges.filter((m) => m.status !== 200).length;
  // Every pull request merged exactly once, with the head that was evaluated.
  const mergedCount = new Map<number, number>();
  for (const m of fake.merges.filter((x) => x.merged)) mergedCount.set(m.number, (mergedCount.get(m.number) ?? 0) + 1);
  expect(all.filter((p) => p.state !== 'MERGED').map((p) => p.number)).toEqual([]);
  expect([...mergedCount.values()].every((c) => c === 1)).toBe(true);
  expect(mergedCount.size).toBe(BRANCHES.length * PER_BRANCH);
  expect(fake.merges.filter((m) => m.sha !== headAtMerge.get(m.number))).toEqual([]);
  expect(failures).toBeGreaterThan(0); // the failures did happen

  // Every landing delivered (at least once), none lost, one event per landing.
  expect(app.landing.store.all().filter((d) => d.state !== 'delivered')).toEqual([]);
  const byPull = new Map<number, Set<string>>();
  for (const r of receiver.received) byPull.set(r.json.pull_request.number, (byPull.get(r.json.pull_request.number) ?? new Set()).add(r.id));
  expect(byPull.size).toBe(BRANCHES.length * PER_BRANCH);
  expect([...byPull.values()].every((ids) => ids.size === 1)).toBe(true);
  expect(receiver.rejected).toEqual([]);

  // One landing at a time per branch: the landings of a branch form one chain, `before` of each the `after` of the previous.
  for (const b of BRANCHES) {
    const events = [...new Map(receiver.received.filter((r) => r.json.branch === b).map((r) => [r.id, r.json])).values()];
    const afters = new Map(events.map((e) => [e.before, e.after]));
    let at = tip;
    for (let i = 0; i < events.length; i++) at = afters.get(at)!;
    expect([b, at]).toEqual([b, repo.branches.get(b)]);
    for (const e of events) expect(e.after).toBe(repo.pulls.get(e.pull_request.number)!.mergeCommit);
  }
  expect(fake.problems).toEqual([]);
}, 600_000);
