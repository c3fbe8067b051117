// The app end to end: probot.receive with real webhook payloads, a fake GitHub
// behind nock, and what the app sent asserted. Every REST body is validated
// against GitHub's OpenAPI description and every GraphQL query against GitHub's
// schema (fake.problems).
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { aimAt, example, pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
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

const opened = (repo: FakeRepo, number = 2) => pullPayload('pull_request', 'opened', fake, repo, repo.pulls.get(number)!);

/** A one-off freeze on 18 December 2026, 00:00–12:00 London (GMT: the same in UTC). */
const FREEZE = `version: 1
preset: none
freeze:
  timezone: Europe/London
  windows:
    - name: Havana release freeze
      from: "2026-12-18 00:00"
      to: "2026-12-18 12:00"
`;

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
  test('twenty events for one pull request within a second: the first evaluated at once, the other nineteen in one more evaluation', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { coalesceMs: 1000 });
    for (let i = 0; i < 20; i++) {
      pull.labels = [`label-${i}`]; // the state keeps changing while events arrive
      const action = ['labeled', 'unlabeled', 'edited', 'synchronize'][i % 4];
      await app.receive('pull_request', pullPayload('pull_request', action, fake, repo, pull));
      await app.advance(45);
    }
    expect(app.gate.stats.evaluations).toBe(1);
    await app.drain();
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(2);
    expect(app.gate.stats.evaluations).toBe(2);
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
    await app.advance(99); // evaluated at once (an idle pull request); the one more is due 100 ms after it
    expect(app.gate.stats.evaluations).toBe(1);
    // Stop the echo: the follow-up evaluation receives nothing more.
    app.gate.evaluate = evaluate;
    await app.drain();
    expect(app.gate.stats.evaluations).toBe(2);
    expect(overlap).toBe(false);
  });
});

describe('time-driven re-evaluation', () => {
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

  test('a restart scan that fails (GitHub failing at start) is tried again after MERGE_GATE_GIVE_UP_RETRY_MS', async () => {
    const repo = setupRepo(fake, FREEZE);
    const waiting = fake.addPull(repo, { number: 9, files: [fileAdding('README.md', ['hi'])] });
    fake.addCheckRun(repo, { appId: fake.appId, name: 'merge-gate', headSha: waiting.headSha, status: 'in_progress', conclusion: null });
    fake.fail({ match: /^\/app\/installations$/, status: 502 });
    app = await startTestApp(fake, { scheduleOnStart: true, giveUpRetryMs: 60_000 }, {}, { clock: new ManualClock('2026-12-18T11:00:00Z') });
    const scans = () => fake.apiRequests().filter((r) => r.operation === 'GET /app/installations').length;
    await app.clock.armed(); // the first scan failed and armed its retry
    expect(scans()).toBe(1);
    await app.advance(59_000);
    expect(scans()).toBe(1); // not before MERGE_GATE_GIVE_UP_RETRY_MS
    await app.advance(1_000);
    // The second scan runs on its own, outside the queue: until it has queued the waiting pull request.
    for (const until = Date.now() + 10_000; app.gate.queue.size === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
    await app.drain();
    expect(scans()).toBe(2);
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts').map((r) => r.variables?.number)).toEqual([9]); // re-evaluated
  });

  test('the restart scan reads our newest run, whichever of our suites lists it first', async () => {
    const repo = setupRepo(fake, FREEZE);
    const pull = fake.addPull(repo, { number: 7, files: [fileAdding('README.md', ['hello'])] });
    // An older waiting run with a timer in the first suite; the newest run (second suite) passed and has none.
    fake.addCheckRun(repo, { id: 7001, suite: 1, appId: fake.appId, name: 'merge-gate', headSha: pull.headSha, status: 'in_progress', conclusion: null, externalId: 'next=2026-12-18T12:00:00.000Z' });
    fake.addCheckRun(repo, { id: 7002, suite: 2, appId: fake.appId, name: 'merge-gate', headSha: pull.headSha, status: 'completed', conclusion: 'success' });
    app = await startTestApp(fake, {}, {}, { clock: new ManualClock('2026-12-18T13:00:00Z') });
    expect(await app.gate.resumeAfterRestart()).toEqual({ installations: 1, repositories: 1, scheduled: 0, evaluated: 0 });
    expect(app.gate.scheduler.size).toBe(0);
  });

  test('the restart scan waits for the GraphQL rate limit to reset when points run low', async () => {
    const repo = setupRepo(fake);
    for (let n = 1; n <= 150; n++) fake.addPull(repo, { number: n });
    fake.rateRemaining = 10;
    app = await startTestApp(fake);
    let done = false;
    const scan = app.gate.resumeAfterRestart().then(() => (done = true));
    await app.clock.armed(); // the scan read one page and waits
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

describe('.gitattributes', () => {
  const SMALL = 'version: 1\npreset: none\nsize:\n  max_lines: 10\n  linguist_generated: true\n';
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`);

  test('is read at the base: a pull request marking its own files generated does not get its lines excluded', async () => {
    const repo = setupRepo(fake, SMALL, { '.gitattributes': 'dist/** linguist-generated\n' });
    const files = [fileAdding('src/big.ts', lines(30)), fileAdding('dist/bundle.js', lines(40)), fileAdding('.gitattributes', ['* linguist-generated'])];
    const pull = fake.addPull(repo, { number: 2, files }, { '.gitattributes': '* linguist-generated\n' });
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run.conclusion).toBe('failure');
    // dist/** is generated by the base's word; src/big.ts and .gitattributes itself count.
    expect(run.summary).toContain('31 / 10 lines, 1 file excluded');
    // Still one facts query, no extra read.
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'MergeGateFacts', 'POST /repos/{owner}/{repo}/check-runs']);
  });

  test('one that cannot be read as text fails the check, naming it', async () => {
    const repo = setupRepo(fake, SMALL, { '.gitattributes': 'dist/** linguist-generated\n' });
    const pull = fake.addPull(repo, { number: 2, files: [fileAdding('src/a.ts', lines(3))] });
    fake.binaryBlobs.add('.gitattributes');
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'fail: merge-gate could not read this pull request' });
    expect(run.summary).toContain('.gitattributes could not be read: it is a binary file');
    expect(app.gate.queue.stats.retries).toBe(0); // explained, not retried
  });

  test('a flag registry too large for GraphQL that the contents API refuses fails the check, naming it', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    fake.truncatedBlobs.add('flags.yml');
    fake.fail({ method: 'GET', match: /contents\/flags\.yml/, status: 403, body: { message: 'This API returns blobs up to 100 MB in size' }, times: 10 });
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run).toMatchObject({ conclusion: 'failure', title: 'fail: merge-gate could not read this pull request' });
    expect(run.summary).toMatch(/flags\.yml could not be read at [0-9a-f]{7}/);
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
    // Read once: merge-gate's own reader gives the lines and columns from the same text.
    expect(fake.apiRequests().filter((r) => r.operation === 'GET /repos/{owner}/{repo}/contents/{path}')).toHaveLength(1);
  });

  test.each([
    ['without checks.required', 'version: 1\nland:\n  queue:\n    batch: 4\n', 3, '.github/merge-gate.yml:3:3 land.queue: needs checks.required: '],
    ['with up_to_date: true', 'version: 1\nchecks:\n  required: [ci/test]\nland:\n  up_to_date: true\n  queue: {}\n', 6, '.github/merge-gate.yml:6:3 land.queue: cannot be used with land.up_to_date: true'],
  ])('land.queue %s fails closed: the check fails at the queue key and nothing lands', async (_name, policy, line, error) => {
    const repo = setupRepo(fake, policy);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo, pull.headSha);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.text).toContain(error);
    expect(run.annotations).toEqual([expect.objectContaining({ path: '.github/merge-gate.yml', start_line: line, start_column: 3, annotation_level: 'failure' })]);
    expect(fake.merges).toEqual([]);
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

  test('no policy file: nothing is written, and only the policy is read', async () => {
    const repo = setupRepo(fake, null);
    typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([]);
    expect(fake.count().writes).toBe(0);
    // The repository's file, then the organisation's `.github` fallback; no facts query.
    expect(fake.apiRequests().map((r) => `${r.operation} ${r.path}`)).toEqual([
      'GET /repos/{owner}/{repo}/contents/{path} /repos/octo/app/contents/.github%2Fmerge-gate.yml',
      'GET /repos/{owner}/{repo}/contents/{path} /repos/octo/.github/contents/.github%2Fmerge-gate.yml',
    ]);
    expect(fake.count().total).toBe(2);
  });

  test('a policy removed: a push of the change marks the check left on each open pull request skipped; ordinary events cost the policy read only', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake);
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);

    fake.setDefaultFile(repo, '.github/merge-gate.yml', null);
    fake.resetRequests();
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
    await app.drain();
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['GET /repos/{owner}/{repo}/contents/{path}', 'GET /repos/{owner}/{repo}/contents/{path}']);

    const push = aimAt(example('push', undefined, (x) => x.ref === 'refs/heads/master'), fake, repo);
    push.ref = 'refs/heads/main';
    push.commits = [{ ...push.commits[0], added: [], modified: [], removed: ['.github/merge-gate.yml'] }];
    fake.fail({ match: /^MergeGateFacts$/, status: 502 }); // the reason to look survives a retry
    await app.receive('push', push);
    await app.drain();
    expect(app.gate.queue.stats.retries).toBe(1);
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'skipped' })]);
    expect(fake.ourRuns(repo)[0].summary).toContain('no .github/merge-gate.yml on the default branch');
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
    await app.advance(0); // an idle pull request: evaluated at once
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
    await app.advance(0); // an idle pull request: evaluated at once
    await app.advance(29_999);
    expect(fake.ourRuns(repo)).toEqual([]);
    await app.advance(1);
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
  });

  test('when GitHub keeps failing: bounded retries, then the check fails closed, and a slower retry recovers with no event', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, giveUpRetryMs: 5 * 60_000 });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    const [run] = fake.ourRuns(repo);
    expect(run.conclusion).toBe('success');
    pull.reviews = []; // would fail now, if only GitHub answered
    fake.fail({ match: /^MergeGateFacts$/, status: 503, times: 1000 });
    fake.resetRequests();
    await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
    await app.drain(600_000);
    // Three attempts, then the give-up's own look at the head, which fails too.
    expect(fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts')).toHaveLength(3 + 1);
    expect(app.gate.queue.stats.failures).toBe(1);
    // GitHub cannot even be read: the run the last evaluation wrote is marked, without reading it first.
    expect(fake.ourRuns(repo)).toEqual([
      expect.objectContaining({ id: run.id, status: 'completed', conclusion: 'failure', title: 'fail: merge-gate could not evaluate this pull request' }),
    ]);
    expect(fake.ourRuns(repo)[0].summary).toContain('GitHub kept answering 503');
    // Keep trying, slower: due in five minutes, and nothing happens before then.
    const retryAt = app.clock.now().getTime() + 5 * 60_000;
    expect(app.gate.scheduler.due('1:octo/app#2')?.getTime()).toBe(retryAt);
    expect(fake.ourRuns(repo)[0].externalId).toBe(`next=${new Date(retryAt).toISOString()}`); // so a restart re-arms it
    fake.resetRequests();
    await app.advance(5 * 60_000 - 1);
    expect(fake.apiRequests()).toEqual([]);

    // GitHub recovers; the retry evaluates with no event.
    fake.failures.length = 0;
    await app.advance(1);
    await app.drain();
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ id: run.id, status: 'completed', conclusion: 'action_required' })]);
    expect(app.gate.scheduler.size).toBe(0);
  });

  test('when only the policy read keeps failing, the give-up reads the head and writes the failure there', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 } });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    // A push: the new head has no run of ours yet, and the policy cannot be read.
    fake.push(repo, pull);
    fake.fail({ method: 'GET', match: /contents/, status: 502, times: 1000 });
    await app.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await app.drain(600_000);
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure', title: 'fail: merge-gate could not evaluate this pull request' })]);
    const failed = fake.ourRuns(repo, pull.headSha)[0];

    // Failing the same way again writes nothing new: the check already says so.
    fake.resetRequests();
    await app.advance(app.config.giveUpRetryMs);
    await app.drain(600_000);
    expect(fake.apiRequests().filter((r) => r.method === 'GET' && r.operation?.includes('contents'))).toHaveLength(2);
    expect(fake.count().writes).toBe(0);
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([failed]);

    fake.failures.length = 0;
    await app.advance(app.config.giveUpRetryMs);
    await app.drain();
    // `fresh: true`: the approval was for the old head.
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ id: failed.id, conclusion: 'action_required' })]);
  });

  test('a repository without a policy gets no failure check when GitHub fails, but is retried', async () => {
    const repo = setupRepo(fake, null);
    typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 } });
    fake.fail({ method: 'GET', match: /contents/, status: 502, times: 1000 });
    await app.receive('pull_request', opened(repo));
    await app.drain(600_000);
    expect(fake.ourRuns(repo)).toEqual([]);
    expect(fake.count().writes).toBe(0);
    expect(app.gate.scheduler.due('1:octo/app#2')).not.toBeNull();
  });

  test('a pull request closed while GitHub failed is dropped by the give-up, not retried', async () => {
    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 } });
    fake.fail({ method: 'GET', match: /contents/, status: 502, times: 1000 });
    await app.receive('pull_request', opened(repo));
    pull.state = 'CLOSED';
    await app.drain(600_000);
    expect(fake.ourRuns(repo)).toEqual([]);
    expect(app.gate.scheduler.size).toBe(0);
  });

  test('a landing hook that fails does not turn the written verdict into "could not evaluate"', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake, { retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 } }, { onPass: async () => Promise.reject(Object.assign(new Error('merge 502'), { status: 502 })) });
    await app.receive('pull_request', opened(repo));
    await app.drain(600_000);
    expect(app.gate.queue.stats.failures).toBe(1);
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(app.gate.scheduler.due('1:octo/app#2')).not.toBeNull(); // landing is tried again later
  });

  test('a landing hook that fails for good is not retried by the timer', async () => {
    const repo = setupRepo(fake);
    typicalPull(fake, repo);
    app = await startTestApp(fake, {}, { onPass: async () => Promise.reject(Object.assign(new Error('Pull Request is not mergeable'), { status: 405 })) });
    await app.receive('pull_request', opened(repo));
    await app.drain();
    expect(app.gate.queue.stats).toMatchObject({ retries: 0, failures: 1 });
    expect(fake.ourRuns(repo)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
    expect(app.gate.scheduler.size).toBe(0);
  });
});

describe('failing closed at a freeze boundary', () => {
  test('a passing pull request whose freeze-start re-evaluation fails is not left passing, and recovers when GitHub does', async () => {
    const repo = setupRepo(fake, FREEZE);
    const pull = fake.addPull(repo, { number: 8, files: [fileAdding('README.md', ['hello'])] });
    app = await startTestApp(fake, { retry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, giveUpRetryMs: 5 * 60_000 }, {}, { clock: new ManualClock('2026-12-17T23:30:00Z') });
    await app.receive('pull_request', opened(repo, 8));
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha)).toEqual([expect.objectContaining({ conclusion: 'success', externalId: 'next=2026-12-18T00:00:00.000Z' })]);

    // GitHub is down when the freeze begins.
    fake.fail({ match: /^MergeGateFacts$/, status: 502, times: 1000 });
    fake.fail({ method: 'GET', match: /contents/, status: 502, times: 1000 });
    await app.advance(30 * 60_000);
    await app.drain(600_000);
    const runs = fake.ourRuns(repo, pull.headSha);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'failure']]); // no green check during the freeze
    expect(runs[0].title).toBe('fail: merge-gate could not evaluate this pull request');
    // The boundary is not lost: a retry is armed although the timer that fired is spent.
    expect(app.gate.scheduler.due('1:octo/app#8')?.toISOString()).toBe('2026-12-18T00:05:03.000Z'); // attempts at 00:00:00, :01, :03, then five minutes

    // Still down at the first retry: still failing, retried again.
    await app.advance(5 * 60_000 + 3_000);
    await app.drain(600_000);
    expect(fake.ourRuns(repo, pull.headSha).map((r) => r.conclusion)).toEqual(['failure']);
    expect(app.gate.scheduler.due('1:octo/app#8')).not.toBeNull();

    // GitHub recovers: frozen (waiting, a new run since GitHub will not reopen a completed one), then passing when the freeze ends.
    fake.failures.length = 0;
    await app.advance(10 * 60_000);
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha).map((r) => [r.status, r.conclusion])).toEqual([['completed', 'failure'], ['in_progress', null]]);
    expect(fake.ourRuns(repo, pull.headSha)[1].title).toContain('Havana release freeze');
    expect(app.gate.scheduler.due('1:octo/app#8')?.toISOString()).toBe('2026-12-18T12:00:00.000Z');
    await app.advance(12 * 3600_000);
    await app.drain();
    expect(fake.ourRuns(repo, pull.headSha).map((r) => [r.status, r.conclusion])).toEqual([['completed', 'failure'], ['completed', 'success']]);
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
