// A landing survives a crash: the app runs in a child process (src/index.ts,
// configured from the environment as `npm start` does) against the fake GitHub
// served over real HTTP, and a real receiver that verifies every delivery with
// the standardwebhooks library. The app is killed with SIGKILL at the worst
// moments and restarted on the same OUTBOX_PATH: exactly one merge happens,
// and its trunk-updated is delivered.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakeRepo, type FakePull } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { sendWebhook, startAppChild } from '../helpers/app-child.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { Receiver, TRUNK_SECRET } from '../helpers/landing.js';


let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let receiver: Receiver;
let dir: string;
const children: ChildProcess[] = [];
/** What each app process wrote to stderr: shown when a wait times out. */
const outputs: Array<() => string> = [];

beforeEach(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  receiver = await new Receiver().start();
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-crash-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  outputs.length = 0;
  await receiver.close();
  await closeFake();
  rmSync(dir, { recursive: true, force: true });
  expect(fake.problems).toEqual([]);
});

/** Starts the app; resolves with its webhook URL once it listens. */
async function startApp(): Promise<{ child: ChildProcess; url: string }> {
  const { child, url, output } = await startAppChild(fake, {
    MERGE_GATE_COALESCE_MS: '0',
    TRUNK_WEBHOOK_URL: receiver.url,
    TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
    OUTBOX_PATH: join(dir, 'state', 'outbox.sqlite'),
    OUTBOX_RETRY_BASE_MS: '60000', // no retry on its own within a test: only a restart delivers
    MERGE_SETTLE: '2s', // an intent left by a crash is believed unmerged 2 s after the restart (default: a minute)
  });
  children.push(child);
  outputs.push(output);
  return { child, url };
}

async function send(url: string, name: string, payload: object): Promise<void> {
  expect((await sendWebhook(url, name, payload)).status).toBeLessThan(300);
}

/** Polls (briefly) until `condition` holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the app processes' stderr:\n${outputs.map((o, i) => `--- process ${i + 1}\n${o()}`).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function scenario(): { repo: FakeRepo; pull: FakePull; before: string } {
  const repo = setupRepo(fake);
  const pull = typicalPull(fake, repo);
  repo.branches.set(pull.headRef, pull.headSha);
  return { repo, pull, before: repo.branches.get('main')! };
}

const merged = () => fake.merges.filter((m) => m.merged);

/** The app hangs in the merge call (GitHub having merged or not), is killed there, and restarted: until the event is delivered. */
async function killedDuringMerge(fault: 'hang-before' | 'hang-after') {
  const s = scenario();
  fake.mergeFault = () => fault;
  const first = await startApp();
  await send(first.url, 'pull_request', pullPayload('pull_request', 'opened', fake, s.repo, s.pull));
  await until(() => fake.merges.length === 1, 'the merge call');
  await kill(first.child);

  fake.mergeFault = () => 'none';
  await startApp();
  await until(() => receiver.received.length === 1, 'the delivery after the restart');
  return s;
}

describe('SIGKILL and restart', () => {
  test('after the merge and before delivery: delivered after the restart, one merge in total', async () => {
    const { repo, pull, before } = scenario();
    receiver.down = 503;
    const first = await startApp();
    await send(first.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await until(() => merged().length === 1 && receiver.hits > 0, 'the merge and a failed delivery');
    await kill(first.child);
    expect(receiver.received).toEqual([]);

    receiver.down = null;
    await startApp();
    await until(() => receiver.received.length === 1, 'the delivery after the restart');
    expect(fake.merges).toEqual([expect.objectContaining({ number: 2, sha: pull.headSha, merged: true })]);
    expect(receiver.received[0].json).toMatchObject({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', before, after: pull.mergeCommit });
    // The same webhook-id as the attempts before the crash.
    expect(new Set(receiver.seenIds)).toEqual(new Set([receiver.received[0].id]));
    // Killed before it said so on the check, perhaps: the restart does.
    await until(() => fake.ourRuns(repo, pull.headSha).at(-1)?.title === `Landed as ${pull.mergeCommit!.slice(0, 7)}`, 'the check saying "Landed as"');
  }, 60_000);

  test('during the merge call (GitHub merged, the answer never came): resolved by reading the pull request, one merge, delivered', async () => {
    const { repo, pull, before } = await killedDuringMerge('hang-after');
    expect(fake.merges).toHaveLength(1);
    expect(receiver.received[0].json).toMatchObject({ before, after: pull.mergeCommit, pull_request: { number: 2, head_sha: pull.headSha } });
    // Resolved after the restart, and tidied up as a landing is: the check says so, the branch is deleted.
    await until(() => fake.deletedBranches.length === 1, 'the branch deletion');
    expect(fake.ourRuns(repo, pull.headSha).at(-1)?.title).toBe(`Landed as ${pull.mergeCommit!.slice(0, 7)}`);
  }, 60_000);

  test('during the merge call (GitHub had not merged yet): the intent is dropped and the pull request lands after the restart, once', async () => {
    const { pull } = await killedDuringMerge('hang-before');
    expect(merged()).toHaveLength(1);
    expect(fake.merges.map((m) => [m.sha, m.merged])).toEqual([
      [pull.headSha, false],
      [pull.headSha, true],
    ]);
    expect(receiver.received[0].json.after).toBe(pull.mergeCommit);
  }, 60_000);

  test.each([
    ['answering 502', false],
    ['dropping the connection', true],
  ])('a merge GitHub finishes after %s and after the re-read, killed then: the restart finds the intent unresolved and lands it, one merge call, delivered', async (_what, drop) => {
    const { repo, pull, before } = scenario();
    // The merge call fails (502, or its connection dropped) without merging; GitHub merges right after the pull request is read again.
    let step: 'merge' | 'reread' | 'finish' | 'done' = 'merge';
    fake.mergeFault = () => 'fail-before';
    if (drop) fake.chaos = ({ method, path }) => (method === 'PUT' && path.endsWith('/merge') ? { kind: 'reset', after: true } : null);
    fake.onRequest = (r) => {
      if (step === 'merge' && r.operation === 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge') step = 'reread';
      else if (step === 'reread' && r.operation === 'GET /repos/{owner}/{repo}/pulls/{pull_number}') step = 'finish';
      else if (step === 'finish') {
        step = 'done';
        fake.performMerge(repo, pull, 'squash');
      }
    };
    const first = await startApp();
    await send(first.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await until(() => step === 'done', 'the merge finished after the re-read');
    await kill(first.child);

    fake.onRequest = null;
    fake.chaos = null;
    await startApp();
    await until(() => receiver.received.length === 1, 'the delivery after the restart');
    expect(fake.merges.map((m) => m.status)).toEqual([502]);
    expect(receiver.received[0].json).toMatchObject({ before, after: pull.mergeCommit, pull_request: { number: 2, head_sha: pull.headSha } });
    await until(() => fake.ourRuns(repo, pull.headSha).at(-1)?.title === `Landed as ${pull.mergeCommit!.slice(0, 7)}`, 'the check saying "Landed as"');
  }, 60_000);

  test('recovery after a restart takes the branch lock: it never abandons the intent of a live landing of the same pull request (killed during that merge, the next restart lands it)', async () => {
    const { repo, pull, before } = scenario();
    fake.mergeFault = () => 'hang-before'; // the first process dies in its merge call, GitHub having done nothing
    const first = await startApp();
    await send(first.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await until(() => fake.merges.length === 1, 'the first merge call');
    await kill(first.child);

    // The second process: its recovery's read of the pull request is answered at once (not merged) but
    // arrives 5 s late, while the same pull request's webhook is evaluated and lands (GitHub merges; the
    // answer never comes). Recovery must not abandon that live intent.
    fake.mergeFault = () => 'hang-after';
    let lateUntil = 0;
    fake.chaos = ({ method, path }) => {
      if (lateUntil === 0 && method === 'GET' && path.endsWith('/repos/octo/app/pulls/2')) {
        lateUntil = Date.now() + 5_000;
        return { kind: 'late', ms: 5_000 };
      }
      return null;
    };
    const second = await startApp();
    await send(second.url, 'pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await until(() => fake.merges.length === 2 && lateUntil > 0 && Date.now() > lateUntil + 1_000, 'the second merge call and the late answer', 40_000);
    await kill(second.child);

    fake.chaos = null;
    await startApp();
    await until(() => receiver.received.length === 1, 'the delivery after the second restart');
    expect(fake.merges.map((m) => [m.sha, m.merged])).toEqual([
      [pull.headSha, false],
      [pull.headSha, true],
    ]);
    expect(receiver.received[0].json).toMatchObject({ before, after: pull.mergeCommit, pull_request: { number: 2, head_sha: pull.headSha } });
  }, 90_000);
});
