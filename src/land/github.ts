// Landing's view of GitHub: the few REST calls it makes, behind a small
// interface so the lander can be driven by a fake.
import { URGENT } from '../octokit/pacer.js';
import type { Octokit } from '../octokit/types.js';
import type { TrunkUpdated } from './decide.js';

export interface PullState {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  /** After a merge: the commit the base branch was moved to (for a rebase, the last one). */
  mergeCommitSha: string | null;
  mergedAt: string | null;
  /** Who merged it (login; an app's bot is `<slug>[bot]`), null while not merged. */
  mergedBy: string | null;
  /** null: GitHub is still computing it. */
  mergeable: boolean | null;
  mergeableState: string;
  draft: boolean;
  title: string;
  url: string;
  author: string;
  headSha: string;
  headRef: string;
  /** owner/repo of the head branch (null: the fork was deleted). */
  headRepo: string | null;
  baseRef: string;
  baseSha: string;
  baseRepo: string;
  defaultBranch: string;
}

export interface OpenPullBrief {
  number: number;
  baseRef: string;
  headSha: string;
}

export interface LandingGitHub {
  pull(number: number): Promise<PullState>;
  /** PUT …/merge with the SHA pinned. Throws GitHub's error (409, 405, 422, 5xx…). */
  merge(number: number, sha: string, method: string): Promise<{ sha: string }>;
  /** How many commits of `base` the head lacks. */
  behindBy(base: string, head: string): Promise<number>;
  updateBranch(number: number, expectedHeadSha: string): Promise<void>;
  /** A commit's parents and tree. */
  commit(sha: string): Promise<{ parents: string[]; tree: string }>;
  openPulls(): Promise<OpenPullBrief[]>;
  deleteBranch(branch: string): Promise<void>;
  dispatch(body: TrunkUpdated): Promise<void>;
}

/** How long a merge call may take before it is treated like a dropped connection. */
export const MERGE_TIMEOUT_MS = 60_000;

export function octokitLandingGitHub(octokit: Octokit, owner: string, repo: string): LandingGitHub {
  const params = { owner, repo };
  return {
    async pull(number) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...params, pull_number: number });
      return {
        number: data.number,
        state: data.state === 'open' ? 'open' : 'closed',
        merged: Boolean(data.merged),
        mergeCommitSha: data.merge_commit_sha ?? null,
        mergedAt: data.merged_at ?? null,
        mergedBy: data.merged_by?.login ?? null,
        mergeable: data.mergeable ?? null,
        mergeableState: data.mergeable_state ?? 'unknown',
        draft: Boolean(data.draft),
        title: data.title,
        url: data.html_url,
        author: data.user?.login ?? 'ghost',
        headSha: data.head.sha,
        headRef: data.head.ref,
        headRepo: data.head.repo?.full_name ?? null,
        baseRef: data.base.ref,
        baseSha: data.base.sha,
        baseRepo: data.base.repo.full_name,
        defaultBranch: data.base.repo.default_branch ?? 'main',
      };
    },
    async merge(number, sha, method) {
      const { data } = await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', {
        ...params,
        pull_number: number,
        sha,
        merge_method: method as 'merge' | 'squash' | 'rebase',
        // Probot's Octokit retries 409 (and 5xx) by default: a 409 must never be retried with the same SHA,
        // and after a 5xx the pull request is read before anything else. A merge that hangs is abandoned
        // (and then, like a 5xx, resolved by reading the pull request), so it cannot hold the branch's lock.
        // Paced ahead of every other write: the verdict was re-read just before, and must not age in a queue.
        request: { retries: 0, signal: AbortSignal.timeout(MERGE_TIMEOUT_MS), ...URGENT },
      });
      return { sha: data.sha };
    },
    async behindBy(base, head) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', { ...params, basehead: `${base}...${head}`, per_page: 1 });
      return data.behind_by;
    },
    async updateBranch(number, expectedHeadSha) {
      await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch', { ...params, pull_number: number, expected_head_sha: expectedHeadSha });
    },
    async commit(sha) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...params, commit_sha: sha });
      return { parents: data.parents.map((p) => p.sha), tree: data.tree.sha };
    },
    async openPulls() {
      const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', { ...params, state: 'open', per_page: 100 });
      return pulls.map((p) => ({ number: p.number, baseRef: p.base.ref, headSha: p.head.sha }));
    },
    async deleteBranch(branch) {
      await octokit.request('DELETE /repos/{owner}/{repo}/git/refs/{ref}', { ...params, ref: `heads/${branch}` });
    },
    async dispatch(body) {
      await octokit.request('POST /repos/{owner}/{repo}/dispatches', { ...params, event_type: 'trunk-updated', client_payload: body as unknown as Record<string, unknown> });
    },
  };
}
