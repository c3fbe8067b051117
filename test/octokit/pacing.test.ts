// GitHub's pacing: writes of one installation one at a time and a second
// apart, reads never held behind them, GitHub's own "wait" honoured. The
// pacer on its own on a manual clock, then the app with Probot's production
// Octokit (throttling plugin on) against the fake GitHub.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { advisedHold, Pacer, PACING_DEFAULTS, type PacedRequest } from '../../src/octokit/pacer.js';
import { classifyRequest, pacedThrottleOptions } from '../../src/octokit/installation.js';
import { FakeGitHub, type FakePull, type FakeRepo, type RecordedRequest } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { setupRepo, typicalFiles, typicalPull } from '../helpers/github-scenario.js';
import { ManualClock } from '../helpers/github-timers.js';

const WRITE: PacedRequest = { write: true, resource: 'core' };
const READ: PacedRequest = { write: false, resource: 'graphql' };

/** Lets promise callbacks run (no time passes on the manual clock). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the pacer', () => {
  let clock: ManualClock;
  let pacer: Pacer;
  let log: string[];
  beforeEach(() => {
    clock = new ManualClock('2026-11-22T10:00:00Z');
    pacer = new Pacer({ ...PACING_DEFAULTS, clock, timers: clock });
    log = [];
  });
  const at = () => clock.now().getTime() - Date.parse('2026-11-22T10:00:00Z');
  const request = (key: string, kind: PacedRequest, label: string, outcome: () => unknown = () => ({ status: 200, headers: {} })) =>
    pacer.run(key, kind, async () => {
      log.push(`${label}@${at()}`);
      return outcome();
    });

  test('writes of one installation start a second apart, one at a time; reads are not held behind them', async () => {
    const done = [request('1', WRITE, 'w1'), request('1', WRITE, 'w2'), request('1', WRITE, 'w3')];
    await flush();
    expect(log).toEqual(['w1@0']);
    void request('1', READ, 'query');
    await flush();
    expect(log).toEqual(['w1@0', 'query@0']);
    await clock.advance(999, flush);
    expect(log).toEqual(['w1@0', 'query@0']);
    await clock.advance(1, flush);
    await clock.advance(1000, flush);
    await Promise.all(done);
    expect(log).toEqual(['w1@0', 'query@0', 'w2@1000', 'w3@2000']);
  });

  test("the plugin's own 3 s between notifying writes stays by default, and is lifted only when the spacing is set", () => {
    expect(pacedThrottleOptions(pacer, 7)).not.toHaveProperty('notifications');
    expect(pacedThrottleOptions(pacer, 7, false)).toHaveProperty('notifications');
    expect(pacedThrottleOptions(pacer, 7, false).id).toBe('7');
  });

  test('installations are paced apart', async () => {
    await Promise.all([request('1', WRITE, 'a'), request('2', WRITE, 'b')]);
    expect(log).toEqual(['a@0', 'b@0']);
  });

  test('a write that changes what a person sees goes before waiting ones that only refresh details', async () => {
    const done = [request('1', WRITE, 'first'), request('1', { ...WRITE, priority: 1 }, 'details'), request('1', WRITE, 'verdict changed')];
    await flush();
    await clock.advance(2000, flush);
    await Promise.all(done);
    expect(log).toEqual(['first@0', 'verdict changed@1000', 'details@2000']);
  });

  test('the merge call (priority -1) goes before every write waiting, once the one in flight is done and spaced', async () => {
    const done = [request('1', WRITE, 'first'), request('1', WRITE, 'check a'), request('1', WRITE, 'check b'), request('1', { ...WRITE, priority: -1 }, 'merge')];
    await flush();
    await clock.advance(3000, flush);
    await Promise.all(done);
    expect(log).toEqual(['first@0', 'merge@1000', 'check a@2000', 'check b@3000']);
  });

  test('100 writes in a burst: never more than 60 in any minute (GitHub allows 80), never closer than a second', async () => {
    const done = Array.from({ length: 100 }, (_, i) => request('1', WRITE, `w${i}`));
    await flush();
    await clock.advance(100_000, flush);
    await Promise.all(done);
    const times = log.map((l) => Number(l.split('@')[1]));
    expect(times).toHaveLength(100);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    const perMinute = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
    expect(perMinute).toBeLessThanOrEqual(80);
  });

  test('a secondary limit with retry-after holds every request of the installation, reads too', async () => {
    const limited = Object.assign(new Error('You have exceeded a secondary rate limit'), { status: 403, response: { headers: { 'retry-after': '30' } } });
    await expect(
      request('1', WRITE, 'limited', () => {
        throw limited;
      }),
    ).rejects.toBe(limited);
    const read = request('1', READ, 'read');
    const other = request('2', READ, 'other installation');
    await flush();
    expect(log).toEqual(['limited@0', 'other installation@0']);
    await clock.advance(29_999, flush);
    expect(log).toHaveLength(2);
    await clock.advance(1, flush);
    await read;
    await other;
    expect(log).toEqual(['limited@0', 'other installation@0', 'read@30000']);
  });

  test('a spent primary budget holds that budget until its reset; the other one goes on', async () => {
    const reset = String(Date.parse('2026-11-22T10:01:00Z') / 1000);
    await request('1', READ, 'last point', () => ({ status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset, 'x-ratelimit-resource': 'graphql' } }));
    const query = request('1', READ, 'query');
    const rest = request('1', { write: false, resource: 'core' }, 'rest');
    await flush();
    expect(log).toEqual(['last point@0', 'rest@0']);
    await clock.advance(61_000, flush);
    await query;
    await rest;
    expect(log).toEqual(['last point@0', 'rest@0', 'query@61000']);
  });

  test('advisedHold reads what GitHub says', () => {
    const now = 1_000_000;
    expect(advisedHold({ status: 429, headers: { 'retry-after': '5' } }, 'core', now, 60_000)).toEqual({ scope: '*', until: now + 5_000 });
    expect(advisedHold({ status: 403, message: 'You have exceeded a secondary rate limit' }, 'core', now, 60_000)).toEqual({ scope: '*', until: now + 60_000 });
    expect(advisedHold({ status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2000' } }, 'core', now, 60_000)).toEqual({ scope: 'core', until: 2_001_000 });
    expect(advisedHold({ status: 200, headers: { 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '2000' } }, 'core', now, 60_000)).toBeNull();
    expect(advisedHold({ status: 404, headers: {} }, 'core', now, 60_000)).toBeNull();
    expect(advisedHold(undefined, 'core', now, 60_000)).toBeNull();
  });
});

describe('what counts as content-creating', () => {
  test('REST writes and GraphQL mutations are; GETs and GraphQL queries are not', () => {
    expect(classifyRequest({ method: 'POST', url: '/repos/{owner}/{repo}/check-runs' })).toEqual({ write: true, resource: 'core', priority: 0 });
    expect(classifyRequest({ method: 'PUT', url: '/repos/o/r/pulls/1/merge' }).write).toBe(true);
    expect(classifyRequest({ method: 'DELETE', url: '/repos/o/r/git/refs/heads/x' }).write).toBe(true);
    expect(classifyRequest({ method: 'GET', url: '/repos/{owner}/{repo}/contents/{path}' }).write).toBe(false);
    expect(classifyRequest({ method: 'POST', url: '/graphql', query: 'query MergeGateFacts { viewer { login } }' })).toEqual({ write: false, resource: 'graphql', priority: 0 });
    expect(classifyRequest({ method: 'POST', url: 'http://ghe.local/api/graphql', query: '# a comment\n mutation M { addStar(input: {}) { clientMutationId } }' }).write).toBe(true);
    expect(classifyRequest({ method: 'POST', url: '/graphql' }).write).toBe(true); // no text to tell: paced, to be safe
    expect(classifyRequest({ method: 'PATCH', url: '/repos/o/r/check-runs/1', request: { mergeGatePace: 'details' } }).priority).toBe(1);
    expect(classifyRequest({ method: 'PUT', url: '/repos/o/r/pulls/1/merge', request: { mergeGatePace: 'urgent' } }).priority).toBe(-1); // the merge call: ahead of every other write
  });
});

describe('the app with Probot production Octokit', () => {
  let fake: FakeGitHub;
  let repo: FakeRepo;
  let app: TestApp;
  let clock: ManualClock;
  /** Each request with the app's clock when it arrived. */
  let seen: Array<{ request: RecordedRequest; at: number }>;

  beforeEach(async () => {
    nock.disableNetConnect();
    fake = new FakeGitHub().install();
    repo = setupRepo(fake);
    clock = new ManualClock('2026-11-22T10:00:00Z');
    seen = [];
    fake.onRequest = (request) => seen.push({ request, at: clock.now().getTime() });
    // One evaluation at a time: an evaluation waiting for its write must give its slot back for the others to run.
    app = await startTestApp(fake, { concurrency: 1 }, {}, { clock, production: true });
  });
  afterEach(() => {
    app.gate.stop();
    fake.uninstall();
    nock.enableNetConnect();
  });

  /** Waits (real time, briefly) for the app's HTTP round trips to reach a state. */
  async function until(what: string, condition: () => boolean): Promise<void> {
    for (let i = 0; condition() === false; i++) {
      if (i > 1500) throw new Error(`timed out waiting for: ${what}\n${fake.problems.join('\n')}\n${seen.map((s) => `${s.at} ${s.request.method} ${s.request.path} ${s.request.operation}`).join('\n')}\n${JSON.stringify(app.errors)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const checkWrites = () => seen.filter((s) => s.request.method !== 'GET' && s.request.kind === 'rest');
  /** The last check write on the pull request's head. */
  const writeOf = (pull: FakePull) => checkWrites().filter((s) => (s.request.body as { head_sha?: string }).head_sha === pull.headSha).at(-1);
  const factsQueries = (pull: FakePull) => seen.filter((s) => s.request.operation === 'MergeGateFacts' && s.request.variables?.number === pull.number);

  test('two check-run writes of one installation are a second apart; a GraphQL query of another pull request does not wait for the pending one', async () => {
    const [one, two, three] = [1, 2, 3].map((n) => typicalPull(fake, repo, n, typicalFiles(3)));
    // Pull request 3 has its check already: re-evaluating it unchanged writes nothing.
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, three));
    await clock.advance(1000);
    await until('the check of #3', () => writeOf(three) !== undefined);
    await clock.advance(5000);

    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, one));
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, two));
    await clock.advance(1000); // the coalescing window: both evaluate now
    await until('the first check write, and the second evaluation waiting to write', () => checkWrites().length === 2 && factsQueries(one).length + factsQueries(two).length === 2 && app.gate.stats.evaluations === 3);
    await new Promise((r) => setTimeout(r, 50)); // nothing else goes out meanwhile
    expect(checkWrites()).toHaveLength(2);
    const first = writeOf(one) ?? writeOf(two)!;
    const pending = first === writeOf(one) ? two : one;
    expect(writeOf(pending)).toBeUndefined();

    // #3 changes nothing: its reads go out now, while #1 or #2 still waits for its write slot.
    app.gate.requestEvaluation({ installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: three.number }, { delayMs: 0 });
    await clock.advance(0);
    await until('the facts query of #3', () => factsQueries(three).length === 2);
    expect(factsQueries(three)[1].at).toBe(first.at);
    expect(writeOf(pending)).toBeUndefined();

    await clock.advance(1000);
    await until('the second check write', () => writeOf(pending) !== undefined);
    expect(writeOf(pending)!.at - first.at).toBeGreaterThanOrEqual(1000);
    await app.gate.idle();
    expect(checkWrites()).toHaveLength(3); // #3 was not written again
    expect(fake.problems).toEqual([]);
  });

  test('a 403 secondary limit with retry-after holds the installation and the evaluation is retried after it', async () => {
    const [one, two] = [1, 2].map((n) => typicalPull(fake, repo, n, typicalFiles(3)));
    fake.fail({ method: 'POST', match: /check-runs$/, status: 403, headers: { 'retry-after': '30' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } });
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, one));
    await clock.advance(1000);
    await until('the refused write', () => checkWrites().length === 1);
    const refusedAt = checkWrites()[0].at;
    await until('the evaluation to fail', () => app.gate.queue.stats.retries === 1);

    // Another pull request of the installation: its reads wait for the retry-after too.
    app.gate.requestEvaluation({ installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: two.number }, { delayMs: 0 });
    await clock.advance(29_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(factsQueries(two)).toHaveLength(0);
    // At the retry-after: #2's evaluation, and the queue's retry of #1 (its backoff is at least the retry-after); their writes a second apart.
    await clock.advance(1_000);
    await until('the first write after the hold', () => checkWrites().length === 2);
    await clock.advance(1_000);
    await until('both written', () => checkWrites().length === 3);
    expect(factsQueries(two)[0].at - refusedAt).toBeGreaterThanOrEqual(30_000);
    expect(Math.abs(writeOf(one)!.at - writeOf(two)!.at)).toBeGreaterThanOrEqual(1_000);
    expect(writeOf(one)!.at - refusedAt).toBeGreaterThanOrEqual(30_000);
    expect(fake.ourRuns(repo).map((r) => r.conclusion)).toEqual(['success', 'success']);
    expect(fake.problems).toEqual([]);
  });
});
