// `reviews.owners` facts from GitHub (the fake, over nock): CODEOWNERS at the
// base in the facts query, team membership in one query for every team,
// cached per installation, and teams that cannot be read.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { validate as validateQuery } from '@octokit/graphql-schema';
import { GitHubPullRequestSource } from '../../src/github/facts.js';
import { readTeams, TeamsCache, TEAMS_TTL_MS, teamsQuery } from '../../src/github/teams.js';
import type { Octokit } from '../../src/octokit/types.js';
import type { FactNeeds } from '../../src/facts/types.js';
import { gatherFacts } from '../../src/rules/index.js';
import { validPolicy as policy } from '../helpers/policy.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { ManualClock } from '../helpers/github-timers.js';
import { fileAdding } from '../helpers/github-scenario.js';

const OWNERS: FactNeeds = { reviews: true, files: true, checks: false, registryPath: null, gitattributes: false, owners: { teams: ['@octo/dba'], codeowners: true } };

let fake: FakeGitHub;
let repo: FakeRepo;
let octokit: Octokit;
let clock: ManualClock;
let cache: TeamsCache;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
  repo = fake.addRepo('octo', 'app');
  octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
  clock = new ManualClock();
  cache = new TeamsCache(clock);
});
afterEach(() => {
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const source = (number: number) =>
  new GitHubPullRequestSource({ octokit, owner: 'octo', repo: 'app', number, appId: fake.appId, checkName: 'merge-gate', teamsCache: { store: cache, installationId: 1 } });
/** Two path groups, one team each. */
const TWO_GROUPS = policy(`preset: none
reviews:
  owners:
    - { name: database, paths: ["db/**"], from: ["@octo/dba"] }
    - { name: frontend, paths: ["web/**"], from: ["@Octo/Frontend"] }
`);
const operations = () => fake.apiRequests().map((r) => r.operation);

describe('CODEOWNERS', () => {
  test.each([
    ['.github/CODEOWNERS', { '.github/CODEOWNERS': '* @octo/a\n', CODEOWNERS: '* @octo/b\n', 'docs/CODEOWNERS': '* @octo/c\n' }],
    ['CODEOWNERS', { CODEOWNERS: '* @octo/b\n', 'docs/CODEOWNERS': '* @octo/c\n' }],
    ['docs/CODEOWNERS', { 'docs/CODEOWNERS': '* @octo/c\n' }],
  ])('read at the base from %s, the first of the places GitHub looks, in the facts query', async (path, files) => {
    for (const [p, text] of Object.entries(files)) fake.setDefaultFile(repo, p, text);
    fake.addPull(repo, { number: 2, files: [fileAdding('src/a.ts', ['x'])] });
    const facts = await source(2).load(OWNERS);
    expect(facts.codeowners).toEqual({ path, text: files[path as keyof typeof files] });
    expect(operations()).toEqual(['MergeGateFacts']);
  });

  test('never at the head: a pull request that rewrites CODEOWNERS is judged by the base one', async () => {
    fake.setDefaultFile(repo, '.github/CODEOWNERS', 'db/ @octo/dba\n');
    fake.addPull(repo, { number: 2, files: [fileAdding('.github/CODEOWNERS', ['* @alice'])] }, { '.github/CODEOWNERS': '* @alice\n' });
    expect((await source(2).load(OWNERS)).codeowners).toEqual({ path: '.github/CODEOWNERS', text: 'db/ @octo/dba\n' });
  });

  test('none at the base: null; not asked for without a codeowners group', async () => {
    fake.addPull(repo, { number: 2 }, { CODEOWNERS: '* @alice\n' });
    expect((await source(2).load(OWNERS)).codeowners).toBeNull();
    const without = await source(2).load({ ...OWNERS, owners: { teams: [], codeowners: false } });
    expect(without).not.toHaveProperty('codeowners');
    expect(fake.apiRequests().at(-1)!.variables).toMatchObject({ codeowners: false });
  });
});

describe('team membership', () => {
  beforeEach(() => {
    fake.orgs.addTeam('octo', 'dba', ['carol', 'dan']);
    fake.orgs.addTeam('octo', 'frontend', ['erin']);
  });

  test('the teams of the groups that apply, in one query, cached across evaluations for a few minutes', async () => {
    fake.addPull(repo, { number: 2, files: [fileAdding('db/1.sql', ['x']), fileAdding('web/a.ts', ['y'])] });
    const facts = await gatherFacts(TWO_GROUPS, source(2));
    expect(facts.teams).toEqual({ '@octo/dba': { members: ['carol', 'dan'] }, '@octo/frontend': { members: ['erin'] } });
    expect(operations()).toEqual(['MergeGateFacts', 'MergeGateTeams']);

    fake.resetRequests();
    await gatherFacts(TWO_GROUPS, source(2));
    expect(operations()).toEqual(['MergeGateFacts']); // members from the cache

    clock.set(new Date(clock.now().getTime() + TEAMS_TTL_MS));
    fake.orgs.addTeam('octo', 'dba', ['carol', 'dan', 'frank']);
    fake.resetRequests();
    expect((await gatherFacts(TWO_GROUPS, source(2))).teams!['@octo/dba']).toEqual({ members: ['carol', 'dan', 'frank'] });
    expect(operations()).toEqual(['MergeGateFacts', 'MergeGateTeams']);
  });

  test('a pull request that touches no group makes no team request', async () => {
    fake.addPull(repo, { number: 2, files: [fileAdding('README.md', ['x'])] });
    const facts = await gatherFacts(TWO_GROUPS, source(2));
    expect(facts.teams).toBeUndefined();
    expect(operations()).toEqual(['MergeGateFacts']);
  });

  test('teams that cannot be read get the reason and what an administrator must do; the others are read in the same query', async () => {
    fake.orgs.addTeam('octo', 'secret-ops', ['x'], { hidden: true });
    const answer = await readTeams(octokit, ['@octo/dba', '@octo/secret-ops', '@octo/nope', '@ghost-org/team', 'octo-dba']);
    expect(answer['@octo/dba']).toEqual({ members: ['carol', 'dan'] });
    for (const team of ['@octo/secret-ops', '@octo/nope']) expect(answer[team]).toEqual({ error: expect.stringMatching(/no such team .*secret.*"Members: read"/) });
    expect(answer['@ghost-org/team']).toEqual({ error: expect.stringMatching(/no organisation ghost-org .*check the name/) });
    expect(answer['octo-dba']).toEqual({ error: expect.stringMatching(/not a team name/) });
    expect(operations()).toEqual(['MergeGateTeams']);
  });

  test('without the organisation members permission every team says to grant it, and nothing is cached', async () => {
    fake.orgs.membersPermission = false;
    const store = { store: cache, installationId: 1 };
    const answer = await readTeams(octokit, ['@octo/dba', '@octo/frontend'], store);
    expect(answer['@octo/dba']).toEqual({ error: expect.stringMatching(/Resource not accessible by integration.*lacks the organisation permission "Members: read"; an owner of octo must grant it/) });
    expect(answer['@octo/frontend']).toHaveProperty('error');
    fake.orgs.membersPermission = true; // granted: the next evaluation reads them
    expect(await readTeams(octokit, ['@octo/dba'], store)).toEqual({ '@octo/dba': { members: ['carol', 'dan'] } });
    expect(operations()).toEqual(['MergeGateTeams', 'MergeGateTeams']);
  });

  test('a team past 100 members is paged, alone', async () => {
    const many = Array.from({ length: 230 }, (_, i) => `user${i}`);
    fake.orgs.addTeam('octo', 'everyone', many);
    const answer = await readTeams(octokit, ['@octo/everyone', '@octo/dba']);
    expect(answer['@octo/everyone']).toEqual({ members: many });
    expect(answer['@octo/dba']).toEqual({ members: ['carol', 'dan'] });
    const calls = fake.apiRequests();
    expect(calls.map((r) => r.operation)).toEqual(['MergeGateTeams', 'MergeGateTeams', 'MergeGateTeams']);
    expect(Object.keys(calls[1].variables!)).toEqual(['o0', 's0', 'a0']);
  });

  test('the cache is per installation, and bounded', () => {
    const small = new TeamsCache(clock, TEAMS_TTL_MS, 2);
    small.set(1, '@octo/a', ['x']);
    expect(small.get(2, '@octo/a')).toBeUndefined();
    small.set(1, '@octo/b', ['y']);
    small.set(1, '@octo/c', ['z']);
    expect([small.get(1, '@octo/a'), small.get(1, '@octo/b'), small.get(1, '@octo/c')]).toEqual([undefined, ['y'], ['z']]);
  });

  test('a failure of the whole query is thrown (retried), never a pass or an empty team', async () => {
    fake.fail({ match: /^MergeGateTeams$/, status: 502 });
    await expect(readTeams(octokit, ['@octo/dba'])).rejects.toMatchObject({ status: 502 });
  });

  test('names are variables, never part of the document; the document is valid against GitHub\'s schema', () => {
    for (const n of [1, 3]) expect(validateQuery(teamsQuery(n))).toEqual([]);
    expect(teamsQuery(2)).not.toMatch(/octo/);
  });
});
