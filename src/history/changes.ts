// What changed from one evaluation of a pull request to the next, in words, for
// its page's history (SPEC §7). Pure. Rows are matched by rule and their order
// within the rule (owners has a row per group).
import type { ApprovalStanding, EvaluationRecord } from '../pages/types.js';
import type { RuleResult } from '../rules/types.js';
import { shortSha } from './record.js';

function rowsByKey(results: readonly RuleResult[]): Map<string, RuleResult> {
  const seen = new Map<string, number>();
  const out = new Map<string, RuleResult>();
  for (const r of results) {
    const n = seen.get(r.rule) ?? 0;
    seen.set(r.rule, n + 1);
    out.set(`${r.rule}#${n}`, r);
  }
  return out;
}

function ruleChanges(before: readonly RuleResult[], after: readonly RuleResult[]): string[] {
  const was = rowsByKey(before);
  const is = rowsByKey(after);
  const out: string[] = [];
  for (const [key, r] of is) {
    const b = was.get(key);
    if (!b) out.push(`${r.rule}: ${r.outcome} (${r.reason})`);
    else if (b.outcome !== r.outcome) out.push(`${r.rule}: ${b.outcome} → ${r.outcome} (${r.reason})`);
    else if (b.reason !== r.reason) out.push(`${r.rule}: ${r.reason} (was ${b.reason})`);
  }
  for (const [key, b] of was) if (!is.has(key)) out.push(`${b.rule}: no longer evaluated (was ${b.outcome}: ${b.reason})`);
  return out;
}

const opinion = (a: ApprovalStanding) => (a.state === 'APPROVED' ? 'approval' : a.state === 'CHANGES_REQUESTED' ? 'changes requested' : a.state.toLowerCase().replace(/_/g, ' '));

function approvalChanges(before: readonly ApprovalStanding[], after: readonly ApprovalStanding[]): string[] {
  const was = new Map(before.map((a) => [a.login.toLowerCase(), a]));
  const out: string[] = [];
  for (const a of after) {
    const b = was.get(a.login.toLowerCase());
    was.delete(a.login.toLowerCase());
    const counts = a.counted ? 'counts' : `does not count: ${a.why}`;
    if (!b || b.state !== a.state || b.commitSha !== a.commitSha || b.submittedAt !== a.submittedAt) out.push(`${opinion(a)} by ${a.login} (${counts})`);
    else if (b.counted && !a.counted) out.push(`${opinion(a)} by ${a.login} no longer counts: ${a.why}`);
    else if (!b.counted && a.counted) out.push(`${opinion(a)} by ${a.login} now counts`);
    else if (b.why !== a.why) out.push(`${opinion(a)} by ${a.login} does not count: ${a.why}`);
  }
  for (const b of was.values()) out.push(`${opinion(b)} by ${b.login} is gone`);
  return out;
}

export function changesBetween(before: EvaluationRecord | null, after: EvaluationRecord): string[] {
  if (before === null) return ['first evaluation'];
  const out: string[] = [];
  if (before.headSha !== after.headSha) out.push(`head ${shortSha(before.headSha)} → ${shortSha(after.headSha)}`);
  if (before.outcome !== after.outcome) out.push(`verdict: ${before.outcome} → ${after.outcome}`);
  out.push(...ruleChanges(before.results, after.results));
  out.push(...approvalChanges(before.approvals, after.approvals));
  const held = new Map(before.owners.map((g) => [g.group, g.holds]));
  for (const g of after.owners) {
    const was = held.get(g.group);
    if (was !== undefined && was !== g.holds) out.push(`owners group ${g.group}: ${g.holds ? 'now holds' : 'no longer holds'}`);
  }
  return out;
}
