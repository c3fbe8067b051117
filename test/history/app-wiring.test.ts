// The app as `npm start` runs it (src/index.ts, in its own process, against the
// fake GitHub over HTTP): each evaluation lands in the state file's history,
// with its cause, and the check links the pull request's page (MERGE_GATE_URL).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import nock from 'nock';
import { EvaluationHistory } from '../../src/history/store.js';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { killChildren, sendWebhook, startAppChild, type AppChild } from '../helpers/app-child.js';
import { approve, setupRepo } from '../helpers/github-scenario.js';
import { waitFor } from '../helpers/deploy.js';

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let dir: string;
const children: ChildProcess[] = [];
/** Ample on a busy 2-core machine; a wait that fails prints the app's log. */
const WAIT_MS = 30_000;

beforeEach(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-history-'));
});

afterEach(async () => {
  await killChildren(children);
  await closeFake();
  rmSync(dir, { recursive: true, force: true });
  expect(fake.problems).toEqual([]);
});

test('an evaluation blocked, then passing: both in the state file with their causes; the check links the page', async () => {
  const path = join(dir, 'outbox.sqlite');
  const app: AppChild = await startAppChild(fake, { MERGE_GATE_COALESCE_MS: '0', OUTBOX_PATH: path, DRY_RUN: 'true', GITHUB_CLIENT_ID: 'Iv1.test', GITHUB_CLIENT_SECRET: 'test-client-secret', SESSION_SECRET: 'a-session-secret-of-at-least-32-characters', MERGE_GATE_URL: 'https://gate.example.com/' });
  children.push(app.child);
  const logged = <T>(wait: Promise<T>) =>
    wait.catch((err: Error) => {
      throw new Error(`${err.message}\nthe app: exit ${app.child.exitCode ?? app.child.signalCode ?? 'none (alive)'}; its log:\n${app.log()}`);
    });
  const repo = setupRepo(fake);
  const pull = fake.addPull(repo, { number: 2 });
  fake.git.ciStatus(repo, pull.headSha, 'ci/test', 'SUCCESS');
  const history = () => {
    const db = new Database(path, { readonly: true });
    try {
      return new EvaluationHistory(db).list('octo/app', 2);
    } finally {
      db.close();
    }
  };
  expect((await sendWebhook(app.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull))).status).toBeLessThan(300);
  await logged(waitFor('the first evaluation recorded', () => history().length === 1, WAIT_MS));
  approve(pull);
  expect((await sendWebhook(app.url, 'pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull))).status).toBeLessThan(300);
  const records = await logged(waitFor('the second evaluation recorded', () => (history().length === 2 ? history() : null), WAIT_MS));
  expect(records.map((r) => [r.outcome, r.causes])).toEqual([['pass', ['pull_request_review.submitted']], ['fail', ['pull_request.opened']]]);
  expect(records[0].approvals).toEqual([expect.objectContaining({ login: 'bob', counted: true })]);
  expect(fake.ourRuns(repo, pull.headSha).at(-1)).toMatchObject({ conclusion: 'success', detailsUrl: 'https://gate.example.com/pulls/octo/app/2' });
}, 3 * WAIT_MS);
