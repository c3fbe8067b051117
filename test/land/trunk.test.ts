// The trunk loop with landing wired in, in one process: Probot with landing,
// real webhook payloads, the fake GitHub behind nock (GraphQL executed against
// GitHub's schema, REST bodies validated), fake time. Deployment statuses are
// posted to the fake as a deploy system would; the end-to-end run with the real
// deploy trigger is another test.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, fakeSha, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { deploymentStatusPayload, pullPayload } from '../helpers/github-app.js';
import { approve, deploy, FULL_POLICY, setupRepo, TRUNK, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';

const TRUNK_POLICY = `${FULL_POLICY}${TRUNK}`;

let fake: FakeGitHub;
let app: LandingApp | undefined;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});

afterEach(() => {
  app?.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const merged = () => fake.merges.filter((m) => m.merged).map((m) => m.number);
const latestRun = (repo: FakeRepo, pull: FakePull) => fake.ourRuns(repo, pull.headSha).at(-1)!;
const opened = (repo: FakeRepo, pull: FakePull) => pullPayload('pull_request', 'opened', fake, repo, pull);
const green = (repo: FakeRepo, pull: FakePull) => repo.statuses.push({ sha: pull.headSha, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:00:00Z' });

describe('landing under the trunk rule', () => {
  test('a held pull request lands after a deployment_status success event, with no other event', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const pull = typicalPull(fake, repo);
    deploy(fake, repo, fakeSha('bad'), 'FAILURE');
    app = await startLandingApp(fake);
    await app.receive('pull_request', opened(repo, pull));
    await app.settle();
    expect(merged()).toEqual([]);
    expect(latestRun(repo, pull).status).toBe('in_progress');

    const healthy = deploy(fake, repo, fakeSha('fixed'), 'SUCCESS', 30);
    await app.receive('deployment_status', deploymentStatusPayload(fake, repo, healthy));
    await app.settle();
    expect(merged()).toEqual([2]);
    expect(pull.state).toBe('MERGED');
  });

  test('the exception: labelled with enough approvals, a fix lands while others are held', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const held = typicalPull(fake, repo, 2);
    const fix = typicalPull(fake, repo, 3);
    fix.labels = ['fix-forward'];
    approve(fix, 'carol');
    deploy(fake, repo, fakeSha('bad'), 'ERROR');
    app = await startLandingApp(fake);
    await app.receive('pull_request', opened(repo, held));
    await app.receive('pull_request', opened(repo, fix));
    await app.settle();
    expect(merged()).toEqual([3]);
    expect(latestRun(repo, held).status).toBe('in_progress');
  });

  test('the loop: land → deployed → cut off → held → revert proposed → revert lands → healthy → the held pull request lands', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const bad = typicalPull(fake, repo, 1);
    bad.title = 'Make widgets faster';
    app = await startLandingApp(fake);
    await app.receive('pull_request', opened(repo, bad));
    await app.settle();
    expect(merged()).toEqual([1]);
    const landedSha = repo.branches.get('main')!;

    // Deployed, then cut off by the deploy system.
    const deployment = deploy(fake, repo, landedSha, 'FAILURE', 5, { description: 'cut off: 3 failed health probes', logUrl: 'https://deploy.example/log/1' });
    await app.receive('deployment_status', deploymentStatusPayload(fake, repo, deployment));
    await app.settle();
    const revert = [...repo.pulls.values()].find((p) => p.byApp)!;
    expect(revert).toMatchObject({ title: 'Revert "Make widgets faster"', labels: ['fix-forward'], state: 'OPEN' });
    // The revert is gated: no approvals yet, so it waits like everything else.
    expect(merged()).toEqual([1]);

    // The next green pull request is held, its check linking the revert.
    const next = typicalPull(fake, repo, 10);
    await app.receive('pull_request', opened(repo, next));
    await app.settle();
    expect(merged()).toEqual([1]);
    expect(latestRun(repo, next).text).toContain(`revert proposed: #${revert.number}`);

    // CI and two reviewers pass the revert: it lands through the gate.
    green(repo, revert);
    approve(revert, 'bob');
    approve(revert, 'carol');
    await app.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, revert));
    await app.settle();
    expect(merged()).toEqual([1, revert.number]);

    // The revert is deployed and healthy: the held pull request lands by itself.
    const healthy = deploy(fake, repo, repo.branches.get('main')!, 'SUCCESS', 20);
    await app.receive('deployment_status', deploymentStatusPayload(fake, repo, healthy));
    await app.settle();
    expect(merged()).toEqual([1, revert.number, 10]);
    // Exactly one revert over the whole loop.
    expect([...repo.pulls.values()].filter((p) => p.byApp)).toHaveLength(1);
  });
});
