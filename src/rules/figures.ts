// The verdict's measured figures as numbers, for `merge-gate check --json`
// (the rules' reasons say the same in words). Pure: policy and facts in.
import type { PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { tallyReviews } from './approvals.js';
import { approvalsRequired } from './reviews.js';
import { countSize } from './size.js';
import { ownersStanding } from './owners.js';
import type { DateTime } from 'luxon';

export interface VerdictFigures {
  size?: { counted: number; limit: number | null; files: number; fileLimit: number | null; excluded: number };
  reviews?: { approvals: number; required: number };
  /** One entry per reviews.owners group (or CODEOWNERS owner set) that applies. */
  owners?: Array<{ group: string; owners: string[]; approvals: number; required: number; holds: boolean }>;
}

export function verdictFigures(policy: Policy, facts: PullRequestFacts, now: DateTime): VerdictFigures {
  const figures: VerdictFigures = {};
  if (policy.size && facts.files) {
    const count = countSize(policy.size, facts);
    figures.size = { counted: count.lines, limit: policy.size.max_lines ?? null, files: count.files, fileLimit: policy.size.max_files ?? null, excluded: count.excluded.length };
  }
  if (policy.reviews && facts.reviews) {
    figures.reviews = { approvals: tallyReviews(policy.reviews, facts).approvers.length, required: approvalsRequired({ policy, facts, now }).required };
  }
  if (policy.reviews?.owners.length && facts.files && facts.reviews) {
    figures.owners = ownersStanding(policy, facts).map((s) => ({ group: s.group, owners: s.owners, approvals: s.approvers.length, required: s.required, holds: s.holds }));
  }
  return figures;
}
