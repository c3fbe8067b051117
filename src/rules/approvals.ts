// Who stands behind a pull request: each reviewer's latest opinion (SPEC §2,
// reviews). Shared by the reviews rule, the freeze exception and mechanical changes.
import type { Actor, PullRequestFacts, Review } from '../facts/types.js';
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

export function tallyReviews(policy: Pick<ReviewsPolicy, 'fresh' | 'ignore_bots'> | undefined, facts: PullRequestFacts): ReviewTally {
  const { fresh, ignore_bots } = policy ?? DEFAULTS;
  const latest = new Map<string, { review: Review; author: Actor }>();
  const reviews = [...required(facts.reviews, 'reviews')].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt));
  for (const review of reviews) {
    if (!OPINIONS.has(review.state)) continue; // comment-only reviews carry no opinion
    latest.set(review.author.login.toLowerCase(), { review, author: review.author });
  }
  const tally: ReviewTally = { approvers: [], changesRequested: [], stale: [], bots: [] };
  const author = facts.author.login.toLowerCase();
  for (const [login, { review, author: reviewer }] of latest) {
    if (login === author) continue; // the author never counts
    if (review.state === 'DISMISSED') continue; // a dismissal clears the earlier opinion
    // A standing "changes requested" blocks whoever gave it, a bot (a security scanner) included;
    // ignore_bots is about approvals only.
    if (review.state === 'CHANGES_REQUESTED') tally.changesRequested.push(reviewer.login);
    else if (reviewer.bot && ignore_bots) tally.bots.push(reviewer.login);
    else if (fresh && review.commitSha !== facts.head.sha) tally.stale.push(reviewer.login);
    else tally.approvers.push(reviewer.login);
  }
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
