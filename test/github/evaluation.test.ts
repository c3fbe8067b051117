// The app end to end: probot.receive with real webhook payloads, a fake GitHub
// behind nock, and what the app sent asserted. Every REST body is validated
// against GitHub's OpenAPI description and every GraphQL query against GitHub's
// schema (fake.problems).
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { ManualClock } from '../helpers/github-timers.js';
import { approve, FULL_POLICY, fileAdding, setupRepo, typicalFiles, typicalPull } from '../helpers/github-scenario.js';

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

/** Spin the event loop (no timers) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

const opened = (repo: FakeRepo, number = 2) => pullPayload('pull_request', 'opened', fake, repo, repo.pulls.get(number)!);

describe('a typical pull request', () => {
  test('first evaluation: policy, facts, diff, check run — four requests with every rule configured', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();

    const sent = fake.apiRequests().map((r) => r.operation);
    expect(sent).toEqual([
      'GET /repos/{owner}/{repo}/contents/{path}',
      'MergeGateFacts',
      'GET /repos/{owner}/{repo}/pulls/{pull_number}',
      'POST /repos/{owner}/{repo}/check-runs',
    ]);
    expect(fake.apiRequests()[2].accept).toContain('diff');
    const [run] = fake.ourRuns(repo);
    expect(run).toMatchObject({ name: 'merge-gate', headSha: pull.headSha, status: 'completed', conclusion: 'success' });
    expect(run.summary).toContain('| flags | ✅ pass |');
    expect(run.summary).toContain('| checks | ✅ pass |');
  });

  test('re-evaluation with nothing changed reads, and writes nothing', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    fake.resetRequests();

    await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, repo.pulls.get(2)!));
    await app.drain();
    expect(fake.count().writes).toBe(0);
    // The diff of an unchanged head is remembered: policy and facts only.
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts']);
    expect(fake.ourRuns(repo)).toHaveLength(1);
  });

  test('a changed verdict updates the same check run (PATCH), never a second one for the head', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    pull.reviews = [];
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)[0]).toMatchObject({ conclusion: 'action_required', detailsUrl: `https://github.com/octo/app/pull/2` });

    approve(pull);
    fake.resetRequests();
    await app.receive('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, pull));
    await app.drain();
    const writes = fake.apiRequests().filter((r) => r.method !== 'GET' && r.kind === 'rest');
    expect(writes.map((w) => w.operation)).toEqual(['PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}']);
    expect(fake.ourRuns(repo)).toHaveLength(1);
    expect(fake.ourRuns(repo)[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  test('a push moves the check to the new head: one run per head SHA', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const oldHead = pull.headSha;
    fake.push(repo, pull);
    await app.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await app.drain();
    expect(fake.ourRuns(repo, oldHead)).toHaveLength(1);
    // `fresh: true`: the approval was for the old head, and CI has not reported on the new one.
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'action_required' })]);
  });
});

describe('coalescing', () => {
  test('twenty events for one pull request within a second give one evaluation of the newest state', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { coalesceMs: 1000 });
    for (let i = 0; i < 20; i++) {
      pull.labels = [`label-${i}`]; // the state keeps changing while events arrive
      const action = ['labeled', 'unlabeled', 'edited', 'synchronize'][i % 4];
      await app.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
      await app.advance(45);
    }
    await app.drain();
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(1);
    expect(app.gate.stats.evaluations).toBe(1);
    expect(app.gate.queue.stats.enqueued).toBe(20);
  });

  test('events during an evaluation give exactly one more, and evaluations of one pull request never overlap', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { coalesceMs: 100 });
    let running = 0;
    let overlap = false;
    const evaluate = app.gate.evaluate.bind(app.gate);
    app.gate.evaluate = async (ref) => {
      running++;
      if (running > 1) overlap = true;
      try {
        // Events keep arriving while the evaluation reads GitHub.
        for (let i = 0; i < 5; i++) await app!.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
        return await evaluate(ref);
      } finally {
        running--;
      }
    };
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
    await app.advance(100);
        expect(app.gate.stats.evaluations).toBe(1);
    // Stop the echo: the follow-up evaluation receives nothing more.
    app.gate.evaluate = evaluate;
    await app.drain();
    expect(app.gate.stats.evaluations).toBe(2);
    expect(overlap).toBe(false);
  });
});

describe('time-driven re-evaluation', () => {
  const FREEZE = `version: 1
preset: none
freeze:
  timezone: Europe/London
  windows:
    - name: Havana release freeze
      from: "2026-12-18 00:00"
      to: "2026-12-18 12:00"
`;

  test('a freeze ending re-evaluates the pull request with no event from GitHub', async () => {
    const repo = setupRepo(fake, FREEZE);
    const pull = fake.addPull(repo, { number: 7, files: [fileAdding('README.md', ['hello'])] });
    app = await startTestApp(fake, {}, {}, { clock: new ManualClock('2026-12-18T11:00:00Z') });
    await app.receive('pull_request', opened(repo, 7));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run.status).toBe('in_progress');
    expect(run.title).toContain('Havana release freeze');
    expect(run.externalId).toBe('next=2026-12-18T12:00:00.000Z');
    expect(app.gate.scheduler.due('1:octo/app#7')?.toISOString()).toBe('2026-12-18T12:00:00.000Z');

    fake.resetRequests();
    await app.advance(59 * 60_000);
        expect(fake.apiRequests()).toHaveLength(0); // nothing before the freeze ends
    await app.advance(60_000);
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success', externalId: null })]);
    expect(app.gate.scheduler.size).toBe(0);
  });

  test('a passing pull request is re-evaluated when a freeze begins', async () => {
    const repo = setupRepo(fake, FREEZE);
    const pull = fake.addPull(repo, { number: 8, files: [fileAdding('README.md', ['hello'])] });
    app = await startTestApp(fake, {}, {}, { clock: new ManualClock('2026-12-17T23:30:00Z') });
    await app.receive('pull_request', opened(repo, 8));
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)[0]).toMatchObject({ conclusion: 'success', externalId: 'next=2026-12-18T00:00:00.000Z' });
    await app.advance(30 * 60_000);
    await app.drain();
    // GitHub will not reopen a completed run: a new one supersedes it.
    const runs = fake.ourRuns(repo, pull.headSha);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'success'], ['in_progress', null]]);
    // And the next look, with nothing changed, finds the newest run and writes nothing.
    fake.resetRequests();
    await app.receive('pull_request', opened(repo, 8));
    await app.drain();
    expect(fake.count().writes).toBe(0);
    expect(fake.ourRuns(repo, pull.headSha)).toHaveLength(2);
  });

  test('after a restart, timers come back from the check runs (no evaluation needed) and waiting checks are re-evaluated', async () => {
    const repo = setupRepo(fake, FREEZE);
    const frozen = fake.addPull(repo, { number: 7, files: [fileAdding('README.md', ['hello'])] });
    const waitingForCi = fake.addPull(repo, { number: 9, files: [fileAdding('README.md', ['hi'])] });
    fake.addPull(repo, { number: 10 }); // no check of ours: not touched
    fake.addCheckRun(repo, { appId: fake.appId, name: 'merge-gate', headSha: frozen.headSha, status: 'in_progress', conclusion: null, externalId: 'next=2026-12-18T12:00:00.000Z' });
    fake.addCheckRun(repo, { appId: fake.appId, name: 'merge-gate', headSha: waitingForCi.headSha, status: 'in_progress', conclusion: null });
    app = await startTestApp(fake, {}, {}, { clock: new ManualClock('2026-12-18T11:00:00Z') });
    const counts = await app.gate.resumeAfterRestart();
    expect(counts).toEqual({ installations: 1, repositories: 1, scheduled: 1, evaluated: 1 });
    expect(app.gate.scheduler.due('1:octo/app#7')?.toISOString()).toBe('2026-12-18T12:00:00.000Z');
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['GET /app/installations', 'GET /installation/repositories', 'MergeGateOpenPulls']);
    await app.drain();
    expect(fake.ourRuns(repo, waitingForCi.headSha)[0].externalId).toBe('next=2026-12-18T12:00:00.000Z'); // re-evaluated: frozen too
    await app.advance(60 * 60_000);
    await app.drain();
    expect(fake.ourRuns(repo, frozen.headSha)[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  test('the restart scan waits for the GraphQL rate limit to reset when points run low', async () => {
    const repo = setupRepo(fake);
    for (let n = 1; n <= 150; n++) fake.addPull(repo, { number: n });
    fake.rateRemaining = 10;
    app = await startTestApp(fake);
    let done = false;
    const scan = app.gate.resumeAfterRestart().then(() => (done = true));
    await until(() => app!.clock.timerCount > 0); // the scan read one page and waits
    await app.advance(10_000);
    expect(done).toBe(false);
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateOpenPulls')).toHaveLength(1);
    fake.rateRemaining = 5000; // the reset
    await app.advance(3600_000);
    await scan;
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateOpenPulls')).toHaveLength(2);
  });
});

describe('the diff', () => {
  test('406 (too large) falls back to per-file patches, and hunks still name lines', async () => {
    const repo = setupRepo(fake);
    const files = typicalFiles(3);
    files.push(fileAdding('src/feature/extra.ts', ['const a = 1;', "if (isEnabled('no-such-flag')) a();"]));
    const pull = typicalPull(fake, repo, 2, files);
    fake.diffTooLarge.add(pull.number);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const ops = fake.apiRequests().map((r) => r.operation);
    expect(ops).toContain('GET /repos/{owner}/{repo}/pulls/{pull_number}/files');
    const diffRequests = fake.apiRequests().filter((r) => r.operation === 'GET /repos/{owner}/{repo}/pulls/{pull_number}');
    expect(diffRequests).toHaveLength(1); // not retried: a 406 is final
    const [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('failure');
    expect(run.annotations).toEqual([expect.objectContaining({ path: 'src/feature/extra.ts', start_line: 2, annotation_level: 'failure' })]);
  });

  test('a pull request of more than 300 files goes straight to per-file patches, which give its files too', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo, 2, typicalFiles(301, 1));
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const ops = fake.apiRequests().map((r) => r.operation);
    expect(ops).not.toContain('GET /repos/{owner}/{repo}/pulls/{pull_number}');
    expect(ops.filter((o) => o === 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files')).toHaveLength(4);
    expect(ops).not.toContain('MergeGateMore'); // the files past 100 come from that listing
    expect(fake.ourRuns(repo)[0].conclusion).toBe('success');
    expect(fake.ourRuns(repo)[0].summary).toContain('301 / 5000 lines');

    // Nothing changed: neither the files past 100 nor the patches are read again.
    fake.resetRequests();
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
    await app.drain();
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts']);
  });

  test('a file GitHub shows no patch for fails closed, and says which', async () => {
    const repo = setupRepo(fake);
    const files = typicalFiles(2);
    files.push({ path: 'src/feature/huge.ts', status: 'added', additions: 9000, deletions: 0 });
    files.push({ path: 'web/package-lock.json', status: 'modified', additions: 15000, deletions: 9000 }); // excluded: fine
    typicalPull(fake, repo, 2, files);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'fail: merge-gate could not read this pull request' });
    expect(run.summary).toContain('src/feature/huge.ts');
    expect(run.summary).not.toContain('package-lock');
  });
});

describe('policy', () => {
  test('a policy error fails the check with an annotation at the line of the error', async () => {
    const repo = setupRepo(fake, 'version: 1\nsize:\n  max_lines: "five hundred"\nreviewz:\n  required: 1\n');
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.text).toContain('.github/merge-gate.yml:3:14 size.max_lines');
    expect(run.annotations).toEqual([
      expect.objectContaining({ path: '.github/merge-gate.yml', start_line: 3, start_column: 14, annotation_level: 'failure' }),
      expect.objectContaining({ path: '.github/merge-gate.yml', start_line: 4, message: expect.stringContaining('did you mean "reviews"') }),
    ]);
    // The raw text is read once, only because there were errors.
    expect(fake.apiRequests().filter((r) => r.operation === 'GET /repos/{owner}/{repo}/contents/{path}')).toHaveLength(2);
  });

  test('unparseable YAML is a policy error with its line, not a crash', async () => {
    const repo = setupRepo(fake, 'version: 1\nsize:\n  max_lines: [1, 2\n');
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('failure');
    expect(run.annotations).toEqual([expect.objectContaining({ path: '.github/merge-gate.yml', start_line: expect.any(Number) })]);
    expect(run.text).toMatch(/YAML syntax error/);
  });

  test('_extends merges an organisation policy under the repository file, lists replacing', async () => {
    const shared = fake.addRepo('octo', 'policies', { files: { '.github/merge-gate.yml': 'version: 1\npreset: none\nchecks:\n  required: ["ci/test", "ci/lint"]\nreviews:\n  required: 3\n' } });
    expect(shared.name).toBe('policies');
    const repo = setupRepo(fake, '_extends: policies\nchecks:\n  required: ["ci/test"]\n');
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    // reviews.required 3 from the extended file; checks.required replaced (ci/lint not required).
    expect(run.summary).toContain('1 / 3 approvals');
    expect(run.summary).toMatch(/\| checks \| ✅ pass \|/);
  });

  test('no policy file: nothing is written', async () => {
    const repo = setupRepo(fake, null);
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([]);
    expect(fake.count().writes).toBe(0);
  });

  test('a base branch that is not gated gets a skipped check', async () => {
    const repo = setupRepo(fake, `${FULL_POLICY}branches: [main]\n`);
    const pull = typicalPull(fake, repo);
    pull.baseRef = 'experiments';
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)[0]).toMatchObject({ status: 'completed', conclusion: 'skipped' });
    // Not gated: no hunks are read.
    expect(fake.apiRequests().map((r) => r.operation)).not.toContain('GET /repos/{owner}/{repo}/pulls/{pull_number}');
  });
});

describe('failing closed', () => {
  test('GitHub 502 on the facts query: nothing written, retried later, then the check', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 } });
    fake.fail({ match: /^MergeGateFacts$/, status: 502 });
    await app.receive('pull_request', opened(repo));
    await app.advance(1000);
        expect(fake.ourRuns(repo)).toEqual([]); // no pass from half-read facts
    expect(app.gate.queue.stats.retries).toBe(1);
    await app.advance(4_999);
        expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(1); // backoff holds
    await app.advance(1);
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
  });

  test('a rate limit with retry-after is honoured', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 } });
    fake.fail({ method: 'GET', match: /contents/, status: 403, headers: { 'retry-after': '30' }, body: { message: 'You have exceeded a secondary rate limit' } });
    await app.receive('pull_request', opened(repo));
    await app.advance(1000);
        await app.advance(29_000);
        expect(fake.ourRuns(repo)).toEqual([]);
    await app.advance(1_000);
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
  });

  test('when GitHub keeps failing, the previous check stays and the retries are bounded', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 } });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const before = { ...fake.ourRuns(repo)[0] };
    pull.reviews = []; // would fail now, if only GitHub answered
    fake.fail({ match: /^MergeGateFacts$/, status: 503, times: 100 });
    await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
    await app.drain(600_000);
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(1 + 3);
    expect(app.gate.queue.stats.failures).toBe(1);
    expect(fake.ourRuns(repo)[0]).toEqual(before);
  });
});

describe('operating modes', () => {
  test('DRY_RUN reports, and never calls the landing hook', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    const landed: number[] = [];
    app = await startTestApp(fake, { dryRun: true }, { onPass: async ({ ref }) => void landed.push(ref.number) });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)[0].conclusion).toBe('success');
    expect(fake.ourRuns(repo)[0].summary).toContain('Dry run');
    expect(landed).toEqual([]);
  });

  test('without DRY_RUN a pass reaches the landing hook', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    const landed: number[] = [];
    app = await startTestApp(fake, { dryRun: false }, { onPass: async ({ ref }) => void landed.push(ref.number) });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)[0].summary).not.toContain('Dry run');
    expect(landed).toEqual([2]);
  });

  test('GHE_HOST / GHE_PROTOCOL: every request goes to that host, GraphQL to /api/graphql', async () => {
    fake.uninstall();
    fake = new FakeGitHub({ baseUrl: 'http://ghe.example.test:8080/api/v3' }).install();
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake, {}, {}, { env: { GHE_HOST: 'ghe.example.test:8080', GHE_PROTOCOL: 'http' } });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(fake.apiRequests().map((r) => r.operation)).toContain('MergeGateFacts');
    expect(fake.requests.length).toBeGreaterThanOrEqual(5);
  });

  test('drafts are evaluated like any pull request; closed ones are not', async () => {
    const repo = setupRepo(fake);
    const draft = typicalPull(fake, repo, 2);
    draft.draft = true;
    const closed = typicalPull(fake, repo, 3);
    app = await startTestApp(fake);
    await app.receive('pull_request', pullPayload('pull_request', 'converted_to_draft', fake, repo, draft));
    await app.drain();
    expect(fake.ourRuns(repo, draft.headSha)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    // Closed between the event and the evaluation: read, not written.
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, closed));
    closed.state = 'CLOSED';
    await app.drain();
    expect(fake.ourRuns(repo, closed.headSha)).toEqual([]);
  });
});
