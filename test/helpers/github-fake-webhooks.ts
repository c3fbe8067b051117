// The webhooks GitHub sends about what a test did to the fake's commits:
// a CI result on any commit (a staging head included) and a push to a branch
// "by hand". Each builds a real example payload (@octokit/webhooks-examples)
// aimed at the fake, to deliver with whatever sender the test has
// (`sendWebhook` of app-child.ts, `ProbotProcess.send`, `TestApp.receive`).
import type { FakeCheckRun, FakeGitHub, FakeRepo, FakeStatus } from './github-fake.js';
import { aimAt, checkPayload, example } from './github-app.js';

export interface Webhook {
  name: string;
  payload: Record<string, any>;
}

/** The branches whose tip is `sha` (what GitHub names as a suite's head branch, a status's branches). */
function branchesAt(repo: FakeRepo, sha: string): string[] {
  return [...repo.branches].filter(([, tip]) => tip === sha).map(([name]) => name);
}

/** Open same-repository pull requests whose head is `sha` (GitHub lists no fork's). */
function pullsAt(repo: FakeRepo, sha: string) {
  return [...repo.pulls.values()].filter((p) => p.state === 'OPEN' && !p.fork && p.headSha === sha);
}

/** `check_run` (completed, or created while in progress) about a run the test added (`fake.git.ciCheckRun`). */
export function checkRunWebhook(fake: FakeGitHub, repo: FakeRepo, run: FakeCheckRun): Webhook {
  const payload = checkPayload('check_run', run.status === 'completed' ? 'completed' : 'created', fake, repo, {
    appId: run.appId,
    headSha: run.headSha,
    pulls: pullsAt(repo, run.headSha),
    name: run.name,
  });
  Object.assign(payload.check_run, {
    id: run.id,
    status: run.status,
    conclusion: run.conclusion,
    details_url: run.detailsUrl,
    started_at: run.startedAt,
    completed_at: run.completedAt,
  });
  payload.check_run.check_suite = { ...payload.check_run.check_suite, head_sha: run.headSha, head_branch: branchesAt(repo, run.headSha)[0] ?? null };
  return { name: 'check_run', payload };
}

/** `check_suite.completed` of an app (CI) on `sha`. */
export function checkSuiteWebhook(fake: FakeGitHub, repo: FakeRepo, sha: string, suite: { appId: number; conclusion: string }): Webhook {
  const payload = checkPayload('check_suite', 'completed', fake, repo, { appId: suite.appId, headSha: sha, pulls: pullsAt(repo, sha), conclusion: suite.conclusion });
  Object.assign(payload.check_suite, { status: 'completed', head_branch: branchesAt(repo, sha)[0] ?? null });
  return { name: 'check_suite', payload };
}

/** `status` about a commit status the test added (`fake.git.ciStatus`). */
export function statusWebhook(fake: FakeGitHub, repo: FakeRepo, status: FakeStatus): Webhook {
  const payload = aimAt(example('status'), fake, repo);
  Object.assign(payload, {
    sha: status.sha,
    context: status.context,
    state: status.state.toLowerCase(),
    target_url: status.targetUrl ?? null,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    branches: branchesAt(repo, status.sha).map((name) => ({ name, commit: { sha: status.sha, url: '' }, protected: false })),
  });
  payload.commit = { ...payload.commit, sha: status.sha };
  return { name: 'status', payload };
}

const ZERO = '0'.repeat(40);

/**
 * `push` of `branch` from `before` to `after` (null: created, deleted), by someone other than the app unless
 * `pusher` says so: `fake.git.pushByHand`'s move, or one `fake.git.onRefChange` reports.
 */
export function pushWebhook(fake: FakeGitHub, repo: FakeRepo, branch: string, move: { before: string | null; after: string | null }, pusher = 'octocat'): Webhook {
  const payload = aimAt(example('push'), fake, repo);
  const { before, after } = move;
  const was = (before !== null ? repo.trees.get(before) : undefined) ?? new Map<string, string>();
  const now = (after !== null ? repo.trees.get(after) : undefined) ?? new Map<string, string>();
  const paths = [...new Set([...was.keys(), ...now.keys()])].sort();
  const person = { name: pusher, email: `${pusher}@example.com`, username: pusher };
  const headCommit =
    after === null
      ? null
      : {
          id: after,
          tree_id: fake.treeOid(repo, after),
          distinct: true,
          message: `a push to ${branch}`,
          timestamp: new Date(fake.now()).toISOString(),
          url: `https://github.com/${repo.owner}/${repo.name}/commit/${after}`,
          author: person,
          committer: person,
          added: paths.filter((p) => !was.has(p)),
          removed: paths.filter((p) => !now.has(p)),
          modified: paths.filter((p) => was.has(p) && now.has(p) && was.get(p) !== now.get(p)),
        };
  Object.assign(payload, {
    ref: `refs/heads/${branch}`,
    before: before ?? ZERO,
    after: after ?? ZERO,
    created: before === null,
    deleted: after === null,
    forced: before !== null && after !== null && !fake.ancestors(after).has(before),
    base_ref: null,
    compare: `https://github.com/${repo.owner}/${repo.name}/compare/${(before ?? ZERO).slice(0, 12)}...${(after ?? ZERO).slice(0, 12)}`,
    commits: headCommit ? [headCommit] : [],
    head_commit: headCommit,
    pusher: { name: pusher, email: `${pusher}@example.com` },
    sender: { ...payload.sender, login: pusher, type: pusher.endsWith('[bot]') ? 'Bot' : 'User' },
  });
  return { name: 'push', payload };
}
