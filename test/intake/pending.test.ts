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
import { aimAt, example, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';

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
  const start = async () => {
    const app = await startTestApp(fake, {}, { pending: new PendingRequests(db) });
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
});
