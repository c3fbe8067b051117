// One change's replay result from (policy, facts, instant): the rules' verdict,
// with the rules the source cannot know reported `unknown`. Pure.
import { DateTime } from 'luxon';
import type { PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { evaluate } from '../rules/index.js';
import { freezeState } from '../rules/freeze.js';
import { sizeRule } from '../rules/size.js';
import type { Outcome } from '../rules/types.js';
import { REPLAY_RULES, type ChangeResult, type ReplayCell, type ReplayChange, type ReplayOutcome, type ReplayRule } from './types.js';

const HOUR = 3_600_000;
/** Flag violations listed per change. */
const LISTED_VIOLATIONS = 3;

/** Facts that claim the mechanical label, so the size rule verifies the change; null when the policy has no such label or it is already claimed. */
export function withMechanicalLabel(policy: Policy, facts: PullRequestFacts): PullRequestFacts | null {
  const label = policy.size?.mechanical?.label;
  if (!label || facts.labels.some((l) => l.toLowerCase() === label.toLowerCase())) return null;
  return { ...facts, labels: [...facts.labels, label] };
}

/**
 * The change's result. `labelled`: the same facts with the mechanical label and
 * their hunks, given when the size rule failed and the source cannot know labels;
 * the report then says whether the label would have let the change through.
 */
export function judgeChange(
  policy: Policy,
  change: ReplayChange,
  facts: PullRequestFacts,
  unknown: readonly ReplayRule[],
  labelled: PullRequestFacts | null = null,
): ChangeResult {
  const at = DateTime.fromISO(change.at, { zone: 'utc' });
  const verdict = evaluate(policy, facts, at);
  const rules = {} as Record<ReplayRule, ReplayCell>;
  const reasons: string[] = [];
  for (const rule of REPLAY_RULES) {
    const r = verdict.results.find((x) => x.rule === rule);
    const outcome: Outcome = r?.outcome ?? 'skip';
    rules[rule] = outcome !== 'skip' && unknown.includes(rule) ? 'unknown' : outcome;
    if (r && (rules[rule] === 'fail' || rules[rule] === 'wait')) {
      reasons.push(`${rule}: ${r.reason}`);
      // The flags rule's reason is a count; its violations (file, line, flag) are what a reader needs.
      if (rule === 'flags') {
        for (const d of r.details.slice(0, LISTED_VIOLATIONS)) reasons.push(`flags: ${d.path ? `${d.path}${d.line ? `:${d.line}` : ''}: ` : ''}${d.message}`);
        if (r.details.length > LISTED_VIOLATIONS) reasons.push(`flags: and ${r.details.length - LISTED_VIOLATIONS} more`);
      }
    }
  }
  if (rules.size === 'fail' && labelled && sizeRule({ policy, facts: labelled, now: at }).outcome === 'pass') {
    reasons.push(`size: verifiably mechanical (renames, whitespace): the "${policy.size!.mechanical!.label}" label could have let it through`);
  }
  const cells = Object.values(rules);
  const result: ReplayOutcome = cells.includes('fail') ? 'fail' : cells.includes('wait') ? 'wait' : cells.includes('unknown') ? 'unknown' : 'pass';
  let freezeWaitHours: number | null = null;
  if (rules.freeze === 'wait' && policy.freeze) {
    const endsAt = freezeState(policy.freeze, at).active?.endsAt;
    freezeWaitHours = endsAt ? (endsAt.toMillis() - at.toMillis()) / HOUR : Infinity;
  }
  return { ...change, result, rules, reasons, freezeWaitHours };
}
