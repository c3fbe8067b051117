// Accepted events are not lost in a crash: what they ask for (evaluate a pull
// request, find the pull requests of a head, re-evaluate a repository) is
// recorded in the state database (real SQLite, a file in a temp folder) before
// the webhook is answered, and asked for again at start until done.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { PendingRequests } from '../../src/intake/pending.js';
import { openDb, type Db } from '../../src/state/db.js';
import { pullKey } from '../../src/github/pull-ref.js';
import { FakeGitHub } from '../helpers/github-fake.js';
import { aimAt, deploymentStatusPayload, example, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { deploy, FULL_POLICY, setupRepo, TRUNK, typicalPull } from '../helpers/github-scenario.js';
import type { AppHooks } from '../../src/github/app.js';
import { appMetrics } from '../../src/metrics/app.js';
import Database from 'better-sqlite3';
import { ManualClock } from '../helpers/github-timers.js';

let dir: string;
let db: Db;
let fake: FakeGitHub;
const apps: TestApp[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-pending-'));
  db = openDb(join(dir, 'state.sqlite'));
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});

afterEach(() => {
  for (const app of apps.splice(0)) app.gate.stop();
  fake.uninstall();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  expect(fake.problems).toEqual([]);
});

const ref = (number: number) => ({ installationId: 1, owner: 'Octo', repo: 'App', number });

describe('the journal', () => {
  test('one row per request however many events, every kind, oldest first, kept across a reopen', () => {
    const pending = new PendingRequests(db);
    const head = { kind: 'head', installationId: 1, owner: 'Octo', repo: 'App', sha: 'a'.repeat(40) } as const;
    pending.add(pullKey(ref(7)), { kind: 'pull', ref: ref(7) });
    pending.add('1:head:x', head);
    pending.add(pullKey(ref(7)), { kind: 'pull', ref: ref(7) });
    pending.add('1:repo:octo/app', { kind: 'repository', installationId: 1, owner: 'Octo', repo: 'App' });
    pending.add('1:installation', { kind: 'installation', installationId: 1 });
    const all = [{ kind: 'pull', ref: ref(7) }, head, { kind: 'repository', installationId: 1, owner: 'Octo', repo: 'App' }, { kind: 'installation', installationId: 1 }];
    expect(pending.all()).toEqual(all);
    db.close();
    db = openDb(join(dir, 'state.sqlite'));
    const reopened = new PendingRequests(db);
    expect(reopened.all()).toEqual(all);
    reopened.remove(pullKey(ref(7)));
    expect(reopened.all()).toEqual(all.slice(1));
  });
});

describe('the gate', () => {
  const start = async (hooks: AppHooks = {}, pending = new PendingRequests(db)) => {
    const app = await startTestApp(fake, {}, { pending, ...hooks });
    apps.push(app);
    return app;
  };

  test('an accepted event is recorded before it is acted on, and cleared once evaluated', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const app = await start();
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    // Answered, not yet evaluated (the coalescing window): on disk already.
    expect(new PendingRequests(db).all()).toEqual([{ kind: 'pull', ref: { installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: pull.number } }]);
    expect(fake.ourRuns(repo)).toEqual([]);
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toHaveLength(1);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('after a crash, what was accepted and not evaluated is evaluated at start, with no new event', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const before = await start();
    await before.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    before.gate.stop(); // the process dies inside the coalescing window
    expect(fake.ourRuns(repo)).toEqual([]);

    const after = await start();
    await after.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('while GitHub fails, the record stays (a restart would try again); it goes once an evaluation succeeds', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    fake.fail({ match: /^MergeGateFacts$/, status: 502, times: 2 });
    const app = await start();
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app.advance(2_000); // the first attempt, failed
    expect(fake.apiRequests().map((r) => r.operation)).toContain('MergeGateFacts'); // answered 502
    expect(fake.ourRuns(repo)).toEqual([]);
    expect(new PendingRequests(db).all()).toHaveLength(1);

    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('a closed pull request is no longer pending', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const app = await start();
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    pull.state = 'CLOSED';
    await app.receive('pull_request', pullPayload('pull_request', 'closed', fake, repo, pull));
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('a status for a head not indexed yet, and a policy push, survive a crash too', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const other = typicalPull(fake, repo, 3);
    // The lookups cannot complete before the crash: GitHub fails them.
    fake.fail({ match: /^MergeGateOpenPulls$/, status: 502, times: 2 });
    const before = await start();
    const status = Object.assign(aimAt(example('status'), fake, repo), { sha: pull.headSha, context: 'ci/test' });
    await before.receive('status', status);
    const push = aimAt(example('push', undefined, (x) => x.ref === 'refs/heads/master'), fake, repo);
    push.ref = 'refs/heads/main';
    push.commits = [{ ...push.commits[0], added: [], modified: ['.github/merge-gate.yml'], removed: [] }];
    await before.receive('push', push);
    expect(new PendingRequests(db).all().map((r) => r.kind).sort()).toEqual(['head', 'repository']);
    before.gate.stop();
    expect(fake.ourRuns(repo)).toEqual([]);

    const after = await start();
    await after.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(fake.ourRuns(repo, other.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('a deployment_status survives a crash: at start the revert is proposed and the holds start, with no new event', async () => {
    const repo = setupRepo(fake, `${FULL_POLICY}${TRUNK}`);
    const landed = fake.addPull(repo, { number: 1, title: 'Make widgets faster', author: 'alice' });
    const sha = fake.landByApp(repo, landed);
    const held = typicalPull(fake, repo, 2);
    const bad = deploy(fake, repo, sha, 'FAILURE', 0, { description: 'cut off' });
    const before = await start();
    await before.receive('deployment_status', deploymentStatusPayload(fake, repo, bad));
    expect(new PendingRequests(db).all()).toEqual([{ kind: 'deployment', installationId: fake.installationId, owner: repo.owner, repo: repo.name, environment: 'production', state: 'failure' }]);
    before.gate.stop(); // the process dies inside the coalescing window, the webhook answered 2xx
    const reverts = () => [...repo.pulls.values()].filter((p) => p.byApp);
    expect(reverts()).toEqual([]);

    const after = await start();
    await after.drain();
    expect(reverts()).toEqual([expect.objectContaining({ title: 'Revert "Make widgets faster"', state: 'OPEN' })]);
    expect(fake.ourRuns(repo, held.headSha).at(-1)).toMatchObject({ status: 'in_progress' }); // held while production fails
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('closed and reopened while its evaluation runs: the finishing evaluation leaves the reopened request recorded', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const app = await start({
      refineFacts: async ({ facts }) => {
        if (++calls === 1) {
          entered();
          await released; // the first evaluation is still running while the events below arrive
        }
        return facts;
      },
    });
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    const firstRun = app.advance(0); // an idle pull request's first event is evaluated at once; the one more is due after the window
    await inside;
    pull.state = 'CLOSED';
    await app.receive('pull_request', pullPayload('pull_request', 'closed', fake, repo, pull));
    pull.state = 'OPEN';
    await app.receive('pull_request', pullPayload('pull_request', 'reopened', fake, repo, pull));
    release();
    await firstRun; // the first evaluation finished; the reopened request's own run is still to come
    const asked = [{ kind: 'pull', ref: { installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: pull.number } }];
    expect(new PendingRequests(db).all()).toEqual(asked); // a crash now would still evaluate it at start
    await app.drain();
    expect(calls).toBe(2);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('the journal cannot be written (a full disk): the webhook is answered 503, the failure logged and counted, the work queued; written once there is room', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    // A full disk, for real: the database may not grow (max_page_count), and the journal's page is full.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const junk = db.prepare("INSERT INTO pending_requests (key, kind, installation_id, since) VALUES (?, 'junk', 0, 0)");
    expect(() => {
      for (let i = 0; ; i++) junk.run(`j${i}`);
    }).toThrow('database or disk is full');
    const errors: unknown[] = [];
    const clock = new ManualClock();
    const pending = new PendingRequests(db, { log: { error: (o: object, m: string) => void errors.push([o, m]) }, timers: clock });
    const app = await startTestApp(fake, {}, { pending }, { clock });
    apps.push(app);
    fake.fail({ match: /^MergeGateFacts$/, status: 502, times: 1 }); // the first evaluation fails: the request stays pending

    await expect(app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull))).rejects.toMatchObject({
      errors: [expect.objectContaining({ status: 503, message: expect.stringContaining('cannot be written') })],
    });
    expect(errors).toEqual([[expect.objectContaining({ what: 'pending_request', code: 'SQLITE_FULL', key: expect.stringContaining(`#${pull.number}`) }), expect.stringContaining('could not write pending request')]]);
    expect(pending.unrecorded()).toBe(1);
    const metrics = () => appMetrics({ db, clock, gate: () => app.gate, unrecorded: () => pending.unrecorded() }).metrics();
    expect(await metrics()).toContain('merge_gate_state_write_failures_total{what="pending_request"} 1');
    expect(await metrics()).toContain('merge_gate_pending_unrecorded 1');

    // Room again: the retry (after 1 s) writes it, and webhooks are accepted again.
    db.pragma('max_page_count = 1000000');
    await app.advance(1_000);
    expect(pending.unrecorded()).toBe(0);
    expect(new PendingRequests(db).all()).toEqual([{ kind: 'pull', ref: { installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: pull.number } }]);
    await app.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(new PendingRequests(db).all()).toEqual([]);
  });

  test('the journal is locked by another process (SQLITE_BUSY) when a timer asks for an evaluation: logged, counted, retried, never thrown', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    db.pragma('busy_timeout = 20'); // short, for the test (5 s in production)
    const errors: unknown[] = [];
    const clock = new ManualClock();
    const pending = new PendingRequests(db, { log: { error: (o: object, m: string) => void errors.push([o, m]) }, timers: clock });
    const app = await startTestApp(fake, {}, { pending }, { clock });
    apps.push(app);
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app.drain();
    const other = new Database(join(dir, 'state.sqlite'));
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    // Not a webhook: a time-driven re-evaluation, from a timer nobody awaits (it used to throw out of the timer).
    app.gate.scheduler.scheduleEarliest(pullKey({ installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: pull.number }), new Date(clock.now().getTime() + 500));
    await app.advance(500);
    expect(errors).toContainEqual([expect.objectContaining({ what: 'pending_request', code: 'SQLITE_BUSY' }), expect.any(String)]);
    expect(fake.ourRuns(repo, pull.headSha).length).toBeGreaterThanOrEqual(1); // the work itself went on
    other.exec('ROLLBACK');
    other.close();
    await app.drain();
    await app.advance(2_000); // the retry of what could not be written
    expect(pending.unrecorded()).toBe(0);
    expect(new PendingRequests(db).all()).toEqual([]);
    expect((await appMetrics({ db, clock, gate: () => app.gate }).metrics())).toMatch(/merge_gate_state_write_failures_total\{what="pending_request"\} [1-9]/);
  });
});
