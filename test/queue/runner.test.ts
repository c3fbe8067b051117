// The merge queue's shell (src/queue: store, runner, batch landing, the gate's
// hooks) in one process against the fake GitHub over real HTTP
// (test/helpers/queue-app.ts): batches landing, by fast-forward and by merges
// with the tree check.
import { describe, expect, test } from '@jest/globals';
import { setupRepo } from '../helpers/github-scenario.js';
import { pullPayload } from '../helpers/github-app.js';
import { statusWebhook } from '../helpers/github-fake-webhooks.js';
import { queuePolicy, QueueScenario } from '../helpers/queue-app.js';
import { queueScenarioEachTest } from '../helpers/queue-each-test.js';
import { openDb } from '../../src/state/db.js';
import { appMetrics } from '../../src/metrics/app.js';
import { stagingRef } from '../../src/queue/types.js';
import { queueViews } from '../../src/pages/views.js';

let q: QueueScenario;
queueScenarioEachTest((s) => (q = s));

describe('a batch landing', () => {
  test('method merge: three pull requests tested together land with one fast-forward and one trunk-updated naming all three', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const before = repo.branches.get('main')!;
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    expect(q.staging(repo)).toEqual([stagingRef('main', 1)]);
    expect(q.fake.git.stagingMerges.map((m) => m.head)).toEqual(pulls.map((p) => p.headSha));
    for (const pull of pulls) expect(q.title(repo, pull)).toMatch(/^testing in batch 1/);

    const stagingSha = await q.ci(app, repo, 1, 'SUCCESS');
    expect(repo.branches.get('main')).toBe(stagingSha);
    expect(q.fake.git.refUpdates.filter((u) => u.branch === 'main')).toEqual([{ repo: 'octo/app', branch: 'main', from: before, to: stagingSha, force: false }]);
    expect(q.fake.merges).toEqual([]); // no merge call: the tested commit itself is the base now
    for (const pull of pulls) {
      expect(pull.state).toBe('MERGED');
      expect(q.title(repo, pull)).toBe(`Landed as ${stagingSha.slice(0, 7)} in batch 1`);
    }
    await app.settle();
    expect(q.receiver.received).toHaveLength(1);
    const event = q.receiver.received[0].json;
    expect(event).toMatchObject({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', before, after: stagingSha, pull_request: { number: 4 } });
    expect(event.pull_requests.map((p: { number: number; head_sha: string }) => [p.number, p.head_sha])).toEqual(pulls.map((p) => [p.number, p.headSha]));
    expect(q.staging(repo)).toEqual([]); // the staging branch is deleted once landed
    // "Which pull requests did this commit bring?" knows a batch (the trunk rule's lookup; src/land/journal.ts).
    expect(app.landing.journal.landedCommit('OCTO/app', stagingSha)).toMatchObject({
      repository: 'octo/app', branch: 'main', before, after: stagingSha, batch: 1,
      pulls: pulls.map((p) => ({ number: p.number, headSha: p.headSha, title: p.title, url: `https://github.com/octo/app/pull/${p.number}` })),
    });
    expect(app.landing.journal.landedCommit('octo/app', pulls[0].headSha)).toBeNull();
    // /metrics: the queue's figures, from its state in the database.
    const metrics = await appMetrics({ db: app.landing.db, clock: app.clock, gate: () => app.gate }).metrics();
    expect(metrics).toContain('merge_gate_queue_depth{repository="octo/app",branch="main"} 0');
    expect(metrics).toContain('merge_gate_queue_batches_total{outcome="passed"} 1');
    expect(metrics).toContain('merge_gate_queue_ci_runs_total 1');
    expect(metrics).toContain('merge_gate_queue_landed_total 3');
    expect(metrics).toMatch(/merge_gate_queue_ci_runs_per_landing 0\.333/);
    expect(metrics).toContain('merge_gate_queue_time_to_land_seconds_count 3');
    // The pages (src/pages/views.ts): the landing, each pull request's time in queue from the join instant kept with it.
    const [view] = queueViews(app.landing.db, app.clock.now().getTime());
    expect(view.recent.map((l) => [l.batch, l.sha, l.pulls.map((p) => p.number)])).toEqual([[1, stagingSha, [2, 3, 4]]]);
    for (const p of view.recent[0].pulls) expect(p.waitedMs).toEqual(expect.any(Number));
    expect(view.expectedWaitMs).toEqual(expect.any(Number));
  });
});

describe('squash and rebase batches', () => {
  test('squash: each pull request merged in order with its head SHA pinned, the tree checked against the staging tree, one trunk-updated', async () => {
    const repo = setupRepo(q.fake, queuePolicy('squash'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    for (const pull of pulls) repo.branches.set(pull.headRef, pull.headSha);
    const before = repo.branches.get('main')!;
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    const stagingSha = await q.ci(app, repo, 1, 'SUCCESS');
    await app.settle();
    expect(q.fake.merges.map((m) => [m.number, m.sha, m.method, m.status])).toEqual(pulls.map((p) => [p.number, p.headSha, 'squash', 200]));
    const after = repo.branches.get('main')!;
    expect(after).not.toBe(stagingSha);
    expect(q.fake.treeOid(repo, after)).toBe(q.fake.treeOid(repo, stagingSha));
    expect(q.receiver.received.map((r) => [r.json.before, r.json.after, r.json.pull_requests.map((p: { number: number }) => p.number)])).toEqual([[before, after, [2, 3, 4]]]);
    for (const pull of pulls) expect(q.title(repo, pull)).toBe(`Landed as ${after.slice(0, 7)} in batch 1`);
    for (const pull of pulls) expect(repo.branches.has(pull.headRef)).toBe(false); // land.delete_branch (the default)
    // The commit announced (the base's head after the batch) brought all three; the staging head never landed.
    expect(app.landing.journal.landedCommit('octo/app', after)).toMatchObject({ before, after, batch: 1, pulls: pulls.map((p) => ({ number: p.number, headSha: p.headSha })) });
    expect(app.landing.journal.landedCommit('octo/app', stagingSha)).toBeNull();
  });

  test('a push by hand between the merges of a batch: the tree check fails, nothing is announced, the log and the checks say so, and the batch behind is rebuilt on the new head', async () => {
    const repo = setupRepo(q.fake, queuePolicy('squash', 'batch: 2\nspeculative: 2\nwait: 30s'));
    const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    await app.advance(30_000); // #4's batch waits 30 s for more, then starts on top of batch 1
    await app.settle();
    expect(q.staging(repo).sort()).toEqual([stagingRef('main', 1), stagingRef('main', 2)]);
    let pushed: { before: string; after: string } | null = null;
    q.fake.mergeFault = (pull) => {
      if (pull.number === 3 && !pushed) pushed = q.fake.git.pushByHand(repo, 'main', { 'NOTES.md': 'by hand' });
      return 'none';
    };
    await q.ci(app, repo, 1, 'SUCCESS');
    expect(pushed).not.toBeNull();
    const mismatched = repo.branches.get('main')!;
    expect(q.fake.merges.map((m) => m.number)).toEqual([2, 3]); // it stopped after the tree check: nothing merged twice
    expect(q.receiver.received).toEqual([]); // an untested tree is never announced
    expect(app.errors.map((e) => String((e as { msg?: string }).msg ?? e))).toEqual(expect.arrayContaining([expect.stringContaining("main's tree is not the staging tree that passed")]));
    for (const pull of pulls.slice(0, 2)) expect(q.title(repo, pull)).toBe('merged, but main then differed from what the queue tested');
    // #4 was tested on top of batch 1's staging head, which never became main: rebuilt on main as it is now.
    const rebuilt = q.staging(repo);
    expect(rebuilt).toHaveLength(1);
    expect(q.fake.parents.get(repo.branches.get(rebuilt[0])!)?.[0]).toBe(mismatched);
    const batch = Number(rebuilt[0].split('/').at(-1));
    await q.ci(app, repo, batch, 'SUCCESS');
    await app.settle();
    expect(q.fake.merges.map((m) => m.number)).toEqual([2, 3, 4]);
    expect(q.receiver.received.map((r) => [r.json.before, r.json.pull_requests.map((p: { number: number }) => p.number)])).toEqual([[mismatched, [4]]]);
  });
});

describe('what the check says of CI on the staging branch', () => {
  test('"waiting for ci/test to start" until CI reports ci/test there (another check on the staging head changes nothing); "(ci/test pending)" once it did', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 1\nspeculative: 1\nwait: 0s'));
    const pull = q.pull(repo, 2);
    const app = await q.app(openDb(':memory:'));
    await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    const sha = repo.branches.get(stagingRef('main', 1))!;
    const say = async (context: string, state: 'PENDING' | 'SUCCESS') => {
      const hook = statusWebhook(q.fake, repo, q.fake.git.ciStatus(repo, sha, context, state));
      await app.receive(hook.name, hook.payload);
      await app.settle();
    };
    expect(q.title(repo, pull)).toMatch(/^testing in batch 1 since \d\d:\d\d UTC \(waiting for ci\/test to start\)$/);
    await say('lint/other', 'PENDING'); // a check the policy does not require: the batch's checks are read again
    expect(q.title(repo, pull)).toMatch(/^testing in batch 1 since \d\d:\d\d UTC \(waiting for ci\/test to start\)$/);
    await say('ci/test', 'PENDING');
    expect(q.title(repo, pull)).toMatch(/^testing in batch 1 since \d\d:\d\d UTC \(ci\/test pending\)$/);
    await say('ci/test', 'SUCCESS');
    expect(q.title(repo, pull)).toMatch(/^Landed as \w{7} in batch 1$/);
  });
});

describe('order', () => {
  test('priority_label goes ahead, also when the label comes while the pull request waits in the queue', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 3\nspeculative: 1\nwait: 30s\npriority_label: urgent'));
    const [a, b, c] = [2, 3, 4].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of [a, b]) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    expect(q.staging(repo)).toEqual([]); // a batch of two waits for a third
    expect(q.title(repo, b)).toBe('queued: 2nd of 2 for main');
    b.labels = ['Urgent'];
    await app.receive('pull_request', pullPayload('pull_request', 'labeled', q.fake, repo, b));
    await app.settle();
    expect(q.title(repo, b)).toBe('queued: 1st of 2 for main');
    await app.receive('pull_request', q.opened(repo, c));
    await app.settle();
    expect(q.fake.git.stagingMerges.map((m) => m.head)).toEqual([b, a, c].map((p) => p.headSha));
    await q.ci(app, repo, 1, 'SUCCESS');
    expect([a, b, c].map((p) => p.state)).toEqual(['MERGED', 'MERGED', 'MERGED']);
    expect(q.announced()).toEqual([[3, 2, 4]]);
  });
});

describe('/metrics before anything landed', () => {
  test('a queue with nothing landed yet shows every figure at 0, the time-to-land histogram included (a missing series is not a 0)', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge'));
    const app = await q.app(openDb(':memory:'));
    await app.receive('pull_request', q.opened(repo, q.pull(repo, 2)));
    await app.settle();
    const metrics = await appMetrics({ db: app.landing.db, clock: app.clock, gate: () => app.gate }).metrics();
    expect(metrics).toContain('merge_gate_queue_depth{repository="octo/app",branch="main"} 1');
    expect(metrics).toContain('merge_gate_queue_landed_total 0');
    expect(metrics).toContain('merge_gate_queue_ci_runs_per_landing 0');
    expect(metrics).toContain('merge_gate_queue_time_to_land_seconds_count 0');
    expect(metrics).toContain('merge_gate_queue_time_to_land_seconds_sum 0');
    expect(metrics).toContain('merge_gate_queue_time_to_land_seconds_bucket{le="+Inf"} 0');
  });
});

describe('what a notify costs GitHub', () => {
  test('a pull request joining moves the others\' queue line: their checks are rewritten from the verdicts at hand (one PATCH each), no evaluation, no facts query', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 4\nspeculative: 1\nwait: 30s'));
    const [a, b, c] = [2, 3, 4].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of [a, b]) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    expect([a, b].map((p) => q.title(repo, p))).toEqual(['queued: 1st of 2 for main', 'queued: 2nd of 2 for main']);
    const evaluations = app.gate.stats.evaluations;
    q.fake.resetRequests();

    await app.receive('pull_request', q.opened(repo, c));
    await app.settle();
    expect([a, b, c].map((p) => q.title(repo, p))).toEqual(['queued: 1st of 3 for main', 'queued: 2nd of 3 for main', 'queued: 3rd of 3 for main']);
    const api = q.fake.apiRequests().filter((r) => r.status !== 304);
    // Only the pull request that joined was read (its facts); the others' checks were written over, once each.
    const facts = api.filter((r) => r.operation === 'MergeGateFacts').map((r) => r.variables?.number);
    expect(facts).toEqual([c.number]);
    expect(app.gate.stats.evaluations).toBe(evaluations + 1);
    const runOf = (p: typeof a) => q.fake.ourRuns(repo, p.headSha).at(-1)!.id;
    const writes = api.filter((r) => r.kind === 'rest' && /\/check-runs/.test(r.path)).map((r) => `${r.method} ${r.path}`);
    expect(writes.sort()).toEqual(['POST /repos/octo/app/check-runs', `PATCH /repos/octo/app/check-runs/${runOf(a)}`, `PATCH /repos/octo/app/check-runs/${runOf(b)}`].sort());
  });

  test('a batch landing: from the CI report to the checks saying "Landed as", no evaluation (a notify coming after the landing leaves the check to it), each pull request read once (the re-check)', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 2\nspeculative: 1\nwait: 30s'));
    const pulls = [2, 3].map((n) => q.pull(repo, n));
    const app = await q.app(openDb(':memory:'));
    for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
    await app.settle();
    const evaluations = app.gate.stats.evaluations;
    q.fake.resetRequests();

    const sha = await q.ci(app, repo, 1, 'SUCCESS');
    await app.settle();
    for (const pull of pulls) expect(q.title(repo, pull)).toBe(`Landed as ${sha.slice(0, 7)} in batch 1`);
    expect(app.gate.stats.evaluations).toBe(evaluations);
    // Each pull request read once: its rules re-checked right before the landing ("Landed as" is written over the check as this process wrote it).
    const facts = q.fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts').map((r) => r.variables?.number);
    expect(facts.sort()).toEqual([2, 3]);
  });

  test('after a restart no verdict is at hand: a notify evaluates the pull requests again, and their checks say where they are', async () => {
    const repo = setupRepo(q.fake, queuePolicy('merge', 'batch: 4\nspeculative: 1\nwait: 30s'));
    const [a, b, c] = [2, 3, 4].map((n) => q.pull(repo, n));
    const db = openDb(':memory:');
    const first = await q.app(db);
    for (const pull of [a, b]) await first.receive('pull_request', q.opened(repo, pull));
    await first.settle();
    first.stop();
    const app = await q.app(db, first.clock);
    await app.settle();
    q.fake.resetRequests();

    await app.receive('pull_request', q.opened(repo, c));
    await app.settle();
    expect([a, b, c].map((p) => q.title(repo, p))).toEqual(['queued: 1st of 3 for main', 'queued: 2nd of 3 for main', 'queued: 3rd of 3 for main']);
    const facts = q.fake.apiRequests().filter((r) => r.operation === 'MergeGateFacts').map((r) => r.variables?.number);
    expect([...new Set(facts)].sort()).toEqual([a.number, b.number, c.number]);
  });
});
