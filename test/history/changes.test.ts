// What changed between two evaluations (src/history/changes.ts), in words; and
// as properties: no change says nothing, every rule row that changed is named.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { changesBetween } from '../../src/history/changes.js';
import type { ApprovalStanding, EvaluationRecord } from '../../src/pages/types.js';
import { RULE_NAMES, type Outcome, type RuleResult } from '../../src/rules/types.js';
import { evaluationAt } from './records.js';

const approval = (login: string, counted: boolean, why: string | null = null): ApprovalStanding => ({
  login,
  state: 'APPROVED',
  commitSha: 'c'.repeat(40),
  submittedAt: '2026-01-01T00:00:00Z',
  counted,
  why,
});

describe('changesBetween', () => {
  test('the first evaluation says so', () => {
    expect(changesBetween(null, evaluationAt(1))).toEqual(['first evaluation']);
  });

  test('a new head, the verdict, a rule, an approval that no longer counts', () => {
    const before = evaluationAt(1, { headSha: 'abc1234'.padEnd(40, '0'), outcome: 'wait', approvals: [approval('carol', true)], results: [{ rule: 'reviews', outcome: 'fail', reason: '1 / 2 approvals', details: [] }] });
    const after = evaluationAt(2, {
      headSha: 'def5678'.padEnd(40, '0'),
      outcome: 'pass',
      approvals: [approval('carol', false, 'stale: approved ccccccc, head is now def5678'), approval('dana', true)],
      results: [{ rule: 'reviews', outcome: 'pass', reason: '2 / 2 approvals', details: [] }],
    });
    expect(changesBetween(before, after)).toEqual([
      'head abc1234 → def5678',
      'verdict: wait → pass',
      'reviews: fail → pass (2 / 2 approvals)',
      'approval by carol no longer counts: stale: approved ccccccc, head is now def5678',
      'approval by dana (counts)',
    ]);
  });

  test('owners groups that start or stop holding', () => {
    const group = { group: 'database', owners: ['carol'], files: ['db/1.sql'], required: 1, approvers: [], candidates: ['carol'], blocked: [], holds: false };
    expect(changesBetween(evaluationAt(1, { owners: [group] }), evaluationAt(2, { owners: [{ ...group, holds: true, approvers: ['carol'] }] }))).toEqual(['owners group database: now holds']);
  });
});

const outcome = fc.constantFrom<Outcome>('pass', 'fail', 'wait', 'skip');
const row = fc.record({ rule: fc.constantFrom(...RULE_NAMES), outcome, reason: fc.string({ maxLength: 12 }) }).map((r): RuleResult => ({ ...r, details: [] }));
const record = fc
  .record({ head: fc.constantFrom('a', 'b'), outcome, results: fc.array(row, { maxLength: 6 }), counted: fc.array(fc.boolean(), { maxLength: 3 }) })
  .map(({ head, outcome: o, results, counted }): EvaluationRecord =>
    evaluationAt(1, { headSha: head.repeat(40), outcome: o, results, approvals: counted.map((c, i) => approval(`r${i}`, c, c ? null : 'dismissed')) }),
  );

describe('changesBetween, as properties', () => {
  test('an evaluation the same as the one before (when and why aside) changed nothing', () => {
    fc.assert(fc.property(record, fc.array(fc.string(), { maxLength: 3 }), (r, causes) => {
      return changesBetween(r, { ...r, at: r.at + 5, lastAt: r.lastAt + 9, seen: 4, causes }).length === 0;
    }));
  });

  test('every rule whose row changed outcome or reason is named', () => {
    fc.assert(fc.property(record, record, (before, after) => {
      const said = changesBetween(before, after);
      const key = (rows: RuleResult[]) => {
        const seen = new Map<string, number>();
        return rows.map((r) => {
          const n = seen.get(r.rule) ?? 0;
          seen.set(r.rule, n + 1);
          return [`${r.rule}#${n}`, r] as const;
        });
      };
      const was = new Map(key(before.results));
      const is = new Map(key(after.results));
      const changed = new Set<string>();
      for (const [k, r] of is) if (was.get(k)?.outcome !== r.outcome || was.get(k)?.reason !== r.reason) changed.add(r.rule);
      for (const [k, r] of was) if (!is.has(k)) changed.add(r.rule);
      for (const rule of changed) if (!said.some((line) => line.startsWith(`${rule}: `))) return false;
      return (before.outcome !== after.outcome) === said.includes(`verdict: ${before.outcome} → ${after.outcome}`);
    }));
  });
});
