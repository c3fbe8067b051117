// Faults: a mixed run of evaluations and landings against a GitHub that fails
// at random, and a trunk receiver that does too; the app (its own process, as
// `npm start` runs it) is killed with SIGKILL once in the middle and started
// again on the same OUTBOX_PATH. Then GitHub recovers. Nothing lands that
// should not, nothing that should is lost, no merge is made twice or with a
// SHA GitHub refused once, every landing's trunk-updated is delivered, and the
// app neither crashes nor leaves an unhandled rejection.
//
// The faults, drawn from a seeded PRNG (FC_SEED, or a fixed seed; printed):
//   - the fake GitHub (over real HTTP): 502s, a secondary rate limit (403 with
//     `retry-after: 1`), connections reset before GitHub did anything or after
//     (the work done, the answer lost), slow answers (0.2–1.2 s);
//   - the merge call: a push racing it (the head moves, GitHub answers 409; the
//     new head re-approved or not), a 502 before merging, a 502 after merging;
//   - the receiver: 500s and connection resets;
//   - SIGKILL at the K-th merge call (the answer may or may not reach the app).
// Webhooks the dead app could not take are redelivered once it is back (what
// GitHub's "Redeliver" does for failed deliveries). Recovery: the faults stop;
// the app carries on by itself (its retries; the restart scan re-evaluates
// waiting and passing checks; the journal's intents and the outbox's
// deliveries resume; the events the killed process had accepted, recorded
// before they were answered, evaluated again) until GitHub hears nothing from
// it for 10 s — by then nothing that should land may be waiting for an event
// (`waitingForAnEvent`, printed and asserted empty); then every pull request
// still open gets one more event (CI reporting its status again).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type ChaosFault, type FakePull, type FakeRepo, type MergeFault } from '../helpers/github-fake.js';
import { aimAt, example, pullPayload } from '../helpers/github-app.js';
import { sendWebhook, startAppChild, type AppChild } from '../helpers/app-child.js';
import { approve, fileAdding, setupRepo } from '../helpers/github-scenario.js';
import { Receiver, TRUNK_SECRET } from '../helpers/landing.js';
import { prng, testSeed } from '../helpers/prng.js';

const MAX_LINES = 200;
const POLICY = `version: 1
preset: none
reviews:
  required: 1
  fresh: true
checks:
  required: ["ci/test"]
size:
  max_lines: ${MAX_LINES}
land:
  mode: auto
  method: squash
`;
const BRANCHES = ['main', 'release-1', 'release-2'];
/**
 * What each pull request is: approved and green at once (`good`); approved and
 * green later, each with its own event (`late`); never approved; CI red; too
 * large; approved, then pushed to without a new approval (lands only if it
 * landed before the push).
 */
const KINDS = { good: 11, late: 6, unreviewed: 4, red: 4, large: 4, pushed: 5 } as const;
type Kind = keyof typeof KINDS;

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let receiver: Receiver;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  receiver = await new Receiver().start();
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-faults-'));
});

afterAll(async () => {
  fake.chaos = null;
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  await receiver.close();
  await closeFake();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('random GitHub and receiver faults, and a SIGKILL in the middle: nothing wrong lands, nothing right is lost, every landing delivered', async () => {
  const started = Date.now();
  const seed = testSeed(20261201);
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  console.log(`faults test: seed ${seed} (FC_SEED=${seed} replays its random choices)`);

  // ------------------------------------------------------------ the pull requests
  const repo: FakeRepo = setupRepo(fake, POLICY);
  const tip = repo.branches.get('main')!;
  for (const b of BRANCHES) repo.branches.set(b, tip);
  let statusSeq = 0;
  const setStatus = (sha: string, state: 'SUCCESS' | 'PENDING' | 'FAILURE') =>
    repo.statuses.push({ sha, context: 'ci/test', state, createdAt: new Date(Date.UTC(2026, 10, 22, 9, 0, statusSeq++)).toISOString() });
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  };
  const kinds = shuffle(Object.entries(KINDS).flatMap(([kind, n]) => Array<Kind>(n).fill(kind as Kind)));
  const kindOf = new Map<number, Kind>();
  const pulls: FakePull[] = kinds.map((kind, i) => {
    const number = i + 2;
    const base = BRANCHES[i % BRANCHES.length];
    const lines = Array.from({ length: kind === 'large' ? MAX_LINES + 50 : 3 }, (_, l) => `export const v${number}_${l} = ${l};`);
    const pull = fake.addPull(repo, { number, baseRef: base, files: [fileAdding(`src/${base}/change${number}.ts`, lines)] });
    repo.branches.set(pull.headRef, pull.headSha);
    if (kind !== 'late' && kind !== 'unreviewed') approve(pull);
    setStatus(pull.headSha, kind === 'red' ? 'FAILURE' : kind === 'late' ? 'PENDING' : 'SUCCESS');
    kindOf.set(number, kind);
    return pull;
  });
  const linesOf = (p: FakePull) => p.files.reduce((n, f) => n + f.additions + f.deletions, 0);
  /** What the policy says of the pull request's head as it stands: approved on it, CI green on it, small enough. */
  const eligible = (p: FakePull) =>
    p.reviews.some((r) => r.state === 'APPROVED' && r.commit === p.headSha) &&
    repo.statuses.filter((s) => s.sha === p.headSha && s.context === 'ci/test').at(-1)?.state === 'SUCCESS' &&
    linesOf(p) <= MAX_LINES;

  /** Webhooks: CI reporting the head's status; a review submitted. */
  const status = (p: FakePull) => {
    const state = repo.statuses.filter((s) => s.sha === p.headSha && s.context === 'ci/test').at(-1)!.state.toLowerCase();
    return { ...aimAt(example('status'), fake, repo), sha: p.headSha, state, context: 'ci/test' };
  };
  const reviewed = (p: FakePull): Array<[string, object]> => [['pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, p)]];

  // ------------------------------------------------------------ the app, killed once and started again
  const env = {
    MERGE_GATE_COALESCE_MS: '50',
    MERGE_GATE_COALESCE_MAX_MS: '300',
    MERGE_GATE_CONCURRENCY: '8',
    MERGE_GATE_WRITE_SPACING_MS: '5',
    MERGE_GATE_RETRY_BASE_MS: '200',
    MERGE_GATE_GIVE_UP_RETRY_MS: '1000',
    MERGE_GATE_SCHEDULE_ON_START: 'true',
    TRUNK_WEBHOOK_URL: receiver.url,
    TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
    OUTBOX_PATH: join(dir, 'state', 'outbox.sqlite'),
    OUTBOX_RETRY_BASE_MS: '100',
    OUTBOX_RETRY_MAX_MS: '1000',
    MERGE_SETTLE: '2s', // a merge call without a certain answer holds its branch 2 s after it (default: a minute)
  };
  const apps: AppChild[] = [];
  const start = async () => {
    const app = await startAppChild(fake, env);
    children.push(app.child);
    apps.push(app);
    return app;
  };
  const first = await start();
  const firstExited = new Promise((resolve) => first.child.once('exit', resolve));
  let current: AppChild | null = first;
  let killed = false;
  let restarting: Promise<void> | null = null;

  /** Webhooks the app did not take (it was dead): redelivered once it is back. */
  const undelivered: Array<[string, object]> = [];
  /** Webhooks the second process (never killed) did not take: there must be none. */
  const refused: string[] = [];
  const redelivered = { count: 0 };
  const deliver = async (name: string, payload: object): Promise<void> => {
    const to = current;
    try {
      if (!to) throw new Error('the app is down');
      const res = await sendWebhook(to.url, name, payload);
      if (res.status >= 300) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      undelivered.push([name, payload]);
      if (to && to !== first) refused.push(`${name}: ${(err as Error).message}`);
    }
  };
  const redeliver = async () => {
    for (const [name, payload] of undelivered.splice(0)) {
      redelivered.count++;
      await deliver(name, payload);
    }
  };
  /** Webhooks sent from within the fake (a push racing a merge): awaited before recovery. */
  const inFlight: Array<Promise<void>> = [];
  const restart = () =>
    (restarting ??= (async () => {
      killed = true;
      current = null;
      if (first.child.signalCode === null && first.child.exitCode === null) first.child.kill('SIGKILL');
      await firstExited;
      current = await start();
      await redeliver();
    })());

  // ------------------------------------------------------------ faults
  let faulty = true;
  const faults = { race: 0, failBefore: 0, failAfter: 0, receiver500: 0, receiverReset: 0 };
  const secondaryLimit: ChaosFault = { kind: 'status', status: 403, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } };
  const bad: ChaosFault = { kind: 'status', status: 502, body: { message: 'Server Error' } };
  const slow = (): ChaosFault => ({ kind: 'slow', ms: 200 + Math.floor(random() * 1000) });
  // Each kind once among the first requests (so every kind happens, whatever the timing), then at random.
  const chaosPlan: Array<ChaosFault | null> = shuffle([bad, { kind: 'reset', after: false }, { kind: 'reset', after: true }, secondaryLimit, slow(), ...Array<null>(15).fill(null)]);
  let secondaryLimits = 1;
  fake.chaos = () => {
    if (!faulty) return null;
    if (chaosPlan.length > 0) return chaosPlan.shift()!;
    const r = random();
    if (r < 0.05) return bad;
    if (r < 0.09) return { kind: 'reset', after: random() < 0.5 };
    if (r < 0.14) return slow();
    // Each one holds every request of the installation for a second: a few are enough.
    if (r < 0.15 && secondaryLimits < 4) {
      secondaryLimits++;
      return secondaryLimit;
    }
    return null;
  };
  // The merge call: each fault once among the first calls on open pull requests, then at random.
  const mergePlan = shuffle<MergeFault | 'race'>(['race', 'fail-before', 'fail-after', 'none', 'none']);
  const killAt = 3 + Math.floor(random() * 5);
  let mergeCalls = 0;
  /** Whether the head was eligible at each merge call, in the order of fake.merges. */
  const eligibleAtCall: boolean[] = [];
  /** Heads that were pushed over while a merge call of theirs was on its way. */
  const raced = new Set<string>();
  fake.mergeFault = (pull, sha) => {
    mergeCalls++;
    if (mergeCalls === killAt && !killed) void restart(); // SIGKILL now: the answer may or may not reach the app
    // A call GitHub refuses before any fault could apply (closed, or a head that moved) does not use up the plan.
    const mergeable = pull.state === 'OPEN' && sha === pull.headSha;
    const planned = !faulty || !mergeable ? 'none' : (mergePlan.shift() ?? pick<MergeFault | 'race'>(['race', 'fail-before', 'fail-after', 'none', 'none', 'none', 'none']));
    if (planned === 'race') {
      // Someone pushes as the merge call arrives: GitHub answers 409. The new head is approved again, or not.
      faults.race++;
      raced.add(pull.headSha);
      fake.push(repo, pull);
      repo.branches.set(pull.headRef, pull.headSha);
      setStatus(pull.headSha, 'SUCCESS');
      const reapproved = random() < 0.5;
      if (reapproved) approve(pull);
      const events: Array<[string, object]> = [['pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull)], ...(reapproved ? reviewed(pull) : [])];
      inFlight.push(
        (async () => {
          for (const [name, payload] of events) await deliver(name, payload);
        })(),
      );
      eligibleAtCall.push(false);
      return 'none';
    }
    eligibleAtCall.push(eligible(pull));
    if (planned === 'fail-before') faults.failBefore++;
    if (planned === 'fail-after') faults.failAfter++;
    return planned;
  };
  const healthy = receiver.answer.bind(receiver);
  // The receiver: a 500 and a reset first, then failing at random to the end (the outbox's retries get through).
  const receiverPlan: Array<500 | 'reset'> = [500, 'reset'];
  receiver.answer = () => {
    const planned = receiverPlan.shift();
    const r = planned === undefined ? random() : planned === 500 ? 0 : 0.3;
    if (r < 0.25) {
      faults.receiver500++;
      return 500;
    }
    if (r < 0.35) {
      faults.receiverReset++;
      return 'reset';
    }
    return healthy();
  };

  // ------------------------------------------------------------ the run: events over time, faults on
  /** What happens to the pull requests, in time (ms from the start): a change on GitHub, then its webhooks. */
  const actions: Array<{ at: number; run: () => Array<[string, object]> }> = [];
  pulls.forEach((p, i) => {
    const opened = i * 220;
    actions.push({ at: opened, run: () => [['pull_request', pullPayload('pull_request', 'opened', fake, repo, p)]] });
    const later = (from: number, to: number) => opened + from + Math.floor(random() * (to - from));
    const kind = kindOf.get(p.number)!;
    if (kind === 'late') {
      actions.push({
        at: later(500, 2500),
        run: () => {
          setStatus(p.headSha, 'SUCCESS');
          return [['status', status(p)]];
        },
      });
      actions.push({
        at: later(2500, 4500),
        run: () => {
          approve(p);
          return reviewed(p);
        },
      });
    }
    if (kind === 'unreviewed') {
      actions.push({
        at: later(500, 3000),
        run: () => {
          p.reviews.push({ login: 'carol', state: 'COMMENTED', submittedAt: '2026-11-22T09:40:00Z', commit: p.headSha });
          return reviewed(p);
        },
      });
    }
    if (kind === 'pushed') {
      actions.push({
        at: later(300, 4000),
        run: () => {
          if (p.state !== 'OPEN') return []; // landed before the push: nothing to push to
          fake.push(repo, p);
          repo.branches.set(p.headRef, p.headSha);
          setStatus(p.headSha, 'SUCCESS');
          return [['pull_request', pullPayload('pull_request', 'synchronize', fake, repo, p)]];
        },
      });
    }
  });
  actions.sort((a, b) => a.at - b.at);
  const runStart = Date.now();
  // Events keep coming while the app is down: those it cannot take are redelivered once it is back.
  for (const action of actions) {
    await sleep(Math.max(0, runStart + action.at - Date.now()));
    for (const [name, payload] of action.run()) await deliver(name, payload);
  }
  await restart(); // done by now, or (fewer merge calls than killAt so far) the kill comes now
  // The second process, still under faults: at least until every planned merge fault has happened, and 2 s.
  for (const until = Date.now() + 20_000; mergePlan.length > 0 && Date.now() < until; ) await sleep(100);
  await sleep(2_000);
  await Promise.all(inFlight);
  await redeliver();

  // ------------------------------------------------------------ GitHub recovers
  faulty = false;
  const recoveredAt = Date.now();
  const quietFor = (ms: number) => performance.now() - (fake.requests.at(-1)?.at ?? 0) > ms;
  // First the app on its own (its retries, the restart scan, the journal, the outbox), until GitHub hears nothing
  // from it for 10 s (longer than Octokit's longest retry delay, 9 s, and the app's own backoffs here).
  for (const until = Date.now() + 30_000; Date.now() < until && pulls.some((p) => p.state === 'OPEN' && eligible(p)) && !quietFor(10_000); ) await sleep(100);
  /** Should land, and the app did not get to it by itself. */
  const stuck = pulls.filter((p) => p.state === 'OPEN' && eligible(p));
  const waitingForAnEvent = stuck.map((p) => `#${p.number} (${kindOf.get(p.number)}): ${fake.ourRuns(repo, p.headSha).at(-1)?.title ?? 'no check'}`);
  // Then one more event for every pull request still open: CI reports its status again.
  for (const p of pulls) if (p.state === 'OPEN') await deliver('status', status(p));
  await redeliver();
  expect(refused).toEqual([]);
  expect(undelivered).toEqual([]);

  const mergedPulls = () => pulls.filter((p) => p.state === 'MERGED');
  const deliveredPulls = () => new Set(receiver.received.map((r) => r.json.pull_request.number as number));
  const done = () => pulls.every((p) => p.state === 'MERGED' || !eligible(p)) && mergedPulls().every((p) => deliveredPulls().has(p.number));
  const deadline = Date.now() + 60_000;
  // Done, and GitHub has heard nothing from the app for 2 s (no late merge, no evaluation still on its way).
  while (!(done() && performance.now() - (fake.requests.at(-1)?.at ?? 0) > 2_000)) {
    if (Date.now() > deadline) break;
    await sleep(100);
  }

  // ------------------------------------------------------------ what must hold
  const second = apps[1];
  const summary = {
    seed,
    killAt,
    mergeCalls,
    merges: fake.merges.map((m) => m.status).join(' '),
    landed: mergedPulls().length,
    heldBack: pulls.length - mergedPulls().length,
    waitingForAnEvent,
    githubFaults: countBy(fake.chaosLog.map((c) => (c.fault.kind === 'status' ? String(c.fault.status) : c.fault.kind === 'reset' ? `reset-${c.fault.after ? 'after' : 'before'}` : 'slow'))),
    mergeFaults: faults,
    redelivered: redelivered.count,
    receiverAttempts: receiver.hits,
    recoveryMs: Date.now() - recoveredAt,
    wallMs: Date.now() - started,
  };
  console.log(`faults test: ${JSON.stringify(summary)}`);

  // After the recovery, the app got by itself to every pull request that should land, those whose last event the
  // killed process had accepted included (recorded before the answer, src/intake, and evaluated again at restart).
  expect(waitingForAnEvent).toEqual([]);

  // Every fault kind was injected (the chaos is wired), and the app was killed and came back.
  expect(countBy(fake.chaosLog.map((c) => c.fault.kind))).toEqual({ status: expect.any(Number), reset: expect.any(Number), slow: expect.any(Number) });
  expect(fake.chaosLog.some((c) => c.fault.kind === 'status' && c.fault.status === 502)).toBe(true);
  expect(fake.chaosLog.some((c) => c.fault.kind === 'status' && c.fault.status === 403)).toBe(true);
  expect(fake.chaosLog.some((c) => c.fault.kind === 'reset' && c.fault.after)).toBe(true);
  expect(fake.chaosLog.some((c) => c.fault.kind === 'reset' && !c.fault.after)).toBe(true);
  expect(fake.merges.some((m) => m.status === 409)).toBe(true);
  expect(faults.failBefore + faults.failAfter).toBeGreaterThan(0);
  expect(fake.merges.some((m) => m.status === 502 && m.merged)).toBe(true); // merged, the answer lost
  expect(faults.receiver500 + faults.receiverReset).toBeGreaterThan(0);
  expect(apps).toHaveLength(2);
  expect(first.child.signalCode).toBe('SIGKILL');

  // Nothing lands that should not: every merge made was of a head the policy passed, at that moment.
  expect(fake.merges.map((m, i) => [m.number, m.merged && !eligibleAtCall[i]]).filter(([, wrong]) => wrong)).toEqual([]);
  for (const p of pulls) if (p.state === 'MERGED') expect([p.number, eligible(p)]).toEqual([p.number, true]);
  // Nothing that should land is lost: every pull request still open fails the policy, and its check says so.
  expect(pulls.filter((p) => p.state === 'OPEN' && eligible(p)).map((p) => p.number)).toEqual([]);
  for (const p of pulls.filter((q) => q.state === 'OPEN')) {
    const run = fake.ourRuns(repo, p.headSha).at(-1);
    expect([p.number, run?.status, run?.conclusion === 'success']).toEqual([p.number, 'completed', false]);
  }
  // Each merged once, with the head evaluated; a SHA refused with 409 never tried again.
  const mergedCount = countBy(fake.merges.filter((m) => m.merged).map((m) => String(m.number)));
  expect(Object.entries(mergedCount).filter(([, n]) => n !== 1)).toEqual([]);
  for (const m of fake.merges.filter((x) => x.merged)) expect([m.number, m.sha]).toEqual([m.number, repo.pulls.get(m.number)!.headSha]);
  fake.merges.forEach((m, i) => {
    if (m.status === 409) expect(fake.merges.slice(i + 1).filter((later) => later.number === m.number && later.sha === m.sha)).toEqual([]);
  });
  expect(fake.merges.filter((m) => m.merged && raced.has(m.sha))).toEqual([]);

  // Every landing delivered: one webhook-id per landing (the same across retries), `before` → `after` chained per branch.
  expect(receiver.rejected).toEqual([]);
  const idsByPull = new Map<number, Set<string>>();
  for (const r of receiver.received) idsByPull.set(r.json.pull_request.number, (idsByPull.get(r.json.pull_request.number) ?? new Set()).add(r.id));
  expect([...idsByPull.keys()].sort((a, b) => a - b)).toEqual(mergedPulls().map((p) => p.number));
  expect([...idsByPull.entries()].filter(([, ids]) => ids.size !== 1)).toEqual([]);
  for (const b of BRANCHES) {
    const events = [...new Map(receiver.received.filter((r) => r.json.branch === b).map((r) => [r.id, r.json])).values()];
    for (const e of events) {
      const pull = repo.pulls.get(e.pull_request.number)!;
      expect([e.pull_request.number, e.after, e.pull_request.head_sha, e.repository]).toEqual([pull.number, pull.mergeCommit, pull.headSha, 'octo/app']);
    }
    const afterOf = new Map(events.map((e) => [e.before, e.after]));
    let at = tip;
    for (let i = 0; i < events.length; i++) at = afterOf.get(at)!;
    expect([b, at]).toEqual([b, repo.branches.get(b)]);
  }

  // No crash, no unhandled rejection: the second process is alive, and neither wrote an error.
  expect(second.child.exitCode).toBeNull();
  expect(second.child.signalCode).toBeNull();
  for (const app of apps) expect(app.output()).not.toMatch(/unhandled|uncaught|error/i);
  expect(fake.problems).toEqual([]);
}, 150_000);

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}
