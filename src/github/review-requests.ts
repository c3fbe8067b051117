// `reviews.request: true`: when an owners group applies and holds no approval
// yet, ask its owners for a review (GitHub's POST …/pulls/{n}/requested_reviewers),
// once per head commit, never twice. A courtesy after the verdict is written:
// it never changes the verdict, and its failure never fails the evaluation
// (it is logged; one GitHub refuses is not asked again for that head).
import type { PullRequestFacts, TeamMembership } from '../facts/types.js';
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { Policy } from '../policy/schema.js';
import { isGated } from '../rules/index.js';
import { ownersStanding } from '../rules/owners.js';
import { classifyError } from './errors.js';
import { pullKey, type PullRef } from './pull-ref.js';

/** Where an applying group stands, as far as asking for reviews goes (the rule's OwnersStanding has these). */
export interface RequestableGroup {
  group: string;
  /** Users (logins, no `@`) and teams (`@org/team`) who may approve. */
  users: readonly string[];
  teams: readonly string[];
  /** Approvals that count, from its owners. */
  approvers: readonly string[];
  holds: boolean;
}

export interface ReviewRequest {
  reviewers: string[];
  /** Team slugs (of the repository's organisation). */
  teamReviewers: string[];
  /** The groups it is for, for the log. */
  groups: string[];
}

/** Most reviewers and teams asked at once: a policy naming dozens should not page everyone. */
export const MAX_REQUESTED = 15;

/** `user:login` / `team:@org/slug`, lower-cased: what was asked on a head. */
const askedUser = (login: string) => `user:${login.toLowerCase()}`;
const askedTeam = (team: string) => `team:${team.toLowerCase()}`;

/**
 * Whom to ask (pure): the users and teams of groups that apply with no
 * approval yet, minus the author (GitHub refuses), teams of another
 * organisation or that cannot be read (GitHub cannot request them), and
 * whoever was asked on this head already. Drafts ask no one (as GitHub's own
 * code owners). Null: nobody to ask.
 */
export function planReviewRequest(
  groups: readonly RequestableGroup[],
  pull: { author: string; draft: boolean; org: string; teams?: Record<string, TeamMembership> },
  asked: ReadonlySet<string> = new Set(),
): ReviewRequest | null {
  if (pull.draft) return null;
  const reviewers = new Map<string, string>();
  const teamReviewers = new Map<string, string>();
  const names: string[] = [];
  for (const g of groups) {
    if (g.holds || g.approvers.length > 0) continue;
    let any = false;
    for (const user of g.users) {
      const key = askedUser(user);
      if (user.toLowerCase() === pull.author.toLowerCase() || asked.has(key) || reviewers.has(key)) continue;
      reviewers.set(key, user);
      any = true;
    }
    for (const team of g.teams) {
      const key = askedTeam(team);
      const [org, slug] = team.replace(/^@/, '').split('/');
      const membership = pull.teams?.[team.toLowerCase()];
      if (org.toLowerCase() !== pull.org.toLowerCase() || !membership || 'error' in membership || asked.has(key) || teamReviewers.has(key)) continue;
      teamReviewers.set(key, slug);
      any = true;
    }
    if (any) names.push(g.group);
  }
  const users = [...reviewers.values()].slice(0, MAX_REQUESTED);
  const teams = [...teamReviewers.values()].slice(0, MAX_REQUESTED - users.length);
  return users.length + teams.length === 0 ? null : { reviewers: users, teamReviewers: teams, groups: names };
}

/** Remembers per pull request what was asked on its current head; the oldest pull requests go first past `max`. */
export class ReviewRequests {
  private readonly asked = new Map<string, { head: string; keys: Set<string> }>();
  constructor(private readonly max = 10_000) {}

  /** After a verdict under `policy`: with `reviews.request: true`, ask the owners of the groups that apply with no approval yet; never throws. */
  async afterVerdict(octokit: Octokit, ref: PullRef, facts: PullRequestFacts, policy: Policy, log: Log): Promise<void> {
    if (!policy.reviews?.request || !policy.reviews.owners.length || facts.state !== 'open' || !isGated(policy, facts.base.ref)) return;
    let groups: RequestableGroup[];
    try {
      groups = ownersStanding(policy, facts);
    } catch (err) {
      // The rule said why on the check (it fails closed the same way); there is no one to ask.
      log.warn({ key: pullKey(ref), err: (err as Error).message }, 'merge-gate: no review requested: the owners groups could not be worked out');
      return;
    }
    await this.request(octokit, ref, facts, groups, log);
  }

  /** Ask for the reviews `groups` call for on the facts' head (see planReviewRequest); never throws. */
  async request(octokit: Octokit, ref: PullRef, facts: PullRequestFacts, groups: readonly RequestableGroup[], log: Log): Promise<void> {
    const key = pullKey(ref);
    const record = this.asked.get(key);
    const keys = record?.head === facts.head.sha ? record.keys : new Set<string>();
    const plan = planReviewRequest(groups, { author: facts.author.login, draft: facts.draft, org: ref.owner, teams: facts.teams }, keys);
    if (!plan) return;
    const remember = () => {
      for (const u of plan.reviewers) keys.add(askedUser(u));
      for (const t of plan.teamReviewers) keys.add(askedTeam(`@${ref.owner}/${t}`));
      this.asked.delete(key);
      this.asked.set(key, { head: facts.head.sha, keys });
      while (this.asked.size > this.max) this.asked.delete(this.asked.keys().next().value!);
    };
    try {
      await octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', {
        owner: ref.owner,
        repo: ref.repo,
        pull_number: ref.number,
        ...(plan.reviewers.length ? { reviewers: plan.reviewers } : {}),
        ...(plan.teamReviewers.length ? { team_reviewers: plan.teamReviewers } : {}),
      });
      remember();
      log.info({ key, head: facts.head.sha, groups: plan.groups, reviewers: plan.reviewers, teams: plan.teamReviewers }, 'merge-gate: asked the owners for a review');
    } catch (err) {
      // GitHub refused (not a collaborator, no access): asking again on this head would be refused again.
      if (!classifyError(err).retryable) remember();
      log.warn({ key, head: facts.head.sha, groups: plan.groups, err: (err as Error).message }, 'merge-gate: could not ask the owners for a review (reviews.request); the check is unaffected');
    }
  }

  /** A closed pull request. */
  forget(ref: PullRef): void {
    this.asked.delete(pullKey(ref));
  }
}
