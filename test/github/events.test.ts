// Which events lead to which evaluations: real payloads from
// @octokit/webhooks-examples, aimed at a fake repository.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { aimAt, checkPayload, example, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { PULL_REQUEST_ACTIONS, REVIEW_ACTIONS } from '../../src/github/app.js';

let fake: FakeGitHub;
let app: TestApp | undefined;
let repo: FakeRepo;
let pull: FakePull;

beforeEach(async () => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
  repo = setupRepo(fake);
  pull = typicalPull(fake, repo, 2);
  app = await startTestApp(fake);
});

afterEach(() => {
  app?.gate.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

/** Pull requests evaluated (facts queries sent), by number. */
function evaluated(): number[] {
  return fake
    .apiRequests()
    .filter((r) => r.operation === 'MergeGateFacts')
    .map((r) => r.variables!.number as number);
}

const ops = () => fake.apiRequests().map((r) => r.operation);

describe('pull request events', () => {
  test.each(PULL_REQUEST_ACTIONS.map((a) => a.split('.')[1]))('pull_request.%s evaluates the pull request', async (action) => {
    await app!.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
    await app!.drain();
    expect(evaluated()).toEqual([2]);
    expect(fake.ourRuns(repo, pull.headSha)).toHaveLength(1);
  });

  test.each(REVIEW_ACTIONS.map((a) => a.split('.')[1]))('pull_request_review.%s evaluates the pull request', async (action) => {
    await app!.receive('pull_request_review', pullPayload('pull_request_review', action, fake, repo, pull));
    await app!.drain();
    expect(evaluated()).toEqual([2]);
  });

  test('the first event of an idle pull request is evaluated at once (leading edge); events soon after give exactly one more, the window after the last (trailing edge)', async () => {
    const t0 = app!.clock.now().getTime();
    const factsAt: number[] = [];
    fake.onRequest = (r) => {
      if (r.operation === 'MergeGateFacts') factsAt.push(app!.clock.now().getTime() - t0);
    };
    await app!.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app!.advance(0);
    expect(factsAt).toEqual([0]); // no coalescing window on an idle pull request
    for (const action of ['labeled', 'edited']) {
      await app!.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
      await app!.advance(300);
    }
    await app!.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull));
    await app!.advance(999); // the window (1 s here) after the last event, at 600 ms
    expect(factsAt).toEqual([0]);
    await app!.advance(1);
    await app!.drain();
    expect(factsAt).toEqual([0, 1600]);
  });

  test('pull_request.closed drops what was pending, and other actions (assigned) do nothing', async () => {
    await app!.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
    expect(app!.gate.queue.size).toBe(1);
    pull.state = 'CLOSED';
    await app!.receive('pull_request', pullPayload('pull_request', 'closed', fake, repo, pull));
    await app!.receive('pull_request', pullPayload('pull_request', 'assigned', fake, repo, pull));
    expect(app!.gate.queue.size).toBe(0);
    await app!.drain();
    expect(fake.apiRequests()).toEqual([]);
  });

  test('an event without an installation is ignored', async () => {
    const payload = pullPayload('pull_request', 'opened', fake, repo, pull);
    delete payload.installation;
    await app!.receive('pull_request', payload);
    await app!.drain();
    expect(fake.requests).toEqual([]);
  });
});

describe('checks and statuses', () => {
  const checkRunPayload = (action: string, appId: number, pulls: 'same-repo' | 'none') =>
    checkPayload('check_run', action, fake, repo, { appId, headSha: pull.headSha, pulls: pulls === 'none' ? [] : [pull] });
  const checkSuitePayload = (action: string, appId: number, pulls: 'same-repo' | 'none') =>
    checkPayload('check_suite', action, fake, repo, { appId, headSha: pull.headSha, pulls: pulls === 'none' ? [] : [pull] });

  test("check_run.completed of another app evaluates the pull requests it lists, with no lookup", async () => {
    await app!.receive('check_run', checkRunPayload('completed', 29310, 'same-repo'));
    await app!.drain();
    expect(evaluated()).toEqual([2]);
    expect(ops()).not.toContain('MergeGateOpenPulls');
  });

  test('check_run.completed and check_suite.completed of our own app are ignored (no loop)', async () => {
    await app!.receive('check_run', checkRunPayload('completed', fake.appId, 'same-repo'));
    await app!.receive('check_suite', checkSuitePayload('completed', fake.appId, 'same-repo'));
    await app!.drain();
    expect(fake.requests).toEqual([]);
    expect(app!.gate.queue.stats.enqueued).toBe(0);
  });

  test('check_suite.completed of another app with no pull requests listed (a fork) finds them by head SHA', async () => {
    pull.fork = true;
    const other = typicalPull(fake, repo, 3); // another open pull request, another head
    await app!.receive('check_suite', checkSuitePayload('completed', 29310, 'none'));
    await app!.drain();
    expect(ops()[0]).toBe('MergeGateOpenPulls');
    expect(evaluated()).toEqual([2]);
    expect(fake.ourRuns(repo, other.headSha)).toEqual([]);
  });

  test('a status on the head of a fork pull request reaches it', async () => {
    pull.fork = true;
    pull.headRef = 'contributor:topic';
    const status = aimAt(example('status'), fake, repo);
    status.sha = pull.headSha;
    status.context = 'ci/test';
    await app!.receive('status', status);
    await app!.drain();
    expect(ops().slice(0, 2)).toEqual(['MergeGateOpenPulls', 'GET /repos/{owner}/{repo}/contents/{path}']);
    expect(evaluated()).toEqual([2]);
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
  });

  test('a status on a commit no open pull request has: one lookup, no evaluation', async () => {
    const status = aimAt(example('status'), fake, repo);
    await app!.receive('status', status);
    await app!.drain();
    expect(ops()).toEqual(['MergeGateOpenPulls']);
  });

  test('once a repository is listed, a status on a known head goes straight to its pull request (no lookup); one on an unknown head is looked up', async () => {
    const status = (sha: string) => Object.assign(aimAt(example('status'), fake, repo), { sha, context: 'ci/test' });
    await app!.receive('status', status(pull.headSha)); // the first: a lookup, which keeps the open pull requests' heads
    await app!.drain();
    expect(ops().filter((o) => o === 'MergeGateOpenPulls')).toHaveLength(1);
    fake.push(repo, pull); // a new head, announced by its synchronize event
    await app!.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await app!.drain();
    fake.resetRequests();

    await app!.receive('status', status(pull.headSha));
    await app!.drain();
    expect(ops()).not.toContain('MergeGateOpenPulls');
    expect(evaluated()).toEqual([2]);

    fake.resetRequests();
    await app!.receive('status', status('f'.repeat(40)));
    await app!.drain();
    expect(ops()).toEqual(['MergeGateOpenPulls']);
  });

  test('twenty statuses on one head: one lookup; the first is evaluated at once, the other nineteen coalesce into one more evaluation', async () => {
    for (let i = 0; i < 20; i++) {
      const status = aimAt(example('status'), fake, repo);
      status.sha = pull.headSha;
      status.context = `ci/job-${i}`;
      await app!.receive('status', status);
      await app!.advance(40);
    }
    expect(evaluated()).toEqual([2]);
    await app!.drain();
    expect(ops().filter((o) => o === 'MergeGateOpenPulls')).toHaveLength(1);
    expect(evaluated()).toEqual([2, 2]);
  });

  test('check_run.rerequested (the Re-run button) on our check re-evaluates; on another app’s check it does not', async () => {
    await app!.receive('check_run', checkRunPayload('rerequested', 29310, 'none'));
    await app!.drain();
    expect(fake.requests).toEqual([]);
    await app!.receive('check_run', checkRunPayload('rerequested', fake.appId, 'none'));
    await app!.drain();
    expect(evaluated()).toEqual([2]);
  });

  test('check_suite.rerequested on our suite re-evaluates', async () => {
    await app!.receive('check_suite', checkSuitePayload('rerequested', fake.appId, 'same-repo'));
    await app!.drain();
    expect(evaluated()).toEqual([2]);
  });
});

describe('push', () => {
  function pushPayload(files: { added?: string[]; modified?: string[]; removed?: string[] }, ref = 'refs/heads/main'): Record<string, any> {
    const p = aimAt(example('push', undefined, (x) => x.ref === 'refs/heads/master'), fake, repo);
    p.ref = ref;
    p.commits = [{ ...p.commits[0], added: files.added ?? [], modified: files.modified ?? [], removed: files.removed ?? [] }];
    return p;
  }

  test('a push to the default branch that changes the policy re-evaluates every open pull request', async () => {
    typicalPull(fake, repo, 3);
    const closed = typicalPull(fake, repo, 4);
    closed.state = 'CLOSED';
    await app!.receive('push', pushPayload({ modified: ['.github/merge-gate.yml'] }));
    await app!.drain();
    expect(ops()[0]).toBe('MergeGateOpenPulls');
    expect(evaluated().sort()).toEqual([2, 3]);
  });

  test('a push that does not touch the policy, or to another branch, does nothing', async () => {
    await app!.receive('push', pushPayload({ modified: ['README.md'] }));
    await app!.receive('push', pushPayload({ modified: ['.github/merge-gate.yml'] }, 'refs/heads/feature'));
    await app!.receive('push', pushPayload({ modified: ['.github/merge-gate.yml'] }, 'refs/tags/v1'));
    await app!.drain();
    expect(fake.requests).toEqual([]);
  });

  test("a push to the organisation's .github repository re-evaluates the installation's repositories", async () => {
    const orgRepo = fake.addRepo('octo', '.github', { files: { '.github/merge-gate.yml': 'version: 1\n' } });
    const p = pushPayload({ added: ['.github/merge-gate.yml'] });
    aimAt(p, fake, orgRepo);
    await app!.receive('push', p);
    await app!.drain();
    expect(ops()[0]).toBe('GET /installation/repositories');
    expect(evaluated()).toEqual([2]);
  });
});
