// Landing end to end in one process: Probot with landing wired in, real
// webhook payloads, the fake GitHub behind nock (every REST body validated
// against GitHub's OpenAPI description), fake time, an in-memory SQLite outbox.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { approve, fileAdding, FULL_POLICY, setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';
import { pullPayload, startTestApp } from '../helpers/github-app.js';
import { ManualClock } from '../helpers/github-timers.js';
import { createLanding } from '../../src/land/index.js';
import { journalKey, LandingJournal } from '../../src/land/journal.js';
import { DEFAULT_MAX_AGE_MS } from '../../src/outbox/config.js';
import { openDb } from '../../src/state/db.js';
import { OutboxStore } from '../../src/outbox/outbox.js';

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

const withLand = (land: string) => `${FULL_POLICY}land:\n${land.replace(/^/gm, '  ')}\n`;
const event = (action: string, repo: FakeRepo, pull: FakePull) => pullPayload('pull_request', action, fake, repo, pull);
const merges = () => fake.merges.map((m) => ({ number: m.number, sha: m.sha, method: m.method, status: m.status }));
const checkOn = (repo: FakeRepo, sha: string) => fake.ourRuns(repo, sha).at(-1)!;

async function open(repo: FakeRepo, pull: FakePull, options: Parameters<typeof startLandingApp>[1] = {}): Promise<LandingApp> {
  app = await startLandingApp(fake, options);
  await app.receive('pull_request', event('opened', repo, pull));
  await app.settle();
  return app;
}

describe('when to land', () => {
  test('auto: a passing pull request is merged with its evaluated head SHA pinned, and the check says "Landed as <sha>" with a link', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const head = pull.headSha;
    const before = repo.branches.get('main')!;
    const merge = await open(repo, pull);
    expect(merges()).toEqual([{ number: 2, sha: head, method: 'squash', status: 200 }]);
    const after = repo.branches.get('main')!;
    expect(fake.parents.get(after)).toEqual([before]); // squash: one commit on top of the old tip
    const run = checkOn(repo, head);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'success', title: `Landed as ${after.slice(0, 7)}` });
    expect(run.summary).toContain(`[${after.slice(0, 7)}](https://github.com/octo/app/commit/${after})`);
    expect(fake.ourRuns(repo, head)).toHaveLength(1); // the pass, then "Landed", on one run
    // The journal answers "did merge-gate land this commit, from which pull request?".
    expect(merge.landing.journal.landedCommit('octo/app', after)).toMatchObject({ pulls: [{ number: 2, headSha: head }], batch: null, before, after, branch: 'main' });
    expect(merge.landing.journal.landedCommit('octo/app', head)).toBeNull();
  });

  test('label: lands only once the pull request carries land.label', async () => {
    const repo = setupRepo(fake, withLand('mode: label\nlabel: ship-it'));
    const pull = typicalPull(fake, repo);
    const a = await open(repo, pull);
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'success', title: 'pass, lands when labelled ship-it' });
    pull.labels = ['ship-it'];
    await a.receive('pull_request', event('labeled', repo, pull));
    await a.settle();
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status: 200 }]);
  });

  test('off: never lands, and says so', async () => {
    const repo = setupRepo(fake, withLand('mode: off'));
    const pull = typicalPull(fake, repo);
    await open(repo, pull);
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha).title).toBe('pass (land.mode: off)');
  });

  test('a draft never lands; ready for review, it does', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.draft = true;
    const a = await open(repo, pull);
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha).title).toBe('pass, not landed: a draft');
    pull.draft = false;
    await a.receive('pull_request', event('ready_for_review', repo, pull));
    await a.settle();
    expect(merges()).toHaveLength(1);
  });

  test('DRY_RUN never lands; the check says what it would have done', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    await open(repo, pull, { config: { dryRun: true } });
    expect(merges()).toEqual([]);
    const run = checkOn(repo, pull.headSha);
    expect(run.title).toBe(`pass (dry run: would land this head (${pull.headSha.slice(0, 7)}) into main by squash)`);
    expect(run.summary).toContain('DRY_RUN=true');
    expect(fake.requests.some((r) => r.operation?.includes('/merge'))).toBe(false);
  });
});

describe('what GitHub answers', () => {
  test('mergeable unknown, then true: tried again with backoff, then landed once', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.mergeableSeq = [null, null];
    await open(repo, pull);
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status: 200 }]);
  });

  test('mergeable unknown for good: a bounded number of tries, then reported, nothing merged', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.mergeable = null;
    await open(repo, pull);
    expect(merges()).toEqual([]);
    const reads = fake.requests.filter((r) => r.operation === 'MergeGateFacts' && r.variables?.landing === true); // landing's re-read
    expect(reads).toHaveLength(3); // mergeableRetry.attempts
    expect(checkOn(repo, pull.headSha).title).toBe('pass, not landed yet: GitHub is still checking mergeability');
  });

  test('409: exactly one merge request with the old SHA, never retried; the new head is evaluated', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const old = pull.headSha;
    fake.mergeFault = (p) => {
      if (p.headSha === old) fake.push(repo, p); // a push lands between the evaluation and the merge
      return 'none';
    };
    await open(repo, pull);
    expect(merges()).toEqual([{ number: 2, sha: old, method: 'squash', status: 409 }]);
    expect(checkOn(repo, old)).toMatchObject({ conclusion: 'success', title: 'pass, not landed: the head moved' });
    // The new head was evaluated by itself: not approved yet (reviews.fresh) and no CI: not landed.
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'action_required' });
  });

  test.each([
    [405, 'Required status check "ci/build" is expected.'],
    [422, 'At least 1 approving review is required by reviewers with write access.'],
  ])('%s: reported with GitHub\'s reason and what to do', async (status, message) => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.mergeRefusal = { status, message };
    await open(repo, pull);
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status }]);
    const run = checkOn(repo, pull.headSha);
    expect(run.title).toBe(`pass, not landed: GitHub refused the merge (${status})`);
    expect(run.summary).toContain(`\`${message}\``);
    expect(run.summary).toMatch(/branch protection or a ruleset/);
    expect(fake.deletedBranches).toEqual([]);
    // The next event tries again; the check says it once, and is not rewritten when nothing changed.
    fake.resetRequests();
    await app!.receive('pull_request', event('edited', repo, pull));
    await app!.settle();
    expect(merges()).toHaveLength(2);
    expect(checkOn(repo, pull.headSha).summary!.split('**Not landed:**')).toHaveLength(2);
    expect(fake.requests.filter((r) => r.kind === 'rest' && (r.method === 'PATCH' || r.method === 'POST')).map((r) => r.operation)).toEqual([]);
  });

  test('conflicts (mergeable false): reported, and no merge is attempted', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.mergeable = false;
    await open(repo, pull);
    expect(merges()).toEqual([]);
    const run = checkOn(repo, pull.headSha);
    expect(run.title).toBe('pass, not landed: conflicts with main');
    expect(run.summary).toContain('Merge or rebase `main` into the branch');
  });

  test('a pull request changing .github/workflows/ is refused, and the check says the workflows permission is missing', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo, 2, [fileAdding('.github/workflows/ci.yml', ['on: push'])]);
    await open(repo, pull);
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status: 403 }]);
    const run = checkOn(repo, pull.headSha);
    expect(run.title).toBe('pass, not landed: the pull request changes .github/workflows/');
    expect(run.summary).toContain('`workflows` permission');
    expect(run.summary).toContain('merge it by hand');
  });

  test('a 502 on the merge call whose re-read shows the pull request merged: landed, exactly one merge request, one event', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    fake.mergeFault = () => 'fail-after';
    const a = await open(repo, pull, { outbox: { urls: ['http://deploy.invalid/hook'] }, landing: { fetch: async () => new Response(null, { status: 202 }) } });
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status: 502 }]);
    expect(checkOn(repo, pull.headSha).title).toBe(`Landed as ${pull.mergeCommit!.slice(0, 7)}`);
    expect(a.landing.store.all().map((d) => [d.target, d.state])).toEqual([['http://deploy.invalid/hook', 'delivered']]);
  });

  test('a 502 on the merge call that did not merge: the pull request is read first, then merged with the same SHA', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    let calls = 0;
    fake.mergeFault = () => (++calls === 1 ? 'fail-before' : 'none');
    await open(repo, pull);
    expect(merges()).toEqual([
      { number: 2, sha: pull.headSha, method: 'squash', status: 502 },
      { number: 2, sha: pull.headSha, method: 'squash', status: 200 },
    ]);
    const ops = fake.apiRequests().map((r) => r.operation);
    const firstMerge = ops.indexOf('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge');
    expect(ops[firstMerge + 1]).toBe('GET /repos/{owner}/{repo}/pulls/{pull_number}'); // read before anything else
    // Meanwhile the check said so.
    const titles = fake.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as { output?: { title?: string } }).output?.title);
    expect(titles).toContain('pass, not landed yet: the merge call failed; retrying');
    expect(titles.at(-1)).toBe(`Landed as ${pull.mergeCommit!.slice(0, 7)}`);
  });

  test('a merge GitHub finishes after answering 502 and after the re-read: the intent stays unresolved and the branch locked until the pull request, read again, is merged; landed once, with its event', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo, 2);
    const other = typicalPull(fake, repo, 3);
    const tip = repo.branches.get('main')!;
    const MERGE = 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge';
    const READ = 'GET /repos/{owner}/{repo}/pulls/{pull_number}';
    // #2's merge call answers 502 without merging; GitHub merges it only later, after the pull request was read again.
    let step: 'merge' | 'reread' | 'read' = 'merge';
    fake.mergeFault = (p) => (p.number === 2 ? 'fail-before' : 'none');
    fake.onRequest = (r) => {
      if (step === 'merge' && r.operation === MERGE) step = 'reread';
      else if (step === 'reread' && r.operation === READ && r.path.endsWith('/pulls/2')) step = 'read';
    };
    app = await startLandingApp(fake, { outbox: { urls: ['http://deploy.invalid/hook'] }, landing: { fetch: async () => new Response(null, { status: 202 }) } });
    await app.receive('pull_request', event('opened', repo, pull));
    await app.drain();
    expect(step).toBe('read');
    expect(app.landing.journal.get(journalKey('octo/app', 2))).toMatchObject({ state: 'intent' });
    // The branch is locked meanwhile: #3 passes, and waits.
    await app.receive('pull_request', event('opened', repo, other));
    await app.drain();
    expect(merges().map((m) => [m.number, m.status])).toEqual([[2, 502]]);
    expect(app.landing.journal.get(journalKey('octo/app', 2))).toMatchObject({ state: 'intent' });
    fake.performMerge(repo, pull, 'squash'); // GitHub finishes #2's merge now
    await app.settle();
    expect(merges().map((m) => [m.number, m.status])).toEqual([
      [2, 502],
      [3, 200],
    ]);
    expect(checkOn(repo, pull.headSha).title).toBe(`Landed as ${pull.mergeCommit!.slice(0, 7)}`);
    const bodies = app.landing.store.all().map((d) => JSON.parse(d.body));
    expect(bodies.map((b) => [b.pull_request.number, b.before, b.after])).toEqual([
      [2, tip, pull.mergeCommit],
      [3, pull.mergeCommit, other.mergeCommit],
    ]);
  });

  test('a secondary rate limit on the merge call is no refusal: the pull request is read, and merged once the retry-after is over', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    fake.fail({ method: 'PUT', match: /\/merge$/, status: 403, headers: { 'retry-after': '30' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } });
    app = await startLandingApp(fake);
    const mergeCalls = () => fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/merge')).length;
    await app.receive('pull_request', event('opened', repo, pull));
    await app.advance(2_000);
    expect([mergeCalls(), merges()]).toEqual([1, []]); // refused before GitHub did anything
    expect(checkOn(repo, pull.headSha).title).toBe('pass, not landed yet: the merge call failed; retrying');
    await app.advance(27_000);
    expect(mergeCalls()).toBe(1); // not before retry-after
    await app.settle();
    expect(merges()).toEqual([{ number: 2, sha: pull.headSha, method: 'squash', status: 200 }]);
  });

  test('a redelivered webhook after the landing changes nothing, even when GitHub still shows the pull request open', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const a = await open(repo, pull);
    expect(merges()).toHaveLength(1);
    const payload = event('opened', repo, pull);
    fake.resetRequests();
    await a.receive('pull_request', payload);
    await a.settle();
    pull.state = 'OPEN'; // a lagging read
    await a.receive('pull_request', payload);
    await a.settle();
    expect(merges()).toHaveLength(1);
    expect(fake.apiRequests().filter((r) => r.method !== 'GET' && r.kind === 'rest')).toEqual([]);
    expect(a.landing.store.all()).toHaveLength(0); // no URLs configured: no deliveries, and none made twice
  });
});

describe('one landing at a time per branch', () => {
  test('two passing pull requests on one branch land one after the other; the second is evaluated against the moved base', async () => {
    const repo = setupRepo(fake);
    const first = typicalPull(fake, repo, 2);
    const second = typicalPull(fake, repo, 3);
    const tip = repo.branches.get('main')!;
    app = await startLandingApp(fake, { outbox: { urls: ['http://deploy.invalid/hook'] }, landing: { fetch: async () => new Response(null, { status: 204 }) } });
    await app.receive('pull_request', event('opened', repo, first));
    await app.receive('pull_request', event('opened', repo, second));
    await app.settle();
    expect(merges().map((m) => [m.number, m.status])).toEqual([
      [2, 200],
      [3, 200],
    ]);
    const bodies = app.landing.store.all().map((d) => JSON.parse(d.body));
    expect(bodies.map((b) => [b.pull_request.number, b.before, b.after])).toEqual([
      [2, tip, first.mergeCommit],
      [3, first.mergeCommit, second.mergeCommit],
    ]);
  });
});

describe('after a restart', () => {
  /** Our check on the head, as the process before the restart left it. */
  const ourCheck = (repo: FakeRepo, pull: FakePull, conclusion: 'success' | 'failure') =>
    fake.addCheckRun(repo, { appId: fake.appId, name: 'merge-gate', headSha: pull.headSha, conclusion, title: conclusion === 'success' ? 'pass: all rules pass' : 'fail: reviews: 0 / 1 approval' });

  test('a pull request still open with a passing check (its landing interrupted: waiting for its branch, or killed before the merge call) is evaluated again and lands', async () => {
    const repo = setupRepo(fake);
    const passed = typicalPull(fake, repo, 2);
    const failed = fake.addPull(repo, { number: 3, files: [fileAdding('src/a.ts', ['export const a = 1;'])] });
    ourCheck(repo, passed, 'success');
    ourCheck(repo, failed, 'failure');
    app = await startLandingApp(fake);
    // The passing one only: a completed failure waits for its next event (or for the base to move).
    expect(await app.gate.resumeAfterRestart()).toEqual({ installations: 1, repositories: 1, scheduled: 0, evaluated: 1 });
    await app.settle();
    expect(merges()).toEqual([{ number: 2, sha: passed.headSha, method: 'squash', status: 200 }]);
  });

  test('resolving a landing the crash interrupted: when GitHub fails at start, tried again after 1 s, then 2 s, until it is resolved', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const before = repo.branches.get('main')!;
    const db = openDb(':memory:');
    const journal = new LandingJournal(db, new OutboxStore(db));
    const key = journalKey('octo/app', 2);
    const summary = { title: pull.title, url: 'https://github.com/octo/app/pull/2', author: pull.author };
    journal.intend({ pull: key, installationId: fake.installationId, repository: 'octo/app', number: 2, branch: 'main', headSha: pull.headSha, method: 'squash', before, summary, targets: [], intentId: 'before-the-crash' }, 0);
    const after = fake.landByApp(repo, pull); // merged; the process died before it heard the answer
    fake.fail({ method: 'GET', match: /^\/repos\/octo\/app\/pulls\/2$/, status: 502, times: 2 });
    const clock = new ManualClock();
    const landing = createLanding({ outbox: { urls: [], secret: null, path: ':memory:', maxAgeMs: DEFAULT_MAX_AGE_MS, backoff: { baseMs: 1_000, maxMs: 60_000 } }, clock, timers: clock, checkName: 'merge-gate', policyPath: '.github/merge-gate.yml', db });
    const started = await startTestApp(fake, {}, landing.hooks, { clock });
    const reads = () => fake.requests.filter((r) => r.path === '/repos/octo/app/pulls/2').length;
    // Each attempt runs on its own (nock answers outside the fake clock): wait for it in real time.
    const attempts = async (n: number) => {
      for (const until = Date.now() + 10_000; started.errors.length < n && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
      expect([started.errors.length, reads()]).toEqual([n, n]);
    };
    try {
      await attempts(1);
      await started.advance(999);
      expect(reads()).toBe(1);
      await started.advance(1);
      await attempts(2);
      await started.advance(1_999);
      expect(reads()).toBe(2);
      await started.advance(1);
      await landing.started;
      expect(journal.get(key)).toMatchObject({ state: 'landed', after });
    } finally {
      started.gate.stop();
      landing.close();
    }
  });

  test.each([
    ['a person merged the pinned head', (_repo: FakeRepo, _pull: FakePull) => undefined],
    ['a person pushed and merged another head', (repo: FakeRepo, pull: FakePull) => void fake.push(repo, pull)],
  ])('an intent left behind whose pull request someone else merged (%s): recorded as merged by someone else, no trunk-updated, no "Landed as"; the branch is evaluated again', async (_what, arrange) => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo, 2);
    const other = typicalPull(fake, repo, 3);
    const before = repo.branches.get('main')!;
    const pinned = pull.headSha;
    const db = openDb(':memory:');
    const journal = new LandingJournal(db, new OutboxStore(db));
    const key = journalKey('octo/app', 2);
    const summary = { title: pull.title, url: 'https://github.com/octo/app/pull/2', author: pull.author };
    journal.intend({ pull: key, installationId: fake.installationId, repository: 'octo/app', number: 2, branch: 'main', headSha: pinned, method: 'squash', before, summary, targets: ['http://deploy.invalid/hook'], intentId: 'before-the-crash' }, 0);
    // The process died before its merge call reached GitHub; a person merged by hand.
    arrange(repo, pull);
    const after = fake.landByApp(repo, pull);
    pull.mergedBy = { login: 'alice', bot: false };
    app = await startLandingApp(fake, { outbox: { urls: ['http://deploy.invalid/hook'] }, landing: { db, fetch: async () => new Response(null, { status: 202 }) } });
    await app.settle();
    expect(journal.get(key)).toMatchObject({ state: 'merged-elsewhere', after, tidied: true });
    expect(journal.landedCommit('octo/app', after)).toBeNull();
    expect(fake.ourRuns(repo, pull.headSha).map((r) => r.title)).not.toContainEqual(expect.stringMatching(/^Landed/));
    expect(fake.deletedBranches).toEqual([]);
    // The branch moved: its other pull request was evaluated again and landed on the person's merge.
    expect(merges().map((m) => [m.number, m.status])).toEqual([[3, 200]]);
    expect(app.landing.store.all().map((d) => JSON.parse(d.body)).map((b) => [b.pull_request.number, b.before])).toEqual([[3, after]]);
  });

  test('with DRY_RUN, a passing check is left alone (nothing would land)', async () => {
    const repo = setupRepo(fake);
    ourCheck(repo, typicalPull(fake, repo, 2), 'success');
    app = await startLandingApp(fake, { config: { dryRun: true } });
    expect(await app.gate.resumeAfterRestart()).toEqual({ installations: 1, repositories: 1, scheduled: 0, evaluated: 0 });
  });
});

describe('after landing', () => {
  test('the head branch is deleted when land.delete_branch is true', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    repo.branches.set(pull.headRef, pull.headSha);
    await open(repo, pull);
    expect(fake.deletedBranches).toEqual([{ repo: 'octo/app', branch: 'topic-2' }]);
  });

  test('a tidy-up that fails while the app runs is tried again without a restart (after 1 s, then 2 s): the branch is deleted once GitHub answers', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    repo.branches.set(pull.headRef, pull.headSha);
    fake.fail({ method: 'DELETE', match: /\/git\/refs\//, status: 502, times: 2 });
    // Landing's timers, watched: the retries it arms, with their delays.
    const clock = new ManualClock();
    const armed: number[] = [];
    const timers = { setTimeout: (fn: () => void, ms: number) => (armed.push(ms), clock.setTimeout(fn, ms)), clearTimeout: (h: unknown) => clock.clearTimeout(h) };
    const landed = await open(repo, pull, { start: { clock }, landing: { timers } });
    // Each attempt runs its requests outside the fake clock: wait for them in real time.
    const until = async (what: () => boolean) => {
      for (const end = Date.now() + 10_000; !what() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const key = journalKey('octo/app', 2);
    expect(merges()).toHaveLength(1);
    expect(fake.deletedBranches).toEqual([]);
    expect(landed.landing.journal.get(key)).toMatchObject({ state: 'landed', tidied: false });
    await until(() => armed.length === 1);
    expect(armed).toEqual([1_000]);
    await landed.advance(1_000); // the second try: 502 again
    await until(() => armed.length === 2);
    expect(armed).toEqual([1_000, 2_000]);
    expect(fake.deletedBranches).toEqual([]);
    await landed.advance(2_000); // the third: done
    await until(() => landed.landing.journal.get(key)?.tidied === true);
    expect(fake.deletedBranches).toEqual([{ repo: 'octo/app', branch: 'topic-2' }]);
    expect(landed.landing.journal.get(key)).toMatchObject({ tidied: true });
    expect(armed).toEqual([1_000, 2_000]);
  });

  test.each([
    ['land.delete_branch is false', (repo: FakeRepo, pull: FakePull) => void repo, withLand('delete_branch: false')],
    ['a fork', (_repo: FakeRepo, pull: FakePull) => void (pull.fork = true), FULL_POLICY],
    ['the base of another open pull request', (repo: FakeRepo, pull: FakePull) => void fake.addPull(repo, { number: 9, baseRef: pull.headRef }), FULL_POLICY],
  ])('never deleted: %s', async (_what, arrange, policy) => {
    const repo = setupRepo(fake, policy);
    const pull = typicalPull(fake, repo);
    repo.branches.set(pull.headRef, pull.headSha);
    arrange(repo, pull);
    await open(repo, pull);
    expect(merges()).toHaveLength(1);
    expect(fake.deletedBranches).toEqual([]);
  });

  test('land.dispatch: a repository_dispatch trunk-updated with the event as client_payload', async () => {
    const repo = setupRepo(fake, withLand('dispatch: true'));
    const pull = typicalPull(fake, repo);
    const a = await open(repo, pull);
    expect(fake.dispatches).toHaveLength(1);
    const { body } = fake.dispatches[0] as { body: { event_type: string; client_payload: Record<string, unknown> } };
    expect(body.event_type).toBe('trunk-updated');
    expect(body.client_payload).toEqual(JSON.parse(a.landing.store.all()[0].body));
    expect(body.client_payload).toMatchObject({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', after: pull.mergeCommit });
    // GitHub refuses a client_payload with more than 10 top-level properties: pull_requests made it 9.
    expect(Object.keys(body.client_payload).length).toBeLessThanOrEqual(10);
    expect(body.client_payload.pull_requests).toEqual([body.client_payload.pull_request]);
  });
});

describe('land.up_to_date', () => {
  test('a head behind its base is brought up to date (expected_head_sha pinned) and lands only once the checks pass on the new head; approvals carry over', async () => {
    const repo = setupRepo(fake, withLand('up_to_date: true'));
    const pull = typicalPull(fake, repo);
    const old = pull.headSha;
    fake.setDefaultFile(repo, 'README.md', 'moved on'); // the base moved since the branch was cut
    const a = await open(repo, pull);
    expect(merges()).toEqual([]);
    const update = fake.requests.find((r) => r.operation === 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch');
    expect(update?.body).toEqual({ expected_head_sha: old });
    expect(checkOn(repo, old).title).toBe('pass, bringing the branch up to date with main');
    const fresh = pull.headSha;
    expect(fresh).not.toBe(old);

    // GitHub's synchronize for the new head: CI has not run on it yet, so it waits.
    await a.receive('pull_request', event('synchronize', repo, pull));
    await a.settle();
    expect(merges()).toEqual([]);
    expect(checkOn(repo, fresh)).toMatchObject({ status: 'in_progress' });
    expect(checkOn(repo, fresh).summary).toContain('| reviews | ✅ pass |'); // the approval of the old head still counts

    repo.statuses.push({ sha: fresh, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:50:00Z' });
    await a.receive('status', { ...event('opened', repo, pull), sha: fresh, state: 'success', context: 'ci/test' });
    await a.settle();
    expect(merges()).toEqual([{ number: 2, sha: fresh, method: 'squash', status: 200 }]);
  });

  test('a head someone else moved does not inherit approvals (reviews.fresh)', async () => {
    const repo = setupRepo(fake, withLand('up_to_date: true'));
    const pull = typicalPull(fake, repo);
    fake.setDefaultFile(repo, 'README.md', 'moved on');
    const a = await open(repo, pull);
    fake.push(repo, pull); // a person pushes instead of merge-gate's merge of the base
    repo.statuses.push({ sha: pull.headSha, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:50:00Z' });
    await a.receive('pull_request', event('synchronize', repo, pull));
    await a.settle();
    expect(merges()).toEqual([]);
    expect(checkOn(repo, pull.headSha)).toMatchObject({ conclusion: 'action_required' });
  });

  test('a head that contains its base is merged without an update', async () => {
    const repo = setupRepo(fake, withLand('up_to_date: true'));
    const pull = typicalPull(fake, repo);
    approve(pull, 'carol');
    await open(repo, pull);
    expect(fake.branchUpdates).toEqual([]);
    expect(merges()).toHaveLength(1);
  });
});
