// One evaluation of a pull request as the pages show it (SPEC §7): the verdict's
// rows, each reviewer's standing opinion with whether it counted and why not,
// and the `reviews.owners` groups that apply. Pure; the gate hands it to the
// history (store.ts). A rule's details are capped (the check run has them all). "Does this approval count" is src/rules/approvals.ts'
// decision, the same one the reviews rule makes.
import type { PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { reviewStandings, type ReviewStanding } from '../rules/approvals.js';
import { ownersStanding } from '../rules/owners.js';
import type { RuleResult, Verdict } from '../rules/types.js';
import type { ApprovalStanding, EvaluationRecord, OwnersGroupView } from '../pages/types.js';

export interface EvaluationInput {
  /** null: the policy has errors (the verdict says so). */
  policy: Policy | null;
  facts: PullRequestFacts;
  verdict: Verdict;
  /** What asked for it (webhook names, `timer`, `restart`, …). */
  causes: readonly string[];
  /** ms since the epoch. */
  at: number;
}

/** The 7-character form of a SHA, as GitHub shows it. */
export const shortSha = (sha: string | null): string => (sha === null ? 'an unknown commit' : sha.slice(0, 7));

function why({ review, standing }: ReviewStanding, head: string): string | null {
  switch (standing) {
    case 'counted':
      return null;
    case 'author':
      return "the author's own";
    case 'dismissed':
      return 'dismissed';
    case 'changes-requested':
      return 'changes requested';
    case 'bot':
      return 'from a bot (ignore_bots)';
    case 'stale':
      return `stale: approved ${shortSha(review.commitSha)}, head is now ${shortSha(head)}`;
  }
}

export function approvalStandings(policy: Policy | null, facts: PullRequestFacts): ApprovalStanding[] {
  if (facts.reviews === undefined) return []; // not read (a policy with errors reads no reviews)
  return reviewStandings(policy?.reviews, facts).map((s) => ({
    login: s.review.author.login,
    state: s.review.state,
    commitSha: s.review.commitSha,
    submittedAt: s.review.submittedAt,
    counted: s.standing === 'counted',
    why: why(s, facts.head.sha),
  }));
}

export function ownersGroups(policy: Policy | null, facts: PullRequestFacts): OwnersGroupView[] {
  if (policy === null || facts.reviews === undefined) return [];
  return ownersStanding(policy, facts).map((g) => ({
    group: g.group,
    owners: g.owners,
    files: g.files,
    required: g.required,
    approvers: g.approvers,
    candidates: g.candidates,
    blocked: g.blocked,
    holds: g.holds,
  }));
}

/** Details kept per rule: a row's reason carries its figures, the check run keeps every detail; this bounds a record's size. */
export const DETAILS_KEPT = 20;

function boundedResults(results: readonly RuleResult[]): RuleResult[] {
  return results.map((r) =>
    r.details.length <= DETAILS_KEPT ? r : { ...r, details: [...r.details.slice(0, DETAILS_KEPT), { message: `… and ${r.details.length - DETAILS_KEPT} more on the check run` }] },
  );
}

export function evaluationRecord({ policy, facts, verdict, causes, at }: EvaluationInput): EvaluationRecord {
  return {
    repository: facts.repository,
    number: facts.number,
    at,
    lastAt: at,
    seen: 1,
    causes: [...new Set(causes)],
    headSha: verdict.headSha,
    base: facts.base.ref,
    title: facts.title,
    author: facts.author.login,
    url: facts.url,
    outcome: verdict.outcome,
    results: boundedResults(verdict.results),
    approvals: approvalStandings(policy, facts),
    owners: ownersGroups(policy, facts),
  };
}
