// The gate learns why it evaluates (issue #22): each webhook handler, the
// timer, the restart and policy scans give a cause; requests that coalesce
// collect theirs; every verdict goes to onEvaluated with them (a failure
// there never fails the evaluation). Real payloads against the fake GitHub.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { aimAt, example, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { fileAdding, setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { ManualClock } from '../helpers/github-timers.js';
import type { EvaluationRecord } from '../../src/pages/types.js';

let fake: FakeGitHub;
let app: TestApp | undefined;
let repo: FakeRepo;
let pull: FakePull;
let records: EvaluationRecord[];
let onEvaluated: (r: EvaluationRecord) => void;

beforeEach(async () => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
  repo = setupRepo(fake);
  pull = typicalPull(fake, repo, 2);
  records = [];
  onEvaluated = (r) => records.push(r);
  app = await startTestApp(fake, {}, { onEvaluated: (r) => onEvaluated(r) });
});

afterEach(() => {
  app?.gate.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

const causes = () => records.map((r) => r.causes);

describe('the causes of an evaluation', () => {
  test('each event names itself; events that coalesce give one evaluation with all their causes, deduplicated', async () => {
    await app!.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app!.advance(0); // the leading edge
    for (const action of ['labeled', 'edited', 'labeled']) await app!.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
    await app!.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull));
    await app!.drain();
    expect(causes()).toEqual([['pull_request.opened'], ['pull_request.labeled', 'pull_request.edited', 'pull_request_review.submitted']]);
    expect(records[1]).toMatchObject({ repository: 'octo/app', number: 2, headSha: pull.headSha, outcome: 'pass', seen: 1 });
    expect(records[1].approvals).toEqual([expect.objectContaining({ login: 'bob', counted: true, why: null })]);
  });

  test('a status looked up by head, and a push that changes the policy, say so', async () => {
    await app!.receive('status', Object.assign(aimAt(example('status'), fake, repo), { sha: pull.headSha, context: 'ci/test' }));
    await app!.drain();
    const push = aimAt(example('push', undefined, (x) => x.ref === 'refs/heads/master'), fake, repo);
    push.ref = 'refs/heads/main';
    push.commits = [{ ...push.commits[0], added: [], modified: ['.github/merge-gate.yml'], removed: [] }];
    await app!.receive('push', push);
    await app!.drain();
    expect(causes()).toEqual([['status'], ['policy changed']]);
  });

  test('the causes survive a retry', async () => {
    fake.fail({ match: /^MergeGateFacts$/, status: 502 });
    await app!.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await app!.drain();
    expect(app!.gate.queue.stats.retries).toBe(1);
    expect(causes()).toEqual([['pull_request.synchronize']]);
  });

  test('a policy with errors is recorded too; no policy is not', async () => {
    fake.setDefaultFile(repo, '.github/merge-gate.yml', 'reviews: {required: many}\n');
    await app!.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app!.drain();
    expect(records.map((r) => [r.outcome, r.results[0].rule])).toEqual([['fail', 'policy']]);
    fake.setDefaultFile(repo, '.github/merge-gate.yml', null);
    await app!.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
    await app!.drain();
    expect(records).toHaveLength(1);
  });

  test('a freeze ending re-evaluates by the timer, and says so', async () => {
    app!.gate.stop();
    fake.setDefaultFile(repo, '.github/merge-gate.yml', 'version: 1\npreset: none\nfreeze:\n  timezone: UTC\n  windows:\n    - name: release\n      from: "2026-12-18 00:00"\n      to: "2026-12-18 12:00"\n');
    const frozen = fake.addPull(repo, { number: 7, files: [fileAdding('README.md', ['hello'])] });
    app = await startTestApp(fake, {}, { onEvaluated: (r) => onEvaluated(r) }, { clock: new ManualClock('2026-12-18T11:00:00Z') });
    await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, frozen));
    await app.drain();
    await app.advance(60 * 60_000);
    await app.drain();
    expect(records.map((r) => [r.number, r.outcome, r.causes])).toEqual([[7, 'wait', ['pull_request.opened']], [7, 'pass', ['timer']]]);
  });

  test('a history that throws never fails the evaluation: the check is written, no retry', async () => {
    onEvaluated = () => {
      throw new Error('disk full');
    };
    await app!.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await app!.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(app!.gate.queue.stats.retries).toBe(0);
  });
});
