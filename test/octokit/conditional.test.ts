// The policy is read with its ETag: an unchanged policy costs a 304, which
// GitHub does not count; a changed one is read afresh.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { FULL_POLICY, setupRepo, typicalFiles, typicalPull } from '../helpers/github-scenario.js';

let fake: FakeGitHub;
let repo: FakeRepo;
let app: TestApp;

beforeEach(async () => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
  repo = setupRepo(fake);
  app = await startTestApp(fake);
});
afterEach(() => {
  app.gate.stop();
  fake.uninstall();
  nock.enableNetConnect();
});

const policyReads = () => fake.apiRequests().filter((r) => r.path.endsWith('/contents/.github%2Fmerge-gate.yml'));

test('an unchanged re-evaluation reads the policy conditionally (304, not counted) and costs one counted request', async () => {
  const pull = typicalPull(fake, repo, 2, typicalFiles(3));
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.drain();
  expect(policyReads().map((r) => r.status)).toEqual([200]);
  fake.resetRequests();

  await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
  await app.drain();
  expect(policyReads().map((r) => r.status)).toEqual([304]);
  expect(fake.count()).toEqual({ rest: 0, graphql: 1, total: 1, writes: 0 });
  expect(fake.ourRuns(repo).map((r) => r.conclusion)).toEqual(['success']);
  expect(fake.problems).toEqual([]);
});

test('a changed policy is read afresh and applied', async () => {
  const pull = typicalPull(fake, repo, 2, typicalFiles(3));
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.drain();
  fake.setDefaultFile(repo, '.github/merge-gate.yml', FULL_POLICY.replace('required: 1', 'required: 2'));
  fake.resetRequests();

  await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
  await app.drain();
  expect(policyReads().map((r) => r.status)).toEqual([200]);
  expect(fake.ourRuns(repo).at(-1)!.conclusion).not.toBe('success'); // two approvals now needed, one given
  expect(fake.problems).toEqual([]);
});
