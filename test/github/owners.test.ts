// reviews.owners end to end: the app (Probot + merge-gate) against the fake
// GitHub over nock, webhooks in, requests and check runs asserted. Team
// membership is read once for every group that applies and kept across
// evaluations; a pull request touching no group asks for no team; an
// unreadable team blocks, saying what to do; reviews.request asks once per head.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';
import { approve, fileAdding, setupRepo } from '../helpers/github-scenario.js';
import { TEAMS_TTL_MS } from '../../src/github/teams.js';

/** Two path groups, one team each, and CODEOWNERS for everything else under services/. */
const OWNERS_POLICY = `version: 1
preset: none
reviews:
  required: 1
  fresh: true
  owners:
    - name: database
      paths: ["db/**"]
      from: ["@octo/dba", carol]
    - name: frontend
      paths: ["web/**"]
      from: ["@octo/web"]
    - name: code owners
      codeowners: true
`;
const CODEOWNERS = 'services/billing/ @octo/billing\n';

let fake: FakeGitHub;
let app: TestApp | LandingApp | undefined;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
  fake.orgs.addTeam('octo', 'dba', ['dan', 'dora']);
  fake.orgs.addTeam('octo', 'web', ['erin']);
  fake.orgs.addTeam('octo', 'billing', ['bill']);
});

afterEach(() => {
  if (app && 'stop' in app) app.stop();
  else app?.gate.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const setup = (policy = OWNERS_POLICY) => setupRepo(fake, policy, { '.github/CODEOWNERS': CODEOWNERS });
const open = (repo: FakeRepo, files: string[], number = 2) => fake.addPull(repo, { number, files: files.map((f) => fileAdding(f, ['x'])) });
const event = (repo: FakeRepo, pull: FakePull, action = 'edited') => app!.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
const operations = () => fake.apiRequests().filter((r) => r.status !== 304).map((r) => r.operation);
const teamQueries = () => fake.apiRequests().filter((r) => r.operation === 'MergeGateTeams');

describe('team membership', () => {
  test('read once for every group that applies (one query), kept across evaluations for a few minutes', async () => {
    const repo = setup();
    const pull = open(repo, ['db/migrate/001.sql', 'web/app.ts', 'services/billing/pay.ts', 'README.md']);
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    expect(operations()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts', 'MergeGateTeams', 'POST /repos/{owner}/{repo}/check-runs']);
    expect(teamQueries()[0].variables).toMatchObject({ o0: 'octo', s0: 'billing', o1: 'octo', s1: 'dba', o2: 'octo', s2: 'web' });
    let [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('action_required');
    expect(run.summary).toContain('database: 0 / 1 from @octo/dba, carol (db/migrate/001.sql)');

    // Approvals from a member of each team: evaluated again with the members kept.
    fake.resetRequests();
    approve(pull, 'dan');
    approve(pull, 'erin');
    approve(pull, 'bill');
    await app.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull));
    await app.drain();
    expect(operations()).toEqual(['MergeGateFacts', 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}']);
    [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('success');
    expect(run.summary).toContain('database: 1 / 1 from @octo/dba, carol');
    expect(run.summary).toContain('frontend: 1 / 1 from @octo/web');

    // Past the lifetime, members are read again (someone left the team: the group no longer holds).
    fake.orgs.addTeam('octo', 'dba', ['dora']);
    await app.advance(TEAMS_TTL_MS);
    fake.resetRequests();
    await event(repo, pull);
    await app.drain();
    expect(operations()).toEqual(['MergeGateFacts', 'MergeGateTeams', 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}']);
    expect(fake.ourRuns(repo)[0].summary).toContain('database: 0 / 1 from @octo/dba, carol');
  });

  test('a pull request that touches no group makes no team request', async () => {
    const repo = setup();
    const pull = open(repo, ['README.md', 'services/other/x.ts']);
    approve(pull);
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    expect(operations()).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts', 'POST /repos/{owner}/{repo}/check-runs']);
    expect(fake.ourRuns(repo)[0].conclusion).toBe('success');
  });

  test('a team that cannot be read blocks its group with the reason and what to do; never a pass', async () => {
    fake.orgs.addTeam('octo', 'dba', ['dan'], { hidden: true });
    const repo = setup();
    const pull = open(repo, ['db/1.sql']);
    approve(pull, 'dan');
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    const [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('failure');
    expect(`${run.summary}\n${run.text}`).toMatch(/@octo\/dba cannot be read.*"Members: read"/);
  });

  test('without the organisation members permission: every group with a team blocks, saying to grant it', async () => {
    fake.orgs.membersPermission = false;
    const repo = setup();
    const pull = open(repo, ['web/a.ts']);
    approve(pull, 'erin');
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    const [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('failure');
    expect(`${run.summary}\n${run.text}`).toMatch(/Resource not accessible by integration.*an owner of octo must grant it/);
  });

  test('landing re-reads under the lock with the members the evaluation read: an approved pull request lands', async () => {
    const repo = setup(`${OWNERS_POLICY}land:\n  mode: auto\n`);
    const pull = open(repo, ['db/1.sql']);
    approve(pull, 'dora');
    const landing = await startLandingApp(fake);
    app = landing;
    await event(repo, pull, 'opened');
    await landing.settle();
    expect(fake.merges.map((m) => [m.number, m.merged])).toEqual([[2, true]]);
    expect(teamQueries()).toHaveLength(1);
  });
});

describe('over real HTTP (the fake GitHub listening on 127.0.0.1)', () => {
  test('two groups: one team query, none on the next evaluation; the owners asked once for the head', async () => {
    nock.enableNetConnect('127.0.0.1');
    const { fake: served, close } = await FakeGitHub.listening();
    try {
      served.orgs.addTeam('octo', 'dba', ['dan']);
      served.orgs.addTeam('octo', 'web', ['erin']);
      const repo = setupRepo(served, OWNERS_POLICY.replace('  fresh: true\n', '  fresh: true\n  request: true\n'), { '.github/CODEOWNERS': CODEOWNERS });
      const pull = served.addPull(repo, { number: 2, files: [fileAdding('db/1.sql', ['x']), fileAdding('web/a.ts', ['y'])] });
      app = await startTestApp(served);
      for (const action of ['opened', 'edited']) {
        await app.receive('pull_request', pullPayload('pull_request', action, served, repo, pull));
        await app.drain();
      }
      expect(served.apiRequests().filter((r) => r.operation === 'MergeGateTeams')).toHaveLength(1);
      expect(served.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(2);
      expect(served.orgs.reviewRequests).toEqual([{ repo: 'octo/app', number: 2, reviewers: ['carol'], teamReviewers: ['dba', 'web'] }]);
      expect(served.ourRuns(repo)[0].conclusion).toBe('action_required');
      expect(served.problems).toEqual([]);
    } finally {
      app?.gate.stop();
      app = undefined;
      await close();
      nock.disableNetConnect();
    }
  });
});

describe('reviews.request', () => {
  const REQUEST = OWNERS_POLICY.replace('  fresh: true\n', '  fresh: true\n  request: true\n');

  test('off by default: nobody is asked', async () => {
    const repo = setup();
    const pull = open(repo, ['db/1.sql']);
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    expect(fake.orgs.reviewRequests).toEqual([]);
  });

  test('the owners of a group that applies with no approval yet are asked once per head, never twice', async () => {
    const repo = setup(REQUEST);
    const pull = open(repo, ['db/1.sql', 'web/a.ts']);
    approve(pull, 'erin'); // frontend holds: not asked
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    expect(fake.orgs.reviewRequests).toEqual([{ repo: 'octo/app', number: 2, reviewers: ['carol'], teamReviewers: ['dba'] }]);
    expect(pull.requestedTeams).toEqual(['dba']);

    for (const action of ['edited', 'labeled']) await event(repo, pull, action);
    await app.drain();
    expect(fake.orgs.reviewRequests).toHaveLength(1);

    fake.push(repo, pull); // a new head: fresh approvals only, so both groups are asked
    await event(repo, pull, 'synchronize');
    await app.drain();
    expect(fake.orgs.reviewRequests.slice(1)).toEqual([{ repo: 'octo/app', number: 2, reviewers: ['carol'], teamReviewers: ['dba', 'web'] }]);
  });

  test('not in DRY_RUN, and not for a draft', async () => {
    const repo = setup(REQUEST);
    const pull = open(repo, ['db/1.sql']);
    app = await startTestApp(fake, { dryRun: true });
    await event(repo, pull, 'opened');
    await app.drain();
    app.gate.stop();
    pull.draft = true;
    app = await startTestApp(fake);
    await event(repo, pull, 'opened');
    await app.drain();
    expect(fake.orgs.reviewRequests).toEqual([]);
  });
});
