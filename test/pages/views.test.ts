// The state database read into the pages' views (src/pages/views.ts), with
// real SQLite: queue states built by the real core (decide) and saved with
// QueueStore, a batch landing journalled as the lander does, evaluations
// recorded in the history.
import { describe, expect, test } from '@jest/globals';
import { EvaluationHistory } from '../../src/history/store.js';
import { trunkUpdated } from '../../src/land/decide.js';
import { OutboxStore } from '../../src/outbox/outbox.js';
import { decide, describe as describePull, initialQueue, type QueueState } from '../../src/queue/core.js';
import { BatchJournal } from '../../src/queue/journal.js';
import { describeQueued, type QueuedStatus } from '../../src/queue/messages.js';
import { queueKey, QueueStore, type QueueSetup } from '../../src/queue/store.js';
import type { QueueEvent, QueueSettings } from '../../src/queue/types.js';
import { median, pullView, queueViews } from '../../src/pages/views.js';
import { openDb, type Db } from '../../src/state/db.js';
import { evaluationAt } from '../history/records.js';

const SETTINGS: QueueSettings = { batch: 1, speculative: 2, waitMs: 0, timeoutMs: 3_600_000, retries: 1, staging: true };
const SETUP: QueueSetup = { settings: SETTINGS, method: 'merge', required: ['ci/test'], allowNeutral: false };
const T0 = Date.parse('2026-12-05T10:00:00Z');
const MIN = 60_000;
const where = { installationId: 1, repository: 'Octo/App', branch: 'main' };

/** The real core, as the runner drives it. */
function run(state: QueueState, events: Array<[number, QueueEvent]>): QueueState {
  for (const [at, event] of events) state = decide(state, event, SETTINGS, at).state;
  return state;
}
const join = (n: number): QueueEvent => ({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: false } });

/** #1 joined at T0 and landed in batch 1 at T0+10 min; #2 joined at +11 and is under test in batch 2 (ci/test pending); #3 joined at +12. */
function scenario(db: Db): QueueState {
  const store = new QueueStore(db);
  const journal = new BatchJournal(db, new OutboxStore(db));
  let state = run(initialQueue('main', 'base0'), [[T0, join(1)], [T0, { kind: 'built', batch: 1, sha: 's1', tree: 't1' }], [T0 + MIN, { kind: 'checks', batch: 1, sha: 's1', outcome: 'success' }]]);
  const id = { key: queueKey(where), batch: 1, stagingSha: 's1' };
  journal.intend({ ...id, ...where, stagingTree: 't1', method: 'merge', before: 'base0', pulls: [{ number: 1, headSha: 'h1', title: 'First', url: 'https://github.com/Octo/App/pull/1', author: 'alice', joinedAt: state.pulls[0].joinedAt }], targets: [], deleteBranch: false }, T0 + 9 * MIN);
  journal.landed(id, 's1', (r) => trunkUpdated({ id: 'e1', repository: r.repository, branch: r.branch, before: r.before, after: 's1', pull_requests: [{ number: 1, title: 'First', url: 'https://github.com/Octo/App/pull/1', author: 'alice', head_sha: 'h1' }], landed_at: new Date(T0 + 10 * MIN).toISOString() }), T0 + 10 * MIN);
  state = run(state, [
    [T0 + 10 * MIN, { kind: 'landed', batch: 1, after: 's1' }],
    [T0 + 11 * MIN, join(2)],
    [T0 + 11 * MIN, { kind: 'built', batch: 2, sha: 's2', tree: 't2' }],
    [T0 + 11 * MIN, { kind: 'checks', batch: 2, sha: 's2', outcome: 'pending', pending: ['ci/test'] }],
    [T0 + 12 * MIN, join(3)],
  ]);
  store.save(where, state, SETUP, [], null, T0 + 12 * MIN);
  // A queue with nothing queued and nothing landed: left out.
  store.save({ installationId: 1, repository: 'Octo/Quiet', branch: 'main' }, initialQueue('main', 'q0'), SETUP, [], null, T0);
  return state;
}

describe('queueViews', () => {
  test('each queued pull request in order, with what its check says, its batch and since when; the last landings with their time in queue; the expected wait', () => {
    const db = openDb(':memory:');
    const history = new EvaluationHistory(db);
    history.record(evaluationAt(T0 + 11 * MIN, { repository: 'Octo/App', number: 2, title: '<img src=x onerror=alert(1)>', author: 'bob', url: 'https://github.com/Octo/App/pull/2' }));
    const state = scenario(db);
    const views = queueViews(db, T0 + 13 * MIN);
    expect(views.map((v) => [v.repository, v.branch])).toEqual([['Octo/App', 'main']]);
    const [q] = views;
    expect(q.pulls.map((p) => [p.position, p.number, p.batch, p.status.kind])).toEqual([[1, 2, 2, 'testing'], [2, 3, expect.any(Number), 'building']]);
    for (const p of q.pulls) expect(p.says).toBe(describeQueued(describePull(state, p.number) as QueuedStatus).title); // the check's own words
    expect(q.pulls[0]).toMatchObject({ title: '<img src=x onerror=alert(1)>', author: 'bob', url: 'https://github.com/Octo/App/pull/2', joinedAt: T0 + 11 * MIN, since: T0 + 11 * MIN });
    expect(q.pulls[0].says).toBe('testing in batch 2 since 10:11 UTC (ci/test pending)');
    expect(q.pulls[1]).toMatchObject({ title: null, author: null, url: null, joinedAt: T0 + 12 * MIN });
    expect(q.recent).toEqual([{ batch: 1, sha: 's1', landedAt: T0 + 10 * MIN, pulls: [{ number: 1, title: 'First', url: 'https://github.com/Octo/App/pull/1', waitedMs: 10 * MIN }] }]);
    expect(q.expectedWaitMs).toBe(10 * MIN);
  });

  test('no queue at all: none; the median of an even count is the mean of the middle two', () => {
    expect(queueViews(openDb(':memory:'), T0)).toEqual([]);
    expect(median([])).toBeNull();
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('pullView', () => {
  test('the latest evaluation, its place in the queue, and the history newest first with what changed', () => {
    const db = openDb(':memory:');
    const history = new EvaluationHistory(db);
    history.record(evaluationAt(T0, { repository: 'Octo/App', number: 2, outcome: 'fail', results: [{ rule: 'reviews', outcome: 'fail', reason: '0 / 1 approvals', details: [] }] }));
    history.record(evaluationAt(T0 + 5 * MIN, { repository: 'Octo/App', number: 2, outcome: 'pass', results: [{ rule: 'reviews', outcome: 'pass', reason: '1 / 1 approvals', details: [] }] }));
    scenario(db);
    const view = pullView(db, 'octo/app', 2, T0 + 13 * MIN);
    expect(view.repository).toBe('Octo/App');
    expect(view.generatedAt).toBe(T0 + 13 * MIN);
    expect(view.latest?.outcome).toBe('pass');
    expect(view.queue).toMatchObject({ branch: 'main', of: 2, pull: { number: 2, position: 1, batch: 2 } });
    expect(view.history.map((h) => [h.record.outcome, h.changes])).toEqual([
      ['pass', ['verdict: fail → pass', 'reviews: fail → pass (1 / 1 approvals)']],
      ['fail', ['first evaluation']],
    ]);
  });

  test('a pull request never evaluated nor queued: nothing, said plainly', () => {
    const view = pullView(openDb(':memory:'), 'octo/app', 9, T0);
    expect(view).toEqual({ generatedAt: T0, repository: 'octo/app', number: 9, latest: null, queue: null, history: [] });
  });
});
