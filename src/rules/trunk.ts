// The trunk rule (SPEC §2, trunk): while the newest deployment to the policy's
// environment has a latest status in `hold_on`, nothing lands on top of the
// unhealthy revision; the exception label with enough approvals lets a fix or a
// revert through. A deployment that is still under way, or none at all, holds
// nothing: only a settled, unhealthy newest deployment does.
import { DateTime } from 'luxon';
import type { DeploymentFacts, DeploymentState } from '../facts/types.js';
import type { TrunkPolicy } from '../policy/schema.js';
import { exceptionStanding } from './approvals.js';
import { required, type RuleContext } from './context.js';
import type { Detail, RuleResult } from './types.js';
import { outOf, plural } from './words.js';

export const DEPLOYMENT_STATES: readonly DeploymentState[] = ['pending', 'queued', 'in_progress', 'waiting', 'success', 'failure', 'error', 'inactive'];

/** The newest deployment, when it holds landings under `trunk`: settled in one of the `hold_on` states. */
export function heldBy(trunk: TrunkPolicy, deployment: DeploymentFacts | null): (DeploymentFacts & { status: NonNullable<DeploymentFacts['status']> }) | null {
  const status = deployment?.status;
  if (!deployment || !status) return null;
  return (trunk.hold_on as readonly DeploymentState[]).includes(status.state) ? { ...deployment, status } : null;
}

/**
 * Text someone else wrote (a deployment status's description), shown as an
 * inline code span: markdown does not interpret it, and no control character
 * reaches a terminal.
 */
export function codeSpan(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  let clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/`/g, "'").trim();
  if ([...clean].length > max) clean = `${[...clean].slice(0, max - 1).join('')}…`;
  return `\`${clean || ' '}\``;
}

/** An http(s) URL fit for a link (normalised, so it cannot break out of `<…>`), else null. */
export function linkable(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** An instant as the check and the revert say it: "2026-11-22 10:05 UTC". */
export function utcInstant(iso: string): string {
  const at = DateTime.fromISO(iso, { zone: 'utc' });
  return at.isValid ? `${at.setLocale('en-US').toFormat('yyyy-MM-dd HH:mm')} UTC` : iso;
}

const WORDS: Record<DeploymentState, string> = {
  pending: 'pending',
  queued: 'queued',
  in_progress: 'in progress',
  waiting: 'waiting',
  success: 'healthy (success)',
  failure: 'failure',
  error: 'error',
  inactive: 'inactive',
};

export function trunkRule(ctx: RuleContext): RuleResult {
  const trunk = ctx.policy.trunk;
  if (!trunk) return { rule: 'trunk', outcome: 'skip', reason: 'not configured', details: [] };
  const env = trunk.environment;
  const deployment = required(ctx.facts.deployment, 'the newest deployment');
  if (!deployment) return { rule: 'trunk', outcome: 'pass', reason: `no deployment to ${env} yet`, details: [] };
  const short = deployment.sha.slice(0, 7);
  const held = heldBy(trunk, deployment);
  if (!held) {
    const state = deployment.status?.state;
    const words = state ? WORDS[state] : 'starting (no status yet)';
    return { rule: 'trunk', outcome: 'pass', reason: `${env}: ${short} ${words}`, details: [] };
  }

  const { status } = held;
  const since = utcInstant(status.since);
  const link = linkable(status.url);
  const holding = `${env} unhealthy: ${short} ${status.state} since ${since}`;
  const details: Detail[] = [
    { message: `the newest deployment to ${env}, ${deployment.sha}, has been in state ${status.state} since ${since}${link ? ` (${link})` : ''}` },
  ];
  if (status.description) details.push({ message: `its status says ${codeSpan(status.description)}` });
  details.push({ message: `landings resume when a healthy revision is deployed to ${env}; merge-gate re-evaluates this pull request by itself then` });
  const revert = deployment.revert;
  if (revert) details.push({ message: `revert proposed: #${revert.number}${linkable(revert.url) ? ` (${linkable(revert.url)})` : ''}` });

  const exception = trunk.exception;
  if (!exception) return { rule: 'trunk', outcome: 'wait', reason: holding, details };
  const standing = exceptionStanding(exception, ctx.policy.reviews, ctx.facts);
  if (!standing.labelled) {
    details.push({ message: `a pull request labelled ${exception.label} with ${plural(exception.required, 'approval')} may land meanwhile (a fix or a revert)` });
    return { rule: 'trunk', outcome: 'wait', reason: holding, details };
  }
  const { approvers } = standing;
  const have = approvers.length;
  if (standing.enough) {
    return {
      rule: 'trunk',
      outcome: 'pass',
      reason: `${holding}, but ${exception.label} with ${outOf(have, exception.required, 'approval')}`,
      details: [...details, { message: `approved by ${approvers.join(', ') || 'nobody (none required)'}` }],
    };
  }
  // Still held, not failed: the hold ends by itself when trunk turns healthy.
  details.push({
    message: `labelled ${exception.label}: ${outOf(have, exception.required, 'approval')}${have ? ` (${approvers.join(', ')})` : ''}; ${exception.required - have} more needed to land before trunk is healthy again`,
  });
  return { rule: 'trunk', outcome: 'wait', reason: `${holding}; ${exception.label} needs ${plural(exception.required, 'approval')}, has ${have}`, details };
}
