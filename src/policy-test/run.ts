// Running policy test cases: each case's verdict against what it expects. Pure.
import { DateTime } from 'luxon';
import type { Policy } from '../policy/schema.js';
import { evaluate } from '../rules/index.js';
import type { Verdict } from '../rules/types.js';
import type { TestCase } from './cases.js';

export interface CaseOutcome {
  name: string;
  /** 1-based line of the case in its file. */
  line: number;
  passed: boolean;
  /** What differs, one line each: the overall result, then each rule named in `rules`. */
  differences: string[];
  verdict: Verdict;
}

export function runCase(policy: Policy, c: TestCase, facts: Parameters<typeof evaluate>[1], line: number): CaseOutcome {
  const verdict = evaluate(policy, facts, DateTime.fromISO(c.at, { zone: 'utc', setZone: true }));
  const differences: string[] = [];
  const why = (rule: string) => verdict.results.find((r) => r.rule === rule)?.reason ?? 'not evaluated';
  if (verdict.outcome !== c.expect) {
    const blamed = verdict.results.filter((r) => r.outcome === verdict.outcome && r.outcome !== 'pass');
    differences.push(`expected ${c.expect}, got ${verdict.outcome}${blamed.length ? ` (${blamed.map((r) => `${r.rule}: ${r.reason}`).join('; ')})` : ''}`);
  }
  for (const [rule, want] of Object.entries(c.rules)) {
    const got = verdict.results.find((r) => r.rule === rule)?.outcome ?? 'skip';
    if (got !== want) differences.push(`${rule}: expected ${want}, got ${got} (${why(rule)})`);
  }
  return { name: c.name, line, passed: differences.length === 0, differences, verdict };
}
