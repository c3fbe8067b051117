// reviews.request: whom merge-gate asks for a review (pure), and asking once per head (the fake GitHub over nock).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { planReviewRequest, ReviewRequests, type RequestableGroup } from '../../src/github/review-requests.js';
import type { Octokit } from '../../src/octokit/types.js';
import type { PullRequestFacts } from '../../src/facts/types.js';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { quietLogger } from '../helpers/github-app.js';

const group = (over: Partial<RequestableGroup> = {}): RequestableGroup => ({ group: 'database', users: ['carol'], teams: ['@octo/dba'], approvers: [], holds: false, ...over });
const teams = { '@octo/dba': { members: ['dan'] }, '@octo/web': { members: ['erin'] }, '@other/x': { members: ['z'] }, '@octo/secret': { error: 'cannot be read' } };
const pull = { author: 'alice', draft: false, org: 'octo', teams };

describe('planReviewRequest', () => {
  test('the users and teams of groups that apply with no approval yet', () => {
    expect(planReviewRequest([group(), group({ group: 'web', users: ['erin', 'carol'], teams: ['@octo/web'] })], pull)).toEqual({
      reviewers: ['carol', 'erin'],
      teamReviewers: ['dba', 'web'],
      groups: ['database', 'web'],
    });
  });

  test('a group with an approval, or that holds, asks no one', () => {
    expect(planReviewRequest([group({ approvers: ['dan'] })], pull)).toBeNull();
    expect(planReviewRequest([group({ holds: true })], pull)).toBeNull();
  });

  test('never the author, a team of another organisation or one that cannot be read; nobody on a draft', () => {
    expect(planReviewRequest([group({ users: ['Alice'], teams: ['@other/x', '@octo/secret', '@octo/unread'] })], pull)).toBeNull();
    expect(planReviewRequest([group()], { ...pull, draft: true })).toBeNull();
  });

  test('whoever was asked on this head already is not asked again', () => {
    expect(planReviewRequest([group()], pull, new Set(['user:carol']))).toEqual({ reviewers: [], teamReviewers: ['dba'], groups: ['database'] });
    expect(planReviewRequest([group()], pull, new Set(['user:carol', 'team:@octo/dba']))).toBeNull();
  });

  test('at most 15 at once', () => {
    const many = Array.from({ length: 20 }, (_, i) => `user${i}`);
    const plan = planReviewRequest([group({ users: many })], pull)!;
    expect(plan.reviewers.length + plan.teamReviewers.length).toBe(15);
  });
});

describe('ReviewRequests against the fake GitHub', () => {
  let fake: FakeGitHub;
  let repo: FakeRepo;
  let pr: FakePull;
  let octokit: Octokit;
  const ref = { installationId: 1, owner: 'octo', repo: 'app', number: 2 };
  const factsOf = (p: FakePull): PullRequestFacts => ({
    repository: 'octo/app',
    number: p.number,
    title: p.title,
    url: '',
    author: { login: p.author, bot: false },
    base: { ref: 'main', sha: 'b'.repeat(40) },
    head: { sha: p.headSha, ref: p.headRef },
    labels: [],
    draft: p.draft,
    state: 'open',
    teams,
  });

  beforeEach(() => {
    nock.disableNetConnect();
    fake = new FakeGitHub().install();
    fake.orgs.addTeam('octo', 'dba', ['dan']);
    repo = fake.addRepo('octo', 'app');
    pr = fake.addPull(repo, { number: 2 });
    octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
  });
  afterEach(() => {
    fake.uninstall();
    expect(fake.problems).toEqual([]);
  });

  test('asked once per head, never twice; a new head asks again', async () => {
    const requests = new ReviewRequests();
    const log = quietLogger() as never;
    await requests.request(octokit, ref, factsOf(pr), [group()], log);
    await requests.request(octokit, ref, factsOf(pr), [group()], log);
    expect(fake.orgs.reviewRequests).toEqual([{ repo: 'octo/app', number: 2, reviewers: ['carol'], teamReviewers: ['dba'] }]);
    expect(pr.requestedReviewers).toEqual(['carol']);
    expect(pr.requestedTeams).toEqual(['dba']);

    fake.push(repo, pr);
    await requests.request(octokit, ref, factsOf(pr), [group()], log);
    expect(fake.orgs.reviewRequests).toHaveLength(2);
  });

  test('a request GitHub refuses is logged, not thrown, and not sent again for the head; a transient failure is tried again', async () => {
    const requests = new ReviewRequests();
    const warnings: unknown[] = [];
    const log = { ...(quietLogger() as object), warn: (...args: unknown[]) => warnings.push(args) } as never;
    const sent = (number: number) => fake.apiRequests().filter((r) => r.path === `/repos/octo/app/pulls/${number}/requested_reviewers`).length;
    // Refused (422): logged, remembered.
    fake.fail({ match: /requested_reviewers$/, status: 422, body: { message: 'Reviews may only be requested from collaborators.' } });
    await requests.request(octokit, ref, factsOf(pr), [group()], log);
    await requests.request(octokit, ref, factsOf(pr), [group()], log);
    expect([sent(2), warnings.length]).toEqual([1, 1]);
    // Transient (502): logged, tried again at the next evaluation.
    const ref5 = { ...ref, number: 5 };
    const p5 = fake.addPull(repo, { number: 5 });
    fake.fail({ match: /requested_reviewers$/, status: 502 });
    await requests.request(octokit, ref5, factsOf(p5), [group()], log);
    await requests.request(octokit, ref5, factsOf(p5), [group()], log);
    await requests.request(octokit, ref5, factsOf(p5), [group()], log);
    expect([sent(5), warnings.length]).toEqual([2, 2]);
    expect(p5.requestedReviewers).toEqual(['carol']);
  });
});
