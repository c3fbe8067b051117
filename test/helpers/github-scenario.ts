// Shared fixtures: a repository with a policy and a flag registry, and "typical"
// pull requests (N new files under src/, reviewed, CI green) that pass it.
import { addedPatch, type FakeDeployment, type FakeDeploymentStatus, type FakeGitHub, type FakeFile, type FakePull, type FakeRepo } from './github-fake.js';

export const OWNER = 'octo';
export const REPO = 'app';

/** Every rule configured, flags included. */
export const FULL_POLICY = `version: 1
reviews:
  required: 1
  fresh: true
size:
  max_lines: 5000
  exclude: ["**/package-lock.json"]
flags:
  registry: flags.yml
  feature_paths: ["src/**"]
checks:
  required: ["ci/test"]
`;

/** A trunk section holding landings on a failed production deployment, with the exception and the revert. */
export const TRUNK = `trunk:
  environment: production
  hold_on: [failure, error]
  exception: { label: fix-forward, required: 2 }
  revert: true
`;

export const REGISTRY = `flags:
  new-scheduler:
    default: false
    lifecycle: experimental
    owner: "@sched-team"
    description: Faster scheduler
`;

export function fileAdding(path: string, lines: string[]): FakeFile {
  return { path, status: 'added', additions: lines.length, deletions: 0, patch: addedPatch(lines) };
}

/** `n` new files under src/, the first one behind the experimental flag. */
export function typicalFiles(n: number, linesPerFile = 5): FakeFile[] {
  return Array.from({ length: n }, (_, i) =>
    fileAdding(
      `src/feature/file${i}.ts`,
      Array.from({ length: linesPerFile }, (_, j) => (i === 0 && j === 0 ? "if (isEnabled('new-scheduler')) run();" : `export const v${i}_${j} = ${j};`)),
    ),
  );
}

export function setupRepo(fake: FakeGitHub, policy: string | null = FULL_POLICY, extra: Record<string, string> = {}): FakeRepo {
  const files: Record<string, string> = { 'flags.yml': REGISTRY, ...extra };
  if (policy !== null) files['.github/merge-gate.yml'] = policy;
  return fake.addRepo(OWNER, REPO, { files });
}

/** A pull request that passes FULL_POLICY: approved on its head, ci/test green. */
export function typicalPull(fake: FakeGitHub, repo: FakeRepo, number = 2, files: FakeFile[] = typicalFiles(10)): FakePull {
  const pull = fake.addPull(repo, { number, files }, { 'flags.yml': REGISTRY });
  approve(pull);
  repo.statuses.push({ sha: pull.headSha, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:00:00Z' });
  return pull;
}

export function approve(pull: FakePull, login = 'bob', at = '2026-11-22T09:30:00Z'): void {
  pull.reviews.push({ login, state: 'APPROVED', submittedAt: at, commit: pull.headSha });
}

/** A deployment of `sha` to `environment`, in progress at 10:`minutes` (22 Nov 2026), with latest status `state` a minute later. */
export function deploy(
  fake: FakeGitHub,
  repo: FakeRepo,
  sha: string,
  state: FakeDeploymentStatus['state'],
  minutes = 0,
  more: Partial<FakeDeploymentStatus> = {},
  environment = 'production',
): FakeDeployment {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 22, 10, m)).toISOString();
  const d = fake.addDeployment(repo, { sha, environment, createdAt: at(minutes) });
  fake.addDeploymentStatus(d, 'IN_PROGRESS', { createdAt: at(minutes) });
  fake.addDeploymentStatus(d, state, { createdAt: at(minutes + 1), ...more });
  return d;
}
