// The app in its own process while another process holds the state database's
// write lock (SQLITE_BUSY, for real: a second connection in BEGIN IMMEDIATE):
// the outbox keeps retrying a delivery whose outcome it cannot record. That
// used to be an unhandled rejection that killed the app; now it is logged,
// counted in /metrics, and retried, and the delivery arrives once the lock goes.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { killChildren, sendWebhook, startAppChild, type AppChild } from '../helpers/app-child.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { Receiver, TRUNK_SECRET } from '../helpers/landing.js';
import { waitFor } from '../helpers/deploy.js';

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let receiver: Receiver;
let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  receiver = await new Receiver().start();
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-sqlite-'));
});

afterEach(async () => {
  await killChildren(children);
  await receiver.close();
  await closeFake();
  rmSync(dir, { recursive: true, force: true });
});

/** The app's /metrics, or null while it does not answer. */
async function metrics(app: AppChild): Promise<string | null> {
  try {
    return await (await fetch(new URL('/metrics', app.url), { signal: AbortSignal.timeout(10_000) })).text();
  } catch {
    return null;
  }
}

test('the outbox retries while another process holds the write lock: logged, counted, the app lives, the delivery arrives after', async () => {
  const path = join(dir, 'state', 'outbox.sqlite');
  const app = await startAppChild(fake, {
    MERGE_GATE_COALESCE_MS: '0',
    TRUNK_WEBHOOK_URL: receiver.url,
    TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
    OUTBOX_PATH: path,
    OUTBOX_RETRY_BASE_MS: '200',
    OUTBOX_RETRY_MAX_MS: '400',
  });
  children.push(app.child);
  /** A failing wait says how the app ended, with what it wrote to stderr. */
  const logged = <T>(wait: Promise<T>) =>
    wait.catch((err: Error) => {
      throw new Error(`${err.message}\nthe app: exit ${app.child.exitCode ?? app.child.signalCode ?? 'none (alive)'}; stderr:\n${app.output()}`);
    });
  const repo = setupRepo(fake);
  const pull = typicalPull(fake, repo);
  repo.branches.set(pull.headRef, pull.headSha);
  receiver.down = 503;
  expect((await sendWebhook(app.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull))).status).toBeLessThan(300);
  await waitFor('the landing and a refused delivery', () => fake.merges.some((m) => m.merged) && receiver.hits > 0);

  const other = new Database(path);
  try {
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock (the app waits its 5 s busy timeout, then fails)
    const failed = await logged(waitFor(
      'a failed write counted in /metrics',
      async () => {
        const text = await metrics(app);
        return text !== null && /merge_gate_state_write_failures_total\{what="outbox_attempt"\} [1-9]/.test(text) ? text : null;
      },
      40_000,
      200,
    ));
    expect(failed).toContain('merge_gate_outbox_deliveries{state="pending"} 1');
    expect(app.child.exitCode).toBeNull();
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }

  receiver.down = null;
  await logged(waitFor('the delivery', () => receiver.received.length >= 1, 30_000));
  expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1); // one event, whatever was sent again
  await logged(waitFor('recorded as delivered', async () => (await metrics(app))?.includes('merge_gate_outbox_deliveries{state="delivered"} 1'), 30_000));
  expect(app.child.exitCode).toBeNull();
}, 120_000);
