// The merge queue's view of GitHub (SPEC §4a): the few calls that build
// staging branches, read their checks, fast-forward a base and clean up,
// behind a small interface so the queue's shell can be driven by a fake.
// Each call is the fewest requests GitHub allows (the rate limit is the
// budget); the counts are in the comments and test/queue/github.test.ts.
// Landing squash/rebase batches merges pull requests with the lander's own
// call (LandingGitHub.merge in src/land/github.ts), not one of these.
//
// Branch names come from authors (a base like `release/1.0`): they only ever
// go into URL templates (`{branch}`, `{ref}`), which octokit percent-encodes,
// or into JSON bodies — never spliced into a path.
import { requiredStandings } from '../rules/checks.js';
import { contextResults, type Connection, type ContextNode } from '../github/nodes.js';
import { MERGE_TIMEOUT_MS } from '../land/github.js';
import { URGENT } from '../octokit/pacer.js';
import type { Octokit } from '../octokit/types.js';
import { QUEUE_CHECKS_QUERY } from './queries.js';
import { stagingPrefix, stagingRef } from './types.js';

/** A commit and its tree (what landing compares: the same tree, the same content). */
export interface Head {
  sha: string;
  tree: string;
}

export type MergeResult = { kind: 'merged'; sha: string; tree: string } | { kind: 'conflict' } | { kind: 'nothing' };

export type FastForward = { ok: true } | { ok: false; why: 'not-fast-forward' };

/** The required checks on a commit, judged as the gate's checks rule judges them (src/rules/checks.ts). */
export type RequiredChecks =
  /** `pending`: the required checks not concluded; none while CI has reported none of them (it has not started on this commit). */
  | { outcome: 'pending'; pending: string[] }
  | { outcome: 'success' }
  /** The first required check (in `checks.required` order) that failed, and its link (a check run's details, a status's target). */
  | { outcome: 'failure'; check: string; url: string | null };

export interface QueueGitHub {
  /** A branch's head and tree; null when there is no such branch. 1 request. */
  branchHead(branch: string): Promise<Head | null>;
  /** Create branch `ref` at `sha`, or force it there if it exists. 1 request (2 when it existed). */
  resetBranch(ref: string, sha: string): Promise<void>;
  /** Merge `headSha` into branch `ref` (the merges API). 1 request; a conflict is never retried. */
  mergeInto(ref: string, headSha: string, message: string): Promise<MergeResult>;
  /**
   * Move `branch` to `sha` only if that is a fast-forward. 1 request, paced ahead of other writes and not
   * retried: after an error or a timeout, read `branchHead` to learn whether it moved.
   */
  fastForward(branch: string, sha: string): Promise<FastForward>;
  /** Delete a branch; one already gone is fine. 1 request. */
  deleteBranch(ref: string): Promise<void>;
  /**
   * Branches whose names start with `prefix`, full names. 1 request per 100. A prefix matches more than
   * one queue's (`merge-gate/queue/main/` also matches base `main/x`'s): `ownStagingBranches` keeps a base's own.
   */
  stagingBranches(prefix: string): Promise<string[]>;
  /** The required checks on a commit, check runs and statuses alike. 1 GraphQL query per 100 results. */
  requiredChecks(sha: string, names: readonly string[], allowNeutral: boolean): Promise<RequiredChecks>;
  /** A commit's tree. 1 request. */
  tree(sha: string): Promise<string>;
}

/**
 * The staging branches among `names` that are `base`'s own (`merge-gate/queue/<base>/<n>`), with their batch
 * numbers: a prefix listing of `main`'s also holds those of a base named `main/x`, which are not orphans of `main`.
 */
export function ownStagingBranches(base: string, names: readonly string[]): Array<{ ref: string; batch: number }> {
  const prefix = stagingPrefix(base);
  return names.flatMap((ref) => {
    const rest = ref.startsWith(prefix) ? ref.slice(prefix.length) : '';
    return /^[1-9]\d{0,15}$/.test(rest) && stagingRef(base, Number(rest)) === ref ? [{ ref, batch: Number(rest) }] : [];
  });
}

const status = (err: unknown): number | undefined => (err as { status?: number }).status;
const message = (err: unknown): string => String((err as { response?: { data?: { message?: string } } }).response?.data?.message ?? (err as Error).message ?? '');

/** Requests the queue makes to GitHub for one installation's repository. `appId`: our own check runs are never a required check. */
export function octokitQueueGitHub(octokit: Octokit, owner: string, repo: string, appId: number): QueueGitHub {
  const params = { owner, repo };
  return {
    async branchHead(branch) {
      try {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/branches/{branch}', { ...params, branch });
        // A renamed branch answers (after GitHub's redirect) as its new name: that is not this branch.
        return data.name === branch ? { sha: data.commit.sha, tree: data.commit.commit.tree.sha } : null;
      } catch (err) {
        if (status(err) === 404) return null;
        throw err;
      }
    },
    async resetBranch(ref, sha) {
      try {
        await octokit.request('POST /repos/{owner}/{repo}/git/refs', { ...params, ref: `refs/heads/${ref}`, sha });
      } catch (err) {
        if (status(err) !== 422 || !/already exists/i.test(message(err))) throw err;
        await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', { ...params, ref: `heads/${ref}`, sha, force: true });
      }
    },
    async mergeInto(ref, headSha, commitMessage) {
      try {
        // Not retried: Probot's Octokit would retry a 409 (a conflict stays a conflict). After a 5xx the batch is built again from scratch.
        const response = await octokit.request('POST /repos/{owner}/{repo}/merges', { ...params, base: ref, head: headSha, commit_message: commitMessage, request: { retries: 0 } });
        // 204: the head is already in the branch (the types know only 201).
        if ((response.status as number) === 204) return { kind: 'nothing' };
        return { kind: 'merged', sha: response.data.sha, tree: response.data.commit.tree.sha };
      } catch (err) {
        if (status(err) === 409) return { kind: 'conflict' };
        throw err;
      }
    },
    async fastForward(branch, sha) {
      try {
        await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', {
          ...params,
          ref: `heads/${branch}`,
          sha,
          force: false,
          // Like the merge call (src/land/github.ts): the rules were re-read just before; not retried, not left hanging.
          request: { retries: 0, signal: AbortSignal.timeout(MERGE_TIMEOUT_MS), ...URGENT },
        });
        return { ok: true };
      } catch (err) {
        if (status(err) === 422 && /fast.forward/i.test(message(err))) return { ok: false, why: 'not-fast-forward' };
        throw err;
      }
    },
    async deleteBranch(ref) {
      try {
        await octokit.request('DELETE /repos/{owner}/{repo}/git/refs/{ref}', { ...params, ref: `heads/${ref}` });
      } catch (err) {
        if (status(err) !== 404 && status(err) !== 422) throw err;
      }
    },
    async stagingBranches(prefix) {
      try {
        const refs = await octokit.paginate('GET /repos/{owner}/{repo}/git/matching-refs/{ref}', { ...params, ref: `heads/${prefix}` });
        return (refs as Array<{ ref: string }>).map((r) => r.ref.replace(/^refs\/heads\//, '')).filter((name) => name.startsWith(prefix));
      } catch (err) {
        if (status(err) === 409) return []; // an empty repository
        throw err;
      }
    },
    async requiredChecks(sha, names, allowNeutral) {
      const nodes: ContextNode[] = [];
      let after: string | null = null;
      do {
        type Page = { repository: { object: { statusCheckRollup?: { contexts: Connection<ContextNode> } | null } | null } | null };
        const data: Page = await octokit.graphql<Page>(QUEUE_CHECKS_QUERY, { ...params, oid: sha, after });
        const commit = data.repository?.object;
        if (!commit) throw new Error(`GitHub does not know commit ${sha} of ${owner}/${repo}`);
        const contexts = commit.statusCheckRollup?.contexts;
        nodes.push(...(contexts?.nodes ?? []));
        after = contexts?.pageInfo.hasNextPage ? contexts.pageInfo.endCursor : null;
      } while (after !== null);

      // Each result with its link, so the failed one's link can be found by identity.
      const linked = nodes.flatMap((n) => contextResults([n], appId).map((result) => ({ result, url: (n.__typename === 'CheckRun' ? n.detailsUrl : n.targetUrl) ?? null })));
      const standings = requiredStandings(linked.map((l) => l.result), names, allowNeutral);
      const failed = standings.find((s) => s.standing === 'fail');
      if (failed) return { outcome: 'failure', check: failed.name, url: linked.find((l) => l.result === failed.check)?.url ?? null };
      const waiting = standings.filter((s) => s.standing === 'wait');
      if (waiting.length === 0) return { outcome: 'success' };
      // "ci/test pending" only once CI said something of a required check; until then the check says it waits for CI to start.
      return { outcome: 'pending', pending: standings.some((s) => s.check !== null) ? waiting.map((s) => s.name) : [] };
    },
    async tree(sha) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...params, commit_sha: sha });
      return data.tree.sha;
    },
  };
}
