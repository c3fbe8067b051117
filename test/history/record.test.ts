// The evaluation record (src/history/record.ts): every reviewer's standing
// opinion with whether it counted and why not — the reviews rule's own
// decision (src/rules/approvals.ts) — and the owners groups.
import { describe, expect, test } from '@jest/globals';
import { DateTime } from 'luxon';
import { evaluationRecord } from '../../src/history/record.js';
import { evaluate, policyErrorVerdict } from '../../src/rules/index.js';
import { HEAD_SHA, OLD_SHA, changed, makeFacts, review } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-03-04T12:00:00Z');
const POLICY = validPolicy(`
preset: none
reviews:
  required: 2
  fresh: true
  owners:
    - name: database
      paths: ["db/**"]
      from: [carol, dana]
      required: 1
`);

describe('evaluationRecord', () => {
  const facts = makeFacts({
    files: [changed('db/001.sql', 3, 0)],
    reviews: [
      review('carol', 'APPROVED', { commitSha: OLD_SHA }),
      review('dana', 'APPROVED'),
      review('renovate[bot]', 'APPROVED'),
      review('author', 'APPROVED'),
      review('erin', 'CHANGES_REQUESTED'),
      review('frank', 'APPROVED'),
      review('frank', 'DISMISSED'),
      review('gina', 'COMMENTED'),
    ],
  });
  const verdict = evaluate(POLICY, facts, NOW);
  const record = evaluationRecord({ policy: POLICY, facts, verdict, causes: ['pull_request_review.submitted', 'status', 'status'], at: 1000 });

  test('every standing opinion, counted or not, and why not in words', () => {
    expect(record.approvals.map((a) => [a.login, a.counted, a.why])).toEqual([
      ['carol', false, `stale: approved ${OLD_SHA.slice(0, 7)}, head is now ${HEAD_SHA.slice(0, 7)}`],
      ['dana', true, null],
      ['renovate[bot]', false, 'from a bot (ignore_bots)'],
      ['author', false, "the author's own"],
      ['erin', false, 'changes requested'],
      ['frank', false, 'dismissed'],
    ]);
    expect(record.approvals[0].why).toBe('stale: approved ccccccc, head is now aaaaaaa');
  });

  test('the rows are the verdict\'s, the owners groups who can approve, the causes deduplicated', () => {
    expect(record.results).toEqual(verdict.results);
    expect(record.outcome).toBe('fail');
    expect(record.owners).toEqual([
      { group: 'database', owners: ['carol', 'dana'], files: ['db/001.sql'], required: 1, approvers: ['dana'], candidates: ['carol'], blocked: [], holds: true },
    ]);
    expect(record.causes).toEqual(['pull_request_review.submitted', 'status']);
    expect(record).toMatchObject({ repository: 'acme/widgets', number: 42, at: 1000, lastAt: 1000, seen: 1, headSha: HEAD_SHA, base: 'main', title: 'Make widgets faster', author: 'author' });
  });

  test('the reviews rule counts exactly the approvals the record counts', () => {
    const reviews = verdict.results.find((r) => r.rule === 'reviews')!;
    expect(reviews.reason).toContain('1 / 2');
  });

  test('a rule with many details keeps the first 20 and says how many more the check run has', () => {
    const details = Array.from({ length: 120 }, (_, i) => ({ message: `violation ${i}`, path: 'src/a.ts', line: i + 1 }));
    const v = { ...verdict, results: [{ rule: 'flags' as const, outcome: 'fail' as const, reason: '120 violations', details }] };
    const r = evaluationRecord({ policy: POLICY, facts, verdict: v, causes: [], at: 1 });
    expect(r.results[0].details).toHaveLength(21);
    expect(r.results[0].details.at(-1)).toEqual({ message: '… and 100 more on the check run' });
    expect(JSON.stringify(r).length).toBeLessThan(8_000);
  });

  test('a policy with errors: the verdict\'s rows, no approvals read, no owners', () => {
    const bare = makeFacts({ reviews: undefined });
    const v = policyErrorVerdict([{ file: '.github/merge-gate.yml', line: 1, column: 1, path: 'reviews', message: 'bad' }], bare.head.sha);
    const r = evaluationRecord({ policy: null, facts: bare, verdict: v, causes: ['restart'], at: 5 });
    expect(r.outcome).toBe('fail');
    expect(r.approvals).toEqual([]);
    expect(r.owners).toEqual([]);
  });
});
