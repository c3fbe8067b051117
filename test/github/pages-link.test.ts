// The check run links the pull request's page on the app's own pages (issue
// #22, SPEC §7): MERGE_GATE_URL (with the OAuth client configured) becomes
// every verdict's details_url, written to the OpenAPI-validated fake GitHub.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { configFromEnv, pagesUrlFromEnv, pullPageUrl } from '../../src/github/config.js';
import { planCheckRun } from '../../src/github/checkrun.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';

describe('MERGE_GATE_URL', () => {
  const client = { GITHUB_CLIENT_ID: 'Iv1.abc' };
  test('an absolute http(s) address, without its trailing slash; null without the OAuth client or when unset', () => {
    expect(pagesUrlFromEnv({ ...client, MERGE_GATE_URL: 'https://gate.example.com/' })).toBe('https://gate.example.com');
    expect(pagesUrlFromEnv({ ...client, MERGE_GATE_URL: ' http://127.0.0.1:3000/merge-gate// ' })).toBe('http://127.0.0.1:3000/merge-gate');
    expect(pagesUrlFromEnv({ MERGE_GATE_URL: 'https://gate.example.com' })).toBeNull();
    expect(pagesUrlFromEnv({ ...client })).toBeNull();
    expect(configFromEnv({ ...client, MERGE_GATE_URL: 'https://gate.example.com' }).pagesUrl).toBe('https://gate.example.com');
    expect(configFromEnv({}).pagesUrl).toBeNull();
  });

  test('anything else refuses to start, naming the variable', () => {
    for (const bad of ['gate.example.com', 'ftp://gate.example.com', 'javascript:alert(1)', 'https://gate.example.com/?x=1', 'https://u:p@gate.example.com']) {
      expect(() => configFromEnv({ ...client, MERGE_GATE_URL: bad })).toThrow(/^MERGE_GATE_URL must be an absolute http\(s\) address/);
    }
  });

  test('the page of a pull request; its owner and name are path segments', () => {
    expect(pullPageUrl('https://gate.example.com', 'octo/app', 2)).toBe('https://gate.example.com/pulls/octo/app/2');
    expect(pullPageUrl('https://gate.example.com', 'octo/a#b', 2)).toBe('https://gate.example.com/pulls/octo/a%23b/2');
    expect(pullPageUrl(null, 'octo/app', 2)).toBeNull();
  });

  test('planCheckRun: the page is every verdict\'s link; without it, only action_required links the pull request', () => {
    const options = { dryRun: false, pullRequestUrl: 'https://github.com/octo/app/pull/2', policyPath: '.github/merge-gate.yml' };
    const v = { outcome: 'pass' as const, results: [], nextChangeAt: null, headSha: 'a'.repeat(40) };
    expect(planCheckRun(v, { ...options, pullPageUrl: 'https://gate.example.com/pulls/octo/app/2' }).detailsUrl).toBe('https://gate.example.com/pulls/octo/app/2');
    expect(planCheckRun(v, options).detailsUrl).toBeNull();
  });
});

describe('the check run written', () => {
  let fake: FakeGitHub;
  let app: TestApp | undefined;
  let repo: FakeRepo;

  beforeEach(() => {
    nock.disableNetConnect();
    fake = new FakeGitHub().install();
    repo = setupRepo(fake);
  });
  afterEach(() => {
    app?.gate.stop();
    fake.uninstall();
    expect(fake.problems).toEqual([]);
  });

  test('with MERGE_GATE_URL: details_url is the pull request\'s page, passing or not', async () => {
    app = await startTestApp(fake, { pagesUrl: 'https://gate.example.com' });
    const passing = typicalPull(fake, repo, 2);
    const failing = fake.addPull(repo, { number: 3 }); // not approved, no CI
    for (const pull of [passing, failing]) await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app.drain();
    expect(fake.ourRuns(repo, passing.headSha)).toEqual([expect.objectContaining({ conclusion: 'success', detailsUrl: 'https://gate.example.com/pulls/octo/app/2' })]);
    expect(fake.ourRuns(repo, failing.headSha)).toEqual([expect.objectContaining({ detailsUrl: 'https://gate.example.com/pulls/octo/app/3' })]);
  });

  test('without it: no details_url on a passing check', async () => {
    app = await startTestApp(fake);
    const passing = typicalPull(fake, repo, 2);
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, passing));
    await app.drain();
    expect(fake.ourRuns(repo, passing.headSha)).toEqual([expect.objectContaining({ conclusion: 'success', detailsUrl: null })]);
  });
});
