// The checks of pull requests merge-gate could not evaluate or read: failures
// that say what went wrong and what happens next (fail closed).
import { nextChangeFromExternalId, type CheckRunPlan } from './checkrun.js';
import type { ExistingCheckRun } from './nodes.js';

/** How long, in words. */
function duration(ms: number): string {
  if (ms >= 90 * 60_000) return `${Math.round(ms / 3_600_000)} hours`;
  if (ms >= 90_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}

export const COULD_NOT_EVALUATE_TITLE = 'fail: merge-gate could not evaluate this pull request';

/**
 * The check of a pull request whose evaluation was given up. Its external id
 * names the retry, so that a restarted app re-arms it; an unchanged failure
 * keeps the instant it already carries, so a retry that fails the same way
 * writes nothing.
 */
export function couldNotEvaluatePlan(message: string, retryAt: Date, retryMs: number, existing: ExistingCheckRun | null): CheckRunPlan {
  const carried = existing?.title === COULD_NOT_EVALUATE_TITLE && nextChangeFromExternalId(existing.externalId);
  return {
    status: 'completed',
    conclusion: 'failure',
    title: COULD_NOT_EVALUATE_TITLE,
    summary:
      `**❌ fail** — merge-gate could not evaluate this pull request, so it cannot pass it: ${message}\n\n` +
      `merge-gate tries again by itself every ${duration(retryMs)}, and on the pull request's next event; the Re-run button tries at once.`,
    text: '',
    externalId: `next=${carried || retryAt.toISOString()}`,
    detailsUrl: null,
    annotations: [],
  };
}

/** A failure check for a pull request merge-gate could not read, with what went wrong. */
export function unreadablePlan(message: string): CheckRunPlan {
  return {
    status: 'completed',
    conclusion: 'failure',
    title: 'fail: merge-gate could not read this pull request',
    summary: `**❌ fail** — merge-gate could not read this pull request, so it cannot pass it.\n\n${message}`,
    text: '',
    externalId: '',
    detailsUrl: null,
    annotations: [],
  };
}
