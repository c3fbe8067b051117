// View models of the app's pages (src/pages/types.ts) for the render tests and
// bench/pages.ts: a queue page of any size, a pull request's page with any
// number of evaluations. Every instant is relative to NOW, a fixed UTC instant.
import type { RuleResult } from '../../src/rules/types.js';
import type { EvaluationRecord, LandingView, PullPageView, QueuePageView, QueuePullView, QueueView } from '../../src/pages/types.js';

export const NOW = Date.parse('2026-12-05T10:30:00Z');
export const MIN = 60_000;

export function queuePull(over: Partial<QueuePullView> = {}): QueuePullView {
  const number = over.number ?? 41;
  return {
    number,
    title: `Make checkout faster ${number}`,
    author: 'alice',
    url: `https://github.com/octo/shop/pull/${number}`,
    position: 1,
    batch: 12,
    status: { kind: 'testing', batch: 12, with: [43], since: NOW - 12 * MIN, pending: ['ci/test'], started: true, behind: [], held: null },
    says: `testing in batch 12 with #43 since 10:18 UTC (ci/test pending)`,
    joinedAt: NOW - 20 * MIN,
    since: NOW - 12 * MIN,
    ...over,
  };
}

export function landing(over: Partial<LandingView> = {}): LandingView {
  return {
    batch: 11,
    sha: 'c0ffee0123456789c0ffee0123456789c0ffee01',
    landedAt: NOW - 5 * MIN,
    pulls: [{ number: 39, title: 'Fix the cart', url: 'https://github.com/octo/shop/pull/39', waitedMs: 38 * MIN }],
    ...over,
  };
}

export function queue(over: Partial<QueueView> = {}): QueueView {
  return { installationId: 1, repository: 'octo/shop', branch: 'main', pulls: [queuePull()], recent: [landing()], expectedWaitMs: 40 * MIN, ...over };
}

export function queuePage(over: Partial<QueuePageView> = {}): QueuePageView {
  return { login: 'mona', generatedAt: NOW, queues: [queue()], csrf: 'csrf-token-1234', ...over };
}

/** `queues` queues of `pulls` pull requests each, in every state, with a few landings. */
export function bigQueuePage(queues: number, pulls: number): QueuePageView {
  return queuePage({
    queues: Array.from({ length: queues }, (_, q) =>
      queue({
        repository: `octo/repo-${q}`,
        pulls: Array.from({ length: pulls }, (_, p) =>
          queuePull({
            number: 100 + p,
            position: p + 1,
            batch: p < 8 ? 12 : null,
            status: p < 8
              ? { kind: 'testing', batch: 12, with: [], since: NOW - p * MIN, pending: ['ci/test'], started: true, behind: [], held: p === 3 ? 'the trunk is red' : null }
              : { kind: 'queued', position: p + 1, of: pulls, branch: 'main', held: null },
            since: NOW - p * MIN,
          }),
        ),
        recent: Array.from({ length: 10 }, (_, i) => landing({ batch: 11 - i, landedAt: NOW - (i + 1) * 30 * MIN })),
      }),
    ),
  });
}

const RESULTS: RuleResult[] = [
  { rule: 'reviews', outcome: 'fail', reason: '0 / 1 approvals', details: [{ message: 'approve the current head' }], actionRequired: true },
  { rule: 'size', outcome: 'pass', reason: '120 / 500 lines', details: [] },
  { rule: 'checks', outcome: 'wait', reason: 'ci/test pending', details: [] },
];

export function evaluation(over: Partial<EvaluationRecord> = {}): EvaluationRecord {
  return {
    repository: 'octo/shop',
    number: 41,
    at: NOW - 10 * MIN,
    lastAt: NOW - 10 * MIN,
    seen: 1,
    causes: ['pull_request.synchronize'],
    headSha: 'def5678def5678def5678def5678def5678def56',
    base: 'main',
    title: 'Make checkout faster',
    author: 'alice',
    url: 'https://github.com/octo/shop/pull/41',
    outcome: 'fail',
    results: RESULTS,
    approvals: [
      { login: 'bob', state: 'APPROVED', commitSha: 'abc1234abc1234abc1234abc1234abc1234abc12', submittedAt: '2026-12-05T09:00:00Z', counted: false, why: 'stale: approved abc1234, head is now def5678' },
      { login: 'carol', state: 'APPROVED', commitSha: 'def5678def5678def5678def5678def5678def56', submittedAt: '2026-12-05T10:25:00Z', counted: true, why: null },
    ],
    owners: [
      { group: '@octo/payments', owners: ['carol', 'dave'], files: ['src/pay/a.ts', 'src/pay/b.ts', 'src/pay/c.ts', 'src/pay/d.ts', 'src/pay/e.ts', 'src/pay/f.ts', 'src/pay/g.ts'], required: 1, approvers: ['carol'], candidates: ['dave'], blocked: [], holds: true },
    ],
    ...over,
  };
}

export function pullPage(over: Partial<PullPageView> = {}): PullPageView {
  const latest = evaluation();
  return {
    login: 'mona',
    generatedAt: NOW,
    repository: 'octo/shop',
    number: 41,
    latest,
    queue: null,
    history: [{ record: latest, changes: ['reviews: pass → fail (head moved)'] }],
    csrf: 'csrf-token-1234',
    ...over,
  };
}

/** A pull request's page with `entries` evaluations, newest first. */
export function longPullPage(entries: number): PullPageView {
  return pullPage({
    history: Array.from({ length: entries }, (_, i) => ({
      record: evaluation({ at: NOW - i * MIN, lastAt: NOW - i * MIN, seen: 1 + (i % 3), outcome: i % 2 ? 'fail' : 'pass', causes: ['pull_request.synchronize', 'check_suite.completed'] }),
      changes: [`checks: wait → ${i % 2 ? 'fail' : 'pass'}`, 'reviews: 1 → 2 approvals'],
    })),
  });
}
