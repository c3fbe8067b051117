// The reviews rule (SPEC §2, reviews): enough approvals from people other than
// the author, none standing against, more for bigger changes, fewer for a
// verified mechanical one.
import { tallyReviews } from './approvals.js';
import type { RuleContext } from './context.js';
import { countSize, mechanicalCheck } from './size.js';
import type { Detail, RuleResult } from './types.js';
import { outOf, plural } from './words.js';

export interface ApprovalsRequired {
  required: number;
  /** Where the number comes from, for the details. */
  why: string;
}

/**
 * Approvals needed: `reviews.required`, raised by the `scale` step with the
 * largest `over_lines` that the counted size strictly exceeds; for a verified
 * mechanical change, `size.mechanical.required` instead (scale not applied).
 * Changed files are read only when there is a scale or a mechanical claim.
 */
export function approvalsRequired(ctx: RuleContext): ApprovalsRequired {
  const { reviews, size } = ctx.policy;
  const mech = mechanicalCheck(size, ctx.facts);
  if (mech.claimed && mech.verified) {
    return { required: size!.mechanical!.required, why: 'size.mechanical.required, for a verified mechanical change' };
  }
  const base = reviews?.required ?? 0;
  const scale = reviews?.scale ?? [];
  if (scale.length === 0) return { required: base, why: 'reviews.required' };
  const { lines } = countSize(size, ctx.facts);
  let step: (typeof scale)[number] | undefined;
  for (const s of scale) {
    if (lines <= s.over_lines) continue;
    if (!step || s.over_lines > step.over_lines || (s.over_lines === step.over_lines && s.required > step.required)) step = s;
  }
  if (!step || step.required <= base) {
    return { required: base, why: step ? `reviews.required (${plural(lines, 'line')} > ${step.over_lines} asks for no more)` : `reviews.required (${plural(lines, 'counted line')})` };
  }
  return { required: step.required, why: `reviews.scale: ${plural(lines, 'counted line')} > ${step.over_lines}` };
}

/** `@a, @b`, alphabetically so the text does not depend on the order reviews arrived in. */
const at = (logins: readonly string[]) =>
  [...logins].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).map((l) => `@${l}`).join(', ');

/** The reviews rule. */
export function reviewsRule(ctx: RuleContext): RuleResult {
  const reviews = ctx.policy.reviews;
  // A verified mechanical change needs size.mechanical.required approvals even where `reviews` is not configured.
  if (!reviews && !mechanicalCheck(ctx.policy.size, ctx.facts).verified) {
    return { rule: 'reviews', outcome: 'skip', reason: 'not configured', details: [] };
  }
  const blockOnChanges = reviews?.block_on_changes_requested ?? true;
  const tally = tallyReviews(reviews, ctx.facts);
  const { required, why } = approvalsRequired(ctx);
  const have = tally.approvers.length;
  const figure = outOf(have, required, 'approval');

  const details: Detail[] = [{ message: `${plural(required, 'approval')} needed: ${why}.` }];
  if (have > 0) details.push({ message: `Approved by ${at(tally.approvers)}.` });
  if (tally.stale.length > 0) {
    details.push({
      message: `Not counted: ${at(tally.stale)} approved an older commit; only approvals of the head commit ${ctx.facts.head.sha.slice(0, 7)} count (reviews.fresh).`,
    });
  }
  if (tally.bots.length > 0) {
    details.push({ message: `Not counted: ${at(tally.bots)} ${tally.bots.length === 1 ? 'is a bot' : 'are bots'} (reviews.ignore_bots).` });
  }
  if (tally.changesRequested.length > 0) {
    details.push({
      message: blockOnChanges
        ? `Changes requested by ${at(tally.changesRequested)}: address them and ask for a new review, or have the review dismissed.`
        : `Changes requested by ${at(tally.changesRequested)} (not blocking: reviews.block_on_changes_requested is false).`,
    });
  }

  if (blockOnChanges && tally.changesRequested.length > 0) {
    return { rule: 'reviews', outcome: 'fail', reason: `changes requested by ${at(tally.changesRequested)}; ${figure}`, details, actionRequired: true };
  }
  if (have < required) {
    return { rule: 'reviews', outcome: 'fail', reason: figure, details, actionRequired: true };
  }
  return { rule: 'reviews', outcome: 'pass', reason: have > 0 ? `${figure} (${at(tally.approvers)})` : figure, details };
}
