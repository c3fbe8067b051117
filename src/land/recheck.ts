// The read a landing rests on (docs/landing.md, "Right before the merge"):
// under the branch's landing lock, immediately before the merge call, the
// policy again (a conditional request: answered 304 when unchanged, which
// GitHub does not count) and the one facts query again, with what landing
// needs besides (mergeable, where the head lives, GitHub's test merge). It
// replaces the pull-request read a landing used to make; recheckVerdict
// (decide.ts) then says whether the verdict still holds.
import type { PullRequestFacts } from '../facts/types.js';
import { GitHubPullRequestSource } from '../github/facts.js';
import type { LandingExtras } from '../github/nodes.js';
import { readPolicy } from '../github/policy.js';
import type { PullRef } from '../github/pull-ref.js';
import type { Octokit } from '../octokit/types.js';
import { factNeeds } from '../rules/index.js';
import type { VerdictBasis } from './decide.js';
import type { PullState } from './github.js';

export type Reread =
  /** No usable policy on the default branch any more. */
  | { kind: 'no-policy'; why: string }
  | (VerdictBasis & { kind: 'read'; pull: PullState; testMerge: LandingExtras['testMerge'] });

export async function rereadForMerge(
  octokit: Octokit,
  ref: PullRef,
  seen: VerdictBasis,
  options: { policyPath: string; appId: number; checkName: string },
): Promise<Reread> {
  const read = await readPolicy(octokit, ref.owner, ref.repo, options.policyPath);
  if (read.kind !== 'ok') return { kind: 'no-policy', why: read.kind === 'none' ? 'the policy file is gone' : 'the policy has errors now' };
  const source = new GitHubPullRequestSource({ octokit, owner: ref.owner, repo: ref.repo, number: ref.number, appId: options.appId, checkName: options.checkName });
  // What the head and base SHAs decide is not read again (the merge goes ahead only if both are unchanged):
  // CODEOWNERS at the base included; team members are the evaluation's, read at most a few minutes ago (src/github/teams.ts).
  const fresh = await source.load({ ...factNeeds(seen.policy), files: false, registryPath: null, gitattributes: false, owners: null }, { landing: true });
  const facts: PullRequestFacts = {
    ...fresh,
    files: seen.facts.files,
    diff: seen.facts.diff,
    registry: seen.facts.registry,
    gitattributes: seen.facts.gitattributes,
    ...(seen.facts.teams ? { codeowners: seen.facts.codeowners, teams: seen.facts.teams } : {}),
  };
  return { kind: 'read', policy: read.policy, facts, pull: pullState(facts, source.landing!), testMerge: source.landing!.testMerge };
}

/** The pull request as landing's decisions see it, from the re-read. */
function pullState(facts: PullRequestFacts, extras: LandingExtras): PullState {
  return {
    number: facts.number,
    state: facts.state === 'open' ? 'open' : 'closed',
    merged: facts.state === 'merged',
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    mergeable: extras.mergeable,
    mergeableState: extras.mergeable === null ? 'unknown' : extras.mergeable ? 'clean' : 'dirty',
    draft: facts.draft,
    title: facts.title,
    url: facts.url,
    author: facts.author.login,
    headSha: facts.head.sha,
    headRef: facts.head.ref,
    headRepo: extras.headRepo,
    baseRef: facts.base.ref,
    baseSha: facts.base.sha,
    baseRepo: facts.repository,
    defaultBranch: extras.defaultBranch,
  };
}
