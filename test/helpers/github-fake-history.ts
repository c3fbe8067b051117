// What the fake GitHub holds of a pull request's past, for `replay --github`:
// label events on its timeline, when it was last updated, every status of a
// deployment (newest first, as GitHub lists them), and a merged pull request
// put together with its history in one call.
import { fakeSha, type FakeDeployment, type FakeGitHub, type FakePull, type FakeRepo, type FakeReview } from './github-fake.js';

export interface FakeLabelEvent {
  name: string;
  added: boolean;
  at: string;
}

export function updatedAt(pull: FakePull): string {
  return pull.updatedAt ?? pull.mergedAt ?? '2026-01-01T00:00:00Z';
}

/** Timeline nodes of the asked types (LABELED_EVENT, UNLABELED_EVENT); the fake holds no others. */
export function timelineItems(pull: FakePull, itemTypes?: string[]) {
  return (pull.labelEvents ?? [])
    .map((e) => ({ __typename: e.added ? 'LabeledEvent' : 'UnlabeledEvent', type: e.added ? 'LABELED_EVENT' : 'UNLABELED_EVENT', createdAt: e.at, label: { name: e.name } }))
    .filter((n) => !itemTypes || itemTypes.includes(n.type));
}

export function deploymentStatuses(d: FakeDeployment) {
  return [...d.statuses].reverse().map((s) => ({ state: s.state, description: s.description, createdAt: s.createdAt, logUrl: s.logUrl ?? null, environmentUrl: s.environmentUrl ?? null }));
}

export interface MergedPullSpec {
  number: number;
  mergedAt: string;
  title?: string;
  author?: string;
  files?: FakePull['files'];
  reviews?: FakeReview[];
  labelEvents?: FakeLabelEvent[];
  /** Check runs on the head: name, conclusion, started and completed instants. */
  checks?: Array<{ name: string; conclusion?: string; startedAt: string; completedAt: string | null }>;
  /** Files at the merge commit and at its parent (the registry). */
  after?: Record<string, string>;
  before?: Record<string, string>;
  updatedAt?: string;
  /** The head commit (default derived from the number). */
  headSha?: string;
}

/** A pull request merged into the default branch at `mergedAt`, with the merge commit and its parent. */
export function addMergedPull(fake: FakeGitHub, repo: FakeRepo, spec: MergedPullSpec, appId = 9999): FakePull {
  const pull = fake.addPull(repo, {
    number: spec.number,
    title: spec.title ?? `Change ${spec.number}`,
    author: spec.author ?? 'alice',
    state: 'MERGED',
    mergedAt: spec.mergedAt,
    updatedAt: spec.updatedAt,
    files: spec.files ?? [{ path: `src/f${spec.number}.ts`, additions: 10, deletions: 0, status: 'added' }],
    reviews: spec.reviews ?? [],
    labelEvents: spec.labelEvents,
    labels: [...new Set((spec.labelEvents ?? []).filter((e) => e.added).map((e) => e.name))],
    ...(spec.headSha ? { headSha: spec.headSha } : {}),
  });
  const parent = fakeSha(`${repo.name}#${spec.number}:parent`);
  const merge = fakeSha(`${repo.name}#${spec.number}:merge`);
  repo.trees.set(parent, new Map(Object.entries(spec.before ?? {})));
  repo.trees.set(merge, new Map(Object.entries(spec.after ?? spec.before ?? {})));
  fake.parents.set(parent, []);
  fake.parents.set(merge, [parent]);
  pull.mergeCommit = merge;
  for (const c of spec.checks ?? []) {
    fake.addCheckRun(repo, { appId, name: c.name, headSha: pull.headSha, status: c.completedAt ? 'completed' : 'in_progress', conclusion: c.completedAt ? (c.conclusion ?? 'success') : null, startedAt: c.startedAt, completedAt: c.completedAt });
  }
  return pull;
}
