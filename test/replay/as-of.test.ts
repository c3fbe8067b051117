// The pure "as it stood at the merge" functions of `replay --github`.
import { checksAt, deploymentAt, labelsAt, reviewsAt, type DeploymentHistoryNode } from '../../src/replay/as-of.js';
import type { ContextNode } from '../../src/github/nodes.js';

const AT = '2026-11-10T12:00:00Z';

test('labels: the events up to the instant, in time order, names compared ignoring case', () => {
  const events = [
    { name: 'hotfix', added: false, at: '2026-11-10T10:00:00Z' },
    { name: 'Hotfix', added: true, at: '2026-11-10T09:00:00Z' },
    { name: 'big', added: true, at: '2026-11-10T11:00:00Z' },
    { name: 'late', added: true, at: '2026-11-10T12:00:01Z' },
    { name: 'big', added: false, at: '2026-11-10T13:00:00Z' },
  ];
  expect(labelsAt(events, AT)).toEqual(['big']);
});

test('reviews: those submitted by the instant (at it included)', () => {
  const review = (submittedAt: string) => ({ author: { login: 'bob', bot: false }, state: 'APPROVED' as const, commitSha: 'h', submittedAt });
  expect(reviewsAt([review('2026-11-10T11:59:59Z'), review(AT), review('2026-11-10T12:00:01Z')], AT).map((r) => r.submittedAt)).toEqual(['2026-11-10T11:59:59Z', AT]);
});

test('checks: finished by then with their conclusion, started only as pending, later-only records unreadable', () => {
  const run = (name: string, startedAt: string, completedAt: string | null, conclusion = 'SUCCESS'): ContextNode => ({
    __typename: 'CheckRun', name, status: completedAt ? 'COMPLETED' : 'IN_PROGRESS', conclusion: completedAt ? conclusion : null, startedAt, completedAt, checkSuite: { app: { databaseId: 1 } },
  });
  const { checks, unreadable } = checksAt(
    [
      run('done', '2026-11-10T10:00:00Z', '2026-11-10T11:00:00Z', 'FAILURE'),
      run('running', '2026-11-10T11:00:00Z', '2026-11-10T13:00:00Z'),
      run('rerun', '2026-11-10T14:00:00Z', '2026-11-10T15:00:00Z'),
      { __typename: 'StatusContext', context: 'ci/old', state: 'SUCCESS', createdAt: '2026-11-10T11:30:00Z' },
      { __typename: 'StatusContext', context: 'ci/new', state: 'SUCCESS', createdAt: '2026-11-10T12:30:00Z' },
    ],
    AT,
  );
  expect(checks.map((c) => [c.name, c.state])).toEqual([['done', 'failure'], ['running', 'pending'], ['ci/old', 'success']]);
  expect(unreadable).toEqual(['rerun', 'ci/new']);
});

test('deployments: the newest created by then, with its latest status posted by then', () => {
  const status = (state: string, createdAt: string) => ({ state, description: state, createdAt, logUrl: null, environmentUrl: null });
  const d = (sha: string, createdAt: string, statuses: ReturnType<typeof status>[]): DeploymentHistoryNode => ({ databaseId: 1, commitOid: sha, createdAt, environment: 'production', latestStatus: statuses[0] ?? null, statuses: { nodes: statuses } });
  const history = [
    d('c', '2026-11-10T13:00:00Z', [status('FAILURE', '2026-11-10T13:01:00Z')]),
    d('b', '2026-11-10T10:00:00Z', [status('SUCCESS', '2026-11-10T12:30:00Z'), status('FAILURE', '2026-11-10T10:05:00Z')]),
    d('a', '2026-11-09T10:00:00Z', [status('SUCCESS', '2026-11-09T10:05:00Z')]),
  ];
  expect(deploymentAt(history, 'production', AT)).toMatchObject({ sha: 'b', status: { state: 'failure', since: '2026-11-10T10:05:00Z' } });
  expect(deploymentAt(history, 'production', '2026-11-10T10:01:00Z')).toMatchObject({ sha: 'b', status: null });
  expect(deploymentAt(history, 'production', '2026-11-01T00:00:00Z')).toBeNull();
});
