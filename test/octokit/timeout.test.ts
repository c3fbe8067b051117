// A request GitHub never answers (src/octokit/timeout.ts): with Probot's
// production Octokit (retries and throttling on) built as the app builds each
// installation's (src/octokit/installation.ts), against the fake GitHub over
// real HTTP with a request it leaves hanging. The write fails at its deadline,
// is retried and lands once; the installation's next write is not held behind it.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import nock from 'nock';
import { Probot } from 'probot';
import { octokitFactory } from '../../src/octokit/installation.js';
import { Pacer, PACING_DEFAULTS } from '../../src/octokit/pacer.js';
import { systemClock, systemTimers } from '../../src/clock.js';
import { configFromEnv, DEFAULT_CONFIG } from '../../src/github/config.js';
import type { Octokit } from '../../src/octokit/types.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { quietLogger, testPrivateKey } from '../helpers/github-app.js';

const TIMEOUT_MS = 500;

let fake: FakeGitHub;
let close: () => Promise<void>;
let repo: FakeRepo;
let octokit: Octokit;
const errors: unknown[] = [];

beforeEach(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close } = await FakeGitHub.listening());
  repo = fake.addRepo('octo', 'app', { files: { 'README.md': 'hello' } });
  const probot = new Probot({ appId: fake.appId, privateKey: testPrivateKey(), baseUrl: fake.baseUrl, log: quietLogger(errors) as never });
  const pacer = new Pacer({ ...PACING_DEFAULTS, writeSpacingMs: 0, clock: systemClock, timers: systemTimers });
  octokit = await octokitFactory(probot, pacer, { requestTimeoutMs: TIMEOUT_MS }).installation(fake.installationId);
});

afterEach(async () => {
  await close();
  expect(fake.problems).toEqual([]);
});

const createCheck = (name: string, retries?: number) =>
  octokit.request('POST /repos/{owner}/{repo}/check-runs', { owner: 'octo', repo: 'app', name, head_sha: repo.branches.get('main')!, ...(retries === undefined ? {} : { request: { retries } }) });

/** The first request matching `match` hangs; the rest are answered. */
function hangFirst(match: RegExp): void {
  let hung = false;
  fake.chaos = ({ method, path }) => (!hung && match.test(`${method} ${path}`) ? ((hung = true), { kind: 'hang' }) : null);
}

/** Fails with what the process shows if `promise` has not settled within `ms` (a request left hanging for good). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms: the hung request was never given up`)), ms).unref())]);
}

test('a hung write fails at its deadline and is retried: it lands once, and the write queued behind it goes on', async () => {
  hangFirst(/^POST .*\/check-runs$/);
  const started = performance.now();
  const first = createCheck('first');
  const second = createCheck('second'); // writes of an installation go one at a time: this one waits for the first
  const [a, b] = await within(15_000, Promise.all([first, second]));
  expect([a.status, b.status]).toEqual([201, 201]);
  expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  expect(fake.chaosLog.map((c) => c.fault.kind)).toEqual(['hang']);
  // The hung attempt did nothing; its retry created the run: one each.
  expect(repo.checkRuns.map((r) => r.name).sort()).toEqual(['first', 'second']);
});

test('not retried (retries: 0): the error is a 5xx that says what happened and what to set', async () => {
  hangFirst(/^POST .*\/check-runs$/);
  const err = (await within(10_000, createCheck('once', 0)).catch((e: unknown) => e)) as { status?: number; message?: string };
  expect(err.status).toBe(500);
  expect(err.message).toMatch(/^GitHub did not answer POST \/repos\/octo\/app\/check-runs within 500ms \(MERGE_GATE_GITHUB_TIMEOUT_MS\); it is tried again$/);
});

test('a read that hangs is given up and retried too', async () => {
  hangFirst(/^GET .*\/branches\/main$/);
  const { data } = await within(15_000, octokit.request('GET /repos/{owner}/{repo}/branches/{branch}', { owner: 'octo', repo: 'app', branch: 'main' }));
  expect(data.name).toBe('main');
});

test('MERGE_GATE_GITHUB_TIMEOUT_MS: 30 s by default, at least a second', () => {
  expect(DEFAULT_CONFIG.githubTimeoutMs).toBe(30_000);
  expect(configFromEnv({ MERGE_GATE_GITHUB_TIMEOUT_MS: '5000' }).githubTimeoutMs).toBe(5_000);
  expect(configFromEnv({ MERGE_GATE_GITHUB_TIMEOUT_MS: '10' }).githubTimeoutMs).toBe(1_000);
  expect(() => configFromEnv({ MERGE_GATE_GITHUB_TIMEOUT_MS: 'soon' })).toThrow(/MERGE_GATE_GITHUB_TIMEOUT_MS must be a number/);
});
