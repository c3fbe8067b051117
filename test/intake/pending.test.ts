// Accepted events are not lost in a crash: the pull requests they name are
// recorded in the state database (real SQLite, a file in a temp folder) before
// the webhook is answered, and evaluated again at start until an evaluation
// covering every request succeeds.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { PendingEvaluations } from '../../src/intake/pending.js';
import { openDb, type Db } from '../../src/outbox/db.js';
import { pullKey } from '../../src/github/gate.js';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
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
  test('one row per pull request however many events, oldest first, kept across a reopen', () => {
    const pending = new PendingEvaluations(db);
    pending.add(pullKey(ref(7)), ref(7));
    pending.add(pullKey(ref(3)), ref(3));
    pending.add(pullKey(ref(7)), ref(7));
    expect(pending.all()).toEqual([ref(7), ref(3)]);
    db.close();
    db = openDb(join(dir, 'state.sqlite'));
    const reopened = new PendingEvaluations(db);
    expect(reopened.all()).toEqual([ref(7), ref(3)]);
    reopened.remove(pullKey(ref(7)));
    expect(reopened.all()).toEqual([ref(3)]);
  });
});

describe('the gate', () => {
  const start = async () => {
    const app = await startTestApp(fake, {}, { pending: new PendingEvaluations(db) });
    apps.push(app);
    return app;
  };

  test('an accepted event is recorded before it is acted on, and cleared once evaluated', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const app = await start();
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    // Answered, not yet evaluated (the coalescing window): on disk already.
    expect(new PendingEvaluations(db).all()).toEqual([{ installationId: fake.installationId, owner: repo.owner, repo: repo.name, number: pull.number }]);
    expect(fake.ourRuns(repo)).toEqual([]);
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toHaveLength(1);
    expect(new PendingEvaluations(db).all()).toEqual([]);
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
    expect(new PendingEvaluations(db).all()).toEqual([]);
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
    expect(new PendingEvaluations(db).all()).toHaveLength(1);

    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(new PendingEvaluations(db).all()).toEqual([]);
  });

  test('a closed pull request is no longer pending', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    const app = await start();
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    pull.state = 'CLOSED';
    await app.receive('pull_request', pullPayload('pull_request', 'closed', fake, repo, pull));
    expect(new PendingEvaluations(db).all()).toEqual([]);
  });
});
