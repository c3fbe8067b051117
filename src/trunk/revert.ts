// Proposing the revert (SPEC §2, trunk, `revert: true`): when the newest
// deployment to the trunk environment has settled in a `hold_on` state and its
// commit is one merge-gate landed, open one revert pull request, labelled with
// the exception label so that it may land while landings are held. It goes
// through the gate like any other change; merge-gate never merges it on the spot.
//
// Decided from GitHub, so it survives restarts: "landed by merge-gate" is the
// commit's merged pull request whose merge commit is the deployed commit and
// whose merger is our app's bot; "already proposed" is a pull request
// merge-gate authored whose body carries the deployed commit's marker
// (src/trunk/marker.ts). A merge queue batch is the exception: GitHub links its
// commit to one pull request at most, so the landing journal's word
// (`landedCommit`: its pull requests, the base before and after) makes the
// revert cover the whole batch — a commit on `after` with the tree of `before`,
// on a branch of ours, proposed into the base (GitHub's merge lays it over
// whatever landed since). The decision is a pure function of those reads; the
// shell below only acts on it.
import type { LandedCommit } from '../land/journal.js';
import type { Octokit } from '../octokit/types.js';
import { octokitQueueGitHub } from '../queue/github.js';
import { deploymentFacts, type DeploymentNode } from '../github/nodes.js';
import type { TrunkPolicy } from '../policy/schema.js';
import { codeSpan, heldBy, linkable, utcInstant } from '../rules/trunk.js';
import { findRevert, revertMarker, type RevertCandidate } from './marker.js';
import { REVERT_FACTS_QUERY, REVERT_MUTATION } from './queries.js';

interface ActorNode {
  __typename: string;
  login: string;
}

export interface LandedPullNode {
  id: string;
  number: number;
  title: string;
  url: string;
  merged: boolean;
  mergeCommit: { oid: string } | null;
  mergedBy: ActorNode | null;
  author: ActorNode | null;
}

/** A pull request that may be a revert merge-gate opened, with its labels. */
export type CandidateNode = RevertCandidate & { labels: { nodes: Array<{ name: string }> } };

export interface RevertFacts {
  repository: {
    url: string;
    deployments: { nodes: Array<DeploymentNode & { commit: { associatedPullRequests: { nodes: LandedPullNode[] } } | null }> };
    labelled: { nodes: CandidateNode[] };
    recent: { nodes: CandidateNode[] };
  } | null;
}

export type RevertDecision =
  | { action: 'none'; why: string }
  | { action: 'label'; number: number; url: string }
  | { action: 'open'; pullRequestId: string; original: number; title: string; body: string }
  /** A batch: revert `before..after` from a branch of ours (`ref`) into `branch`. */
  | { action: 'open-range'; branch: string; before: string; after: string; ref: string; pulls: number[]; title: string; body: string };

/** The branch a batch's revert is proposed from. */
export const revertRef = (sha: string) => `merge-gate/revert/${sha.toLowerCase()}`;

/** Our app's bot account: GraphQL names it by the app's slug (REST adds `[bot]`). */
export function isOurBot(actor: ActorNode | null, appSlug: string): boolean {
  return actor?.__typename === 'Bot' && actor.login.replace(/\[bot\]$/i, '').toLowerCase() === appSlug.toLowerCase();
}

/** What to do about the newest deployment, from one read of GitHub (and the landing journal's word on its commit: `landed`). */
export function decideRevert(trunk: TrunkPolicy, facts: RevertFacts, appSlug: string, landed: LandedCommit | null = null): RevertDecision {
  const label = trunk.exception?.label;
  if (!trunk.revert || !label) return { action: 'none', why: 'revert is not configured' };
  const repo = facts.repository;
  const node = repo?.deployments.nodes[0];
  if (!repo || !node) return { action: 'none', why: `no deployment to ${trunk.environment}` };
  const held = heldBy(trunk, deploymentFacts(node, trunk.environment));
  if (!held) return { action: 'none', why: `the newest deployment to ${trunk.environment} does not hold landings` };
  const sha = held.sha;

  const existing = findRevert([...repo.labelled.nodes, ...repo.recent.nodes], sha);
  if (existing) {
    // Opened, but the label did not make it (the app stopped in between): add it now.
    const labelled = existing.labels.nodes.some((l) => l.name.toLowerCase() === label.toLowerCase());
    return labelled ? { action: 'none', why: `revert #${existing.number} is already proposed` } : { action: 'label', number: existing.number, url: existing.url };
  }

  const link = linkable(held.status.url) ?? `${repo.url}/deployments?environment=${encodeURIComponent(trunk.environment)}`;
  const exception = trunk.exception!;
  const body = (what: string, authors: string[]) =>
    [
      what,
      '',
      `Its deployment to **${trunk.environment}** turned **${held.status.state}** at ${utcInstant(held.status.since)}${held.status.description ? `: ${codeSpan(held.status.description)}` : ''} ([the failed deployment](${link})).`,
      '',
      `${authors.length > 0 ? `${authors.map((a) => `@${a}`).join(' ')}: ` : ''}merge-gate holds every landing while ${trunk.environment} is unhealthy. This revert carries the ${codeSpan(exception.label)} label, so it may land meanwhile with ${exception.required} approval${exception.required === 1 ? '' : 's'}; it goes through the gate like any other change and is never landed on the spot. A fix labelled ${codeSpan(exception.label)} may land instead; then close this.`,
      '',
      revertMarker(sha),
    ].join('\n');
  // A title is plain text on GitHub; keep it within its limit.
  const titled = (title: string) => [...title].slice(0, 250).join('');

  if (landed && landed.before !== null && landed.pulls.length > 1 && landed.after.toLowerCase() === sha.toLowerCase()) {
    const numbers = landed.pulls.map((p) => `#${p.number}`).join(' ');
    const authors = [...new Set(landed.pulls.map((p) => p.author).filter((a) => a !== ''))];
    return {
      action: 'open-range',
      branch: landed.branch,
      before: landed.before,
      after: landed.after,
      ref: revertRef(sha),
      pulls: landed.pulls.map((p) => p.number),
      title: titled(`Revert ${landed.batch === null ? '' : `batch ${landed.batch}: `}${numbers}`),
      body: body(`Reverts ${numbers}, which merge-gate landed together${landed.batch === null ? '' : ` (batch ${landed.batch})`}: ${landed.branch} from ${landed.before} to ${sha}.`, authors),
    };
  }

  const original = node.commit?.associatedPullRequests.nodes.find((p) => p.merged && p.mergeCommit?.oid.toLowerCase() === sha.toLowerCase());
  if (!original) return { action: 'none', why: `${sha.slice(0, 7)} was not landed by a pull request` };
  if (!isOurBot(original.mergedBy, appSlug)) return { action: 'none', why: `#${original.number} was not landed by merge-gate` };
  const author = original.author?.login;
  return { action: 'open', pullRequestId: original.id, original: original.number, title: titled(`Revert "${original.title}"`), body: body(`Reverts #${original.number}, which merge-gate landed as ${sha}.`, author ? [author] : []) };
}

export type RevertResult = { kind: 'none'; why: string } | { kind: 'opened' | 'labelled'; number: number; url: string };

/** Read, decide, act: at most one revert pull request per unhealthy deployed commit. `landed`: the landing journal's lookup. */
export async function proposeRevert(
  octokit: Octokit,
  owner: string,
  repo: string,
  trunk: TrunkPolicy,
  appSlug: string,
  landed: (repository: string, sha: string) => LandedCommit | null = () => null,
): Promise<RevertResult> {
  const label = trunk.exception?.label ?? '';
  const facts = await octokit.graphql<RevertFacts>(REVERT_FACTS_QUERY, { owner, repo, environment: trunk.environment, label });
  const deployed = facts.repository?.deployments.nodes[0]?.commitOid;
  const decision = decideRevert(trunk, facts, appSlug, deployed ? landed(`${owner}/${repo}`, deployed) : null);
  if (decision.action === 'none') return { kind: 'none', why: decision.why };
  let number: number;
  let url: string;
  if (decision.action === 'open') {
    const created = await octokit.graphql<{ revertPullRequest: { revertPullRequest: { number: number; url: string } | null } }>(REVERT_MUTATION, {
      input: { pullRequestId: decision.pullRequestId, title: decision.title, body: decision.body },
    });
    const pr = created.revertPullRequest.revertPullRequest;
    if (!pr) throw new Error(`GitHub did not open the revert of #${decision.original}`);
    ({ number, url } = pr);
  } else if (decision.action === 'open-range') ({ number, url } = await openRangeRevert(octokit, owner, repo, decision));
  else ({ number, url } = decision);
  // REST creates the label when the repository has none of that name yet.
  await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { owner, repo, issue_number: number, labels: [label] });
  return { kind: decision.action === 'label' ? 'labelled' : 'opened', number, url };
}

/** A batch's revert: a commit on `after` with the tree of `before`, on our branch (set again if a crash left it), proposed into the base. */
async function openRangeRevert(octokit: Octokit, owner: string, repo: string, d: Extract<RevertDecision, { action: 'open-range' }>): Promise<{ number: number; url: string }> {
  const { data: before } = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { owner, repo, commit_sha: d.before });
  const { data: commit } = await octokit.request('POST /repos/{owner}/{repo}/git/commits', { owner, repo, message: `${d.title}\n\n${d.body}`, tree: before.tree.sha, parents: [d.after] });
  await octokitQueueGitHub(octokit, owner, repo, 0).resetBranch(d.ref, commit.sha); // its refs calls only (no app id needed)
  const { data: pr } = await octokit.request('POST /repos/{owner}/{repo}/pulls', { owner, repo, title: d.title, body: d.body, head: d.ref, base: d.branch });
  return { number: pr.number, url: pr.html_url };
}
