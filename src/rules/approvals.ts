// Who stands behind a pull request: each reviewer's latest opinion (SPEC §2,
// reviews). Shared by the reviews rule, the freeze exception and mechanical changes.
import type { PullRequestFacts, Review } from '../facts/types.js';
import type { ReviewsPolicy } from '../policy/schema.js';
import { required } from './context.js';

export interface ReviewTally {
  /** Reviewers whose standing opinion is an approval that counts. */
  approvers: string[];
  /** Reviewers whose standing opinion is "changes requested" (the author excluded; bots included). */
  changesRequested: string[];
  /** Approvals that do not count because they were given on an older commit (`fresh`). */
  stale: string[];
  /** Approvals that do not count because they come from bots (`ignore_bots`). */
  bots: string[];
}

const OPINIONS = new Set<Review['state']>(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

/** The defaults that apply when `reviews` is not configured but approvals still matter (freeze exception, mechanical). */
const DEFAULTS: Pick<ReviewsPolicy, 'fresh' | 'ignore_bots'> = { fresh: false, ignore_bots: true };

/** Why a reviewer's standing opinion does or does not count as an approval (one decision for the rule and the pages). */
export type Standing = 'counted' | 'author' | 'dismissed' | 'changes-requested' | 'bot' | 'stale';

export interface ReviewStanding {
  review: Review;
  standing: Standing;
}

/** Each reviewer's standing opinion (their latest review with an opinion), in the order they first gave one, and whether it counts. */
export function reviewStandings(policy: Pick<ReviewsPolicy, 'fresh' | 'ignore_bots'> | undefined, facts: PullRequestFacts): ReviewStanding[] {
  const { fresh, ignore_bots } = policy ?? DEFAULTS;
  const latest = new Map<string, Review>();
  const reviews = [...required(facts.reviews, 'reviews')].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt));
  for (const review of reviews) {
    if (!OPINIONS.has(review.state)) continue; // comment-only reviews carry no opinion
    latest.set(review.author.login.toLowerCase(), review);
  }
  const author = facts.author.login.toLowerCase();
  const standing = (login: string, review: Review): Standing => {
    if (login === author) return 'author'; // the author never counts
    if (review.state === 'DISMISSED') return 'dismissed'; // a dismissal clears the earlier opinion
    // A standing "changes requested" blocks whoever gave it, a bot (a security scanner) included;
    // ignore_bots is about approvals only.
    if (review.state === 'CHANGES_REQUESTED') return 'changes-requested';
    if (review.author.bot && ignore_bots) return 'bot';
    if (fresh && review.commitSha !== facts.head.sha) return 'stale';
    return 'counted';
  };
  return [...latest].map(([login, review]) => ({ review, standing: standing(login, review) }));
}

export function tallyReviews(policy: Pick<ReviewsPolicy, 'fresh' | 'ignore_bots'> | undefined, facts: PullRequestFacts): ReviewTally {
  const tally: ReviewTally = { approvers: [], changesRequested: [], stale: [], bots: [] };
  const into: Partial<Record<Standing, string[]>> = { counted: tally.approvers, 'changes-requested': tally.changesRequested, stale: tally.stale, bot: tally.bots };
  for (const { review, standing } of reviewStandings(policy, facts)) into[standing]?.push(review.author.login);
  return tally;
}

/** Where a pull request stands on a labelled exception (freeze, trunk): not labelled, or labelled with these approvers. */
export function exceptionStanding(
  exception: { label: string; required: number },
  policy: Pick<ReviewsPolicy, 'fresh' | 'ignore_bots'> | undefined,
  facts: PullRequestFacts,
): { labelled: false } | { labelled: true; approvers: string[]; enough: boolean } {
  const wanted = exception.label.toLowerCase();
  if (!facts.labels.some((l) => l.toLowerCase() === wanted)) return { labelled: false };
  const approvers = tallyReviews(policy, facts).approvers;
  return { labelled: true, approvers, enough: approvers.length >= exception.required };
}
