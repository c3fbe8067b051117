// The closed loop in the app: the `trunk` rule's facts in the one facts query,
// `deployment_status` events releasing and holding pull requests, and the
// revert proposed exactly once. Real webhook payloads from
// @octokit/webhooks-examples, a fake GitHub behind nock executing every GraphQL
// document against GitHub's published schema.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { GitHubPullRequestSource } from '../../src/github/facts.js';
import type { Octokit } from '../../src/octokit/types.js';
import { trunkRule } from '../../src/rules/trunk.js';
import { DateTime } from 'luxon';
import { FakeGitHub, fakeSha, type FakeDeployment, type FakeDeploymentStatus, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { deploymentStatusPayload as statusPayload, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { approve, deploy as deployTo, FULL_POLICY, setupRepo, TRUNK, typicalPull } from '../helpers/github-scenario.js';
import { validPolicy } from '../helpers/policy.js';
import { revertMarker } from '../../src/trunk/marker.js';

const TRUNK_POLICY = `${FULL_POLICY}${TRUNK}`;
const LOG_URL = 'https://deploy.example/production/log/17';

let fake: FakeGitHub;
let app: TestApp | undefined;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});

afterEach(() => {
  app?.gate.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const ops = () => fake.apiRequests().map((r) => r.operation);
const opened = (repo: FakeRepo, pull: FakePull) => pullPayload('pull_request', 'opened', fake, repo, pull);
const latestRun = (repo: FakeRepo, pull: FakePull) => fake.ourRuns(repo, pull.headSha).at(-1)!;
const deploymentStatusPayload = (repo: FakeRepo, deployment: FakeDeployment) => statusPayload(fake, repo, deployment);
const deploy = (repo: FakeRepo, sha: string, state: FakeDeploymentStatus['state'], minutes = 0, more: Partial<FakeDeploymentStatus> = {}, environment = 'production') =>
  deployTo(fake, repo, sha, state, minutes, more, environment);

/** Pull request #1, landed by merge-gate: its squash commit is trunk's tip. */
function landedByMergeGate(repo: FakeRepo): { pull: FakePull; sha: string } {
  const pull = fake.addPull(repo, { number: 1, title: 'Make widgets faster', author: 'alice' });
  const sha = fake.landByApp(repo, pull);
  return { pull, sha };
}

describe('facts', () => {
  test('a policy without trunk: the requests of a first evaluation are unchanged, and nothing about deployments is asked', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    deploy(repo, fakeSha('bad'), 'FAILURE');
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo, pull));
    await app.drain();
    expect(ops()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts', 'GET /repos/{owner}/{repo}/pulls/{pull_number}', 'POST /repos/{owner}/{repo}/check-runs']);
    const facts = fake.apiRequests()[1];
    expect(facts.variables).toMatchObject({ trunk: false, reverts: false });
    expect(latestRun(repo, pull)).toMatchObject({ conclusion: 'success' });
    expect(latestRun(repo, pull).summary).toContain('| trunk | ➖ skip | not configured |');
  });

  test('with trunk: the same requests in number and kind; the deployment comes in the facts query', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const pull = typicalPull(fake, repo);
    deploy(repo, fakeSha('bad'), 'FAILURE');
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo, pull));
    await app.drain();
    expect(ops()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts', 'GET /repos/{owner}/{repo}/pulls/{pull_number}', 'POST /repos/{owner}/{repo}/check-runs']);
    expect(fake.apiRequests()[1].variables).toMatchObject({ trunk: true, environment: 'production', reverts: true, revertLabel: 'fix-forward' });
    expect(latestRun(repo, pull)).toMatchObject({ status: 'in_progress', conclusion: null });
  });

  test('only the newest deployment to the environment counts (property over deployment histories)', async () => {
    const repo = fake.addRepo('octo', 'app');
    fake.addPull(repo, { number: 2 });
    const octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
    const policy = validPolicy(`preset: none\n${TRUNK}`);
    const STATES: FakeDeploymentStatus['state'][] = ['PENDING', 'QUEUED', 'IN_PROGRESS', 'WAITING', 'SUCCESS', 'FAILURE', 'ERROR', 'INACTIVE'];
    const history = fc.array(
      fc.record({ minute: fc.integer({ min: 0, max: 59 }), environment: fc.constantFrom('production', 'staging'), states: fc.array(fc.constantFrom(...STATES), { maxLength: 3 }) }),
      { maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(history, async (entries) => {
        repo.deployments = [];
        const made = entries.map((e, i) => {
          const d = fake.addDeployment(repo, { sha: fakeSha(`d${i}`), environment: e.environment, createdAt: new Date(Date.UTC(2026, 10, 22, 10, e.minute)).toISOString() });
          e.states.forEach((s, j) => fake.addDeploymentStatus(d, s, { createdAt: new Date(Date.UTC(2026, 10, 22, 11, j)).toISOString() }));
          return d;
        });
        // The newest by creation (ties: the later one GitHub made).
        const newest = made.filter((d) => d.environment === 'production').sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id).at(-1);
        const source = new GitHubPullRequestSource({ octokit, owner: 'octo', repo: 'app', number: 2, appId: fake.appId, checkName: 'merge-gate' });
        const facts = await source.load({ reviews: true, files: false, checks: false, registryPath: null, gitattributes: false, trunk: { environment: 'production', revertLabel: null } });
        expect(facts.deployment?.sha ?? null).toBe(newest?.sha ?? null);
        const latest = newest?.statuses.at(-1);
        expect(facts.deployment?.status?.state ?? null).toBe(latest ? latest.state.toLowerCase() : null);
        const outcome = trunkRule({ policy, facts, now: DateTime.fromISO('2026-11-22T12:00:00Z') }).outcome;
        expect(outcome).toBe(latest && ['FAILURE', 'ERROR'].includes(latest.state) ? 'wait' : 'pass');
      }),
      { numRuns: 40 },
    );
  });
});

describe('deployment_status events', () => {
  test('the held pull request’s check turns from wait to pass after a deployment_status success event, with no other event', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const pull = typicalPull(fake, repo);
    deploy(repo, fakeSha('bad'), 'FAILURE', 0, { description: 'cut off: 3 failed health probes', logUrl: LOG_URL });
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo, pull));
    await app.drain();
    const held = latestRun(repo, pull);
    expect(held).toMatchObject({ status: 'in_progress', title: expect.stringMatching(/^wait: trunk: production unhealthy: [0-9a-f]{7} failure since 2026-11-22 10:01 UTC$/) });
    expect(held.text).toContain('its status says \\`cut off: 3 failed health probes\\`');
    expect(held.text).toContain('landings resume when a healthy revision is deployed to production');

    // A fixed revision is deployed and turns healthy: only its deployment_status event arrives.
    fake.resetRequests();
    const fixed = deploy(repo, fakeSha('fixed'), 'SUCCESS', 30);
    await app.receive('deployment_status', deploymentStatusPayload(repo, fixed));
    await app.drain();
    expect(ops().slice(0, 2)).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateOpenPulls']);
    expect(latestRun(repo, pull)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(latestRun(repo, pull).summary).toMatch(/\| trunk \| ✅ pass \| production: [0-9a-f]{7} healthy \(success\) \|/);
  });

  test('a failure holds pull requests that were passing; the exception label with enough approvals still passes', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const pull = typicalPull(fake, repo, 2);
    const fix = typicalPull(fake, repo, 3);
    fix.labels = ['fix-forward'];
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo, pull));
    await app.receive('pull_request', opened(repo, fix));
    await app.drain();
    expect(latestRun(repo, pull).conclusion).toBe('success'); // no deployment yet

    const bad = deploy(repo, fakeSha('bad'), 'ERROR', 5);
    await app.receive('deployment_status', deploymentStatusPayload(repo, bad));
    await app.drain();
    expect(latestRun(repo, pull).status).toBe('in_progress');
    // One approval of the two the exception needs: held too, saying what is missing.
    expect(latestRun(repo, fix).status).toBe('in_progress');
    expect(latestRun(repo, fix).title).toContain('fix-forward needs 2 approvals, has 1');

    approve(fix, 'carol');
    await app.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, fix));
    await app.drain();
    expect(latestRun(repo, fix)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(latestRun(repo, fix).summary).toContain('but fix-forward with 2 / 2 approvals');
    expect(latestRun(repo, pull).status).toBe('in_progress');
  });

  test('statuses of another environment, or in a repository without trunk, re-evaluate nothing', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    const staging = deploy(repo, fakeSha('s'), 'FAILURE', 0, {}, 'staging');
    await app.receive('deployment_status', deploymentStatusPayload(repo, staging));
    await app.drain();
    expect(ops()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}']);

    fake.resetRequests();
    fake.setDefaultFile(repo, '.github/merge-gate.yml', FULL_POLICY);
    const production = deploy(repo, fakeSha('p'), 'FAILURE', 1);
    await app.receive('deployment_status', deploymentStatusPayload(repo, production));
    await app.drain();
    expect(ops()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}']);
  });

  test('a burst of deployment statuses coalesces into one look at the repository', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY.replace('revert: true', 'revert: false'));
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    for (let i = 0; i < 10; i++) {
      const d = deploy(repo, fakeSha(`burst${i}`), i % 2 ? 'SUCCESS' : 'IN_PROGRESS', i);
      await app.receive('deployment_status', deploymentStatusPayload(repo, d));
      await app.advance(50);
    }
    await app.drain();
    expect(ops().filter((o) => o === 'MergeGateOpenPulls')).toHaveLength(1);
    expect(ops().filter((o) => o === 'MergeGateFacts')).toHaveLength(1);
  });
});

describe('the revert', () => {
  const reverts = (repo: FakeRepo) => [...repo.pulls.values()].filter((p) => p.byApp);
  const mutations = () => ops().filter((o) => o === 'MergeGateRevertPullRequest').length;

  test('opened once, labelled, linking the failed deployment and mentioning the author, across redeliveries and a restart', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const { sha } = landedByMergeGate(repo);
    const pull = typicalPull(fake, repo, 2);
    const bad = deploy(repo, sha, 'FAILURE', 0, { description: 'cut off: 5 error reports in 60 s', logUrl: LOG_URL });
    app = await startTestApp(fake);
    const payload = deploymentStatusPayload(repo, bad);
    await app.receive('deployment_status', payload);
    await app.drain();

    expect(reverts(repo)).toHaveLength(1);
    const [revert] = reverts(repo);
    expect(revert).toMatchObject({ number: 3, title: 'Revert "Make widgets faster"', labels: ['fix-forward'], draft: false, state: 'OPEN' });
    expect(revert.body).toContain(`Reverts #1, which merge-gate landed as ${sha}.`);
    expect(revert.body).toContain(`Its deployment to **production** turned **failure** at 2026-11-22 10:01 UTC: \`cut off: 5 error reports in 60 s\` ([the failed deployment](${LOG_URL})).`);
    expect(revert.body).toContain('@alice: merge-gate holds every landing while production is unhealthy.');
    expect(revert.body).toContain(revertMarker(sha));
    // Never landed on the spot: the revert is gated like any other pull request.
    expect(revert.state).toBe('OPEN');

    // The held pull request's check links the revert.
    expect(latestRun(repo, pull).status).toBe('in_progress');
    expect(latestRun(repo, pull).text).toContain('revert proposed: #3 (https://github.com/octo/app/pull/3)');

    // Redelivered twice: nothing new.
    await app.receive('deployment_status', payload);
    await app.drain();
    await app.receive('deployment_status', payload);
    await app.drain();
    expect(mutations()).toBe(1);

    // A restarted app, the same event again: still one.
    app.gate.stop();
    app = await startTestApp(fake);
    await app.receive('deployment_status', payload);
    await app.drain();
    expect(mutations()).toBe(1);
    expect(reverts(repo)).toHaveLength(1);
  });

  test('stopped between opening and labelling: the retry labels the revert it opened, and opens no second one', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const { sha } = landedByMergeGate(repo);
    const bad = deploy(repo, sha, 'FAILURE');
    fake.fail({ method: 'POST', match: /\/issues\/\d+\/labels$/, status: 500, times: 1 });
    app = await startTestApp(fake);
    await app.receive('deployment_status', deploymentStatusPayload(repo, bad));
    await app.drain();
    expect(mutations()).toBe(1);
    expect(reverts(repo)).toEqual([expect.objectContaining({ labels: ['fix-forward'] })]);
    expect(ops().filter((o) => o === 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels')).toHaveLength(2);
  });

  test('no revert for a commit merge-gate did not land, for a healthy or in-progress newest deployment, or without revert: true', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const byHand = fake.addPull(repo, { number: 1 });
    const sha = fake.landByApp(repo, byHand);
    byHand.mergedBy = { login: 'alice', bot: false };
    app = await startTestApp(fake);
    const failed = deploymentStatusPayload(repo, deploy(repo, sha, 'FAILURE'));
    await app.receive('deployment_status', failed);
    await app.drain();
    expect(ops()).toContain('MergeGateRevertFacts');
    expect(mutations()).toBe(0);

    // Landed by merge-gate, but a newer deployment is under way, then healthy: the failure event redelivered proposes nothing.
    byHand.mergedBy = { login: 'merge-gate', bot: true };
    deploy(repo, fakeSha('next'), 'IN_PROGRESS', 10);
    await app.receive('deployment_status', failed);
    await app.drain();
    fake.addDeploymentStatus(repo.deployments.at(-1)!, 'SUCCESS');
    await app.receive('deployment_status', failed);
    await app.drain();
    expect(ops().filter((o) => o === 'MergeGateRevertFacts')).toHaveLength(3);
    expect(mutations()).toBe(0);

    fake.setDefaultFile(repo, '.github/merge-gate.yml', TRUNK_POLICY.replace('revert: true', 'revert: false'));
    fake.resetRequests();
    await app.receive('deployment_status', deploymentStatusPayload(repo, deploy(repo, sha, 'FAILURE', 30)));
    await app.drain();
    expect(ops()).not.toContain('MergeGateRevertFacts');
    expect(reverts(repo)).toEqual([]);
  });

  test('a pull request body forging the marker does not count as the revert', async () => {
    const repo = setupRepo(fake, TRUNK_POLICY);
    const { sha } = landedByMergeGate(repo);
    const forged = typicalPull(fake, repo, 2);
    forged.labels = ['fix-forward'];
    forged.body = `nothing to see\n${revertMarker(sha)}`;
    app = await startTestApp(fake);
    await app.receive('deployment_status', deploymentStatusPayload(repo, deploy(repo, sha, 'FAILURE')));
    await app.drain();
    expect(mutations()).toBe(1);
    expect(latestRun(repo, forged).text).not.toContain('revert proposed: #2');
  });
});
