// The checks rule (SPEC §2, checks): every required check run or commit status
// has succeeded on the head commit. Pending means waiting; failure means blocked.
import type { CheckResult, CheckState } from '../facts/types.js';
import { required as gathered, type RuleContext } from './context.js';
import type { Detail, RuleResult } from './types.js';
import { outOf } from './words.js';

export type Standing = 'ok' | 'wait' | 'fail';

const WORDS: Record<CheckState, string> = {
  success: 'succeeded',
  failure: 'failed',
  pending: 'pending',
  neutral: 'neutral',
  skipped: 'skipped',
  cancelled: 'cancelled',
  timed_out: 'timed out',
  action_required: 'needs action',
  stale: 'stale',
  error: 'errored',
};

/** Worst first, to break ties between results reported at the same instant (fail closed). */
const SEVERITY: Record<CheckState, number> = {
  failure: 9, error: 9, timed_out: 8, cancelled: 8, action_required: 8, stale: 8,
  pending: 5, neutral: 2, skipped: 2, success: 0,
};

function standing(state: CheckState, allowNeutral: boolean): Standing {
  switch (state) {
    case 'success': return 'ok';
    case 'neutral':
    case 'skipped': return allowNeutral ? 'ok' : 'fail';
    case 'pending': return 'wait';
    default: return 'fail';
  }
}

/** The latest result per name (by `updatedAt`; on a tie the worse one). */
function latestByName(checks: readonly CheckResult[]): Map<string, CheckResult> {
  const latest = new Map<string, { check: CheckResult; at: number }>();
  for (const check of checks) {
    const t = Date.parse(check.updatedAt);
    const at = Number.isNaN(t) ? -Infinity : t;
    const seen = latest.get(check.name);
    if (!seen || at > seen.at || (at === seen.at && SEVERITY[check.state] > SEVERITY[seen.check.state])) {
      latest.set(check.name, { check, at });
    }
  }
  return new Map([...latest].map(([name, { check }]) => [name, check]));
}

/** A required check's standing on a commit: its latest result (null: not reported yet). */
export interface RequiredStanding {
  name: string;
  check: CheckResult | null;
  standing: Standing;
}

/**
 * How each required check stands against the results on a commit (check runs
 * and statuses alike, the latest per name): the judgement the checks rule and
 * the merge queue's read of a staging head (src/queue/github.ts) share.
 */
export function requiredStandings(checks: readonly CheckResult[], required: readonly string[], allowNeutral: boolean): RequiredStanding[] {
  const latest = latestByName(checks);
  return [...new Set(required)].map((name) => {
    const check = latest.get(name) ?? null;
    return { name, check, standing: check ? standing(check.state, allowNeutral) : 'wait' };
  });
}

/** The checks rule. */
export function checksRule(ctx: RuleContext): RuleResult {
  const policy = ctx.policy.checks;
  if (!policy) return { rule: 'checks', outcome: 'skip', reason: 'not configured', details: [] };
  const standings = requiredStandings(gathered(ctx.facts.checks, 'checks'), policy.required, policy.allow_neutral);
  if (standings.length === 0) return { rule: 'checks', outcome: 'skip', reason: 'no required checks', details: [] };

  const passed: string[] = [];
  const waiting: string[] = [];
  const failed: string[] = [];
  const details: Detail[] = [];
  for (const { name, check, standing: s } of standings) {
    if (!check) {
      waiting.push(name);
      details.push({ message: `${name}: not reported yet` });
      continue;
    }
    const kind = check.source === 'status' ? 'status' : 'check run';
    if (s === 'ok') {
      passed.push(name);
      details.push({ message: `${name}: ${WORDS[check.state]} (${kind})` });
    } else if (s === 'wait') {
      waiting.push(name);
      details.push({ message: `${name}: pending (${kind})` });
    } else {
      const neutral = check.state === 'neutral' || check.state === 'skipped';
      failed.push(`${name} ${WORDS[check.state]}`);
      details.push({ message: `${name}: ${WORDS[check.state]} (${kind})${neutral ? '; neutral and skipped do not count as success unless checks.allow_neutral is true' : ''}` });
    }
  }

  const figure = `${outOf(passed.length, standings.length, 'required check')} passed`;
  if (failed.length > 0) return { rule: 'checks', outcome: 'fail', reason: `${failed.join(', ')}; ${figure}`, details };
  if (waiting.length > 0) return { rule: 'checks', outcome: 'wait', reason: `${figure}; waiting on ${waiting.join(', ')}`, details };
  return { rule: 'checks', outcome: 'pass', reason: figure, details };
}
