import { DateTime } from 'luxon';
import type { PullRequestFacts, Review } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import type { RuleContext } from '../../src/rules/context.js';
import { approvalsRequired, reviewsRule } from '../../src/rules/reviews.js';
import { AUTHOR, OLD_SHA, changed, changedFromHunks, hunks, makeFacts, review } from '../helpers/facts.js';
import { validPolicy as policy } from '../helpers/policy.js';

const ctx = (p: Policy, facts: PullRequestFacts): RuleContext => ({ policy: p, facts, now: DateTime.fromISO('2026-03-04T12:00:00Z') });

const TWO = `
preset: none
reviews:
  required: 2
  fresh: true
  block_on_changes_requested: true
  ignore_bots: true
`;

describe('reviewsRule', () => {
  // Reviews are given in the order written (each `review()` is later than the one before).
  type Case = [string, string, () => Review[], { outcome: 'pass' | 'fail'; reason: string; details?: RegExp }];
  const cases: Case[] = [
    ['two approvals on the head commit', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED')], { outcome: 'pass', reason: '2 / 2 approvals (@alice, @carol)' }],
    ['one approval is not enough', TWO, () => [review('alice', 'APPROVED')], { outcome: 'fail', reason: '1 / 2 approvals', details: /Approved by @alice/ }],
    ['no reviews at all', TWO, () => [], { outcome: 'fail', reason: '0 / 2 approvals' }],
    ['reviewer who approved then requested changes blocks', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED'), review('bob', 'APPROVED'), review('bob', 'CHANGES_REQUESTED')],
      { outcome: 'fail', reason: 'changes requested by @bob; 2 / 2 approvals' }],
    ['reviewer who requested changes then approved counts', TWO, () => [review('bob', 'CHANGES_REQUESTED'), review('alice', 'APPROVED'), review('bob', 'APPROVED')],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @bob)' }],
    ['a dismissal clears a standing change request', TWO, () => [review('bob', 'CHANGES_REQUESTED'), review('bob', 'DISMISSED'), review('alice', 'APPROVED'), review('carol', 'APPROVED')],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @carol)' }],
    ['a dismissal clears an approval', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED'), review('carol', 'DISMISSED')],
      { outcome: 'fail', reason: '1 / 2 approvals' }],
    ['a comment-only review after an approval is ignored', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED'), review('carol', 'COMMENTED')],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @carol)' }],
    ['a comment-only review after a change request does not clear it', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED'), review('bob', 'CHANGES_REQUESTED'), review('bob', 'COMMENTED')],
      { outcome: 'fail', reason: 'changes requested by @bob; 2 / 2 approvals' }],
    ["the author's own approval is ignored", TWO, () => [review(AUTHOR, 'APPROVED'), review('alice', 'APPROVED')], { outcome: 'fail', reason: '1 / 2 approvals' }],
    ['a bot approval is ignored', TWO, () => [review('renovate[bot]', 'APPROVED'), review('alice', 'APPROVED')],
      { outcome: 'fail', reason: '1 / 2 approvals', details: /@renovate\[bot\] is a bot/ }],
    ['a bot\'s standing "changes requested" blocks even with ignore_bots', TWO, () => [review('scanner[bot]', 'CHANGES_REQUESTED'), review('alice', 'APPROVED'), review('bob', 'APPROVED')],
      { outcome: 'fail', reason: 'changes requested by @scanner[bot]; 2 / 2 approvals' }],
    ['a bot approval counts with ignore_bots: false', TWO.replace('ignore_bots: true', 'ignore_bots: false'), () => [review('renovate[bot]', 'APPROVED'), review('alice', 'APPROVED')],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @renovate[bot])' }],
    ['an approval on an older commit does not count with fresh: true', TWO, () => [review('alice', 'APPROVED'), review('carol', 'APPROVED', { commitSha: OLD_SHA })],
      { outcome: 'fail', reason: '1 / 2 approvals', details: /@carol approved an older commit/ }],
    ['an approval on an older commit counts with fresh: false', TWO.replace('fresh: true', 'fresh: false'), () => [review('alice', 'APPROVED'), review('carol', 'APPROVED', { commitSha: OLD_SHA })],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @carol)' }],
    ['a change request does not block with block_on_changes_requested: false', TWO.replace('block_on_changes_requested: true', 'block_on_changes_requested: false'),
      () => [review('alice', 'APPROVED'), review('carol', 'APPROVED'), review('bob', 'CHANGES_REQUESTED')],
      { outcome: 'pass', reason: '2 / 2 approvals (@alice, @carol)', details: /not blocking/ }],
    ['more approvals than needed pass', TWO, () => [review('alice', 'APPROVED'), review('bob', 'APPROVED'), review('carol', 'APPROVED')],
      { outcome: 'pass', reason: '3 / 2 approvals (@alice, @bob, @carol)' }],
    ['required 0 passes with no approvals', 'preset: none\nreviews: { required: 0 }', () => [], { outcome: 'pass', reason: '0 / 0 approvals' }],
  ];

  it.each(cases)('%s', (_name, yaml, reviews, expected) => {
    const result = reviewsRule(ctx(policy(yaml), makeFacts({ reviews: reviews() })));
    expect(result.rule).toBe('reviews');
    expect(result.outcome).toBe(expected.outcome);
    expect(result.reason).toBe(expected.reason);
    expect(Boolean(result.actionRequired)).toBe(expected.outcome === 'fail');
    if (expected.details) expect(result.details.map((d) => d.message).join('\n')).toMatch(expected.details);
  });

  it('is skipped when reviews is not configured', () => {
    const result = reviewsRule(ctx(policy('preset: none\nsize: { max_lines: 5 }'), makeFacts()));
    expect(result).toEqual({ rule: 'reviews', outcome: 'skip', reason: 'not configured', details: [] });
  });

  it('fails closed when reviews were not gathered', () => {
    expect(() => reviewsRule(ctx(policy(TWO), makeFacts({ reviews: undefined })))).toThrow(/reviews/);
  });
});

describe('approvalsRequired', () => {
  const SCALED = `
preset: none
reviews:
  required: 1
  scale:
    - { over_lines: 500, required: 4 }
    - { over_lines: 100, required: 2 }
    - { over_lines: 200, required: 3 }
size:
  exclude: ["**/package-lock.json"]
  mechanical: { label: mechanical, required: 1 }
`;
  const withLines = (n: number, extra: Partial<PullRequestFacts> = {}) =>
    makeFacts({ files: [changed('src/a.ts', Math.ceil(n / 2), Math.floor(n / 2))], ...extra });

  it.each([
    ['100 lines: no step exceeded', 100, 1],
    ['101 lines: over 100', 101, 2],
    ['200 lines: over 100 only (not over 200)', 200, 2],
    ['201 lines: over 200, the largest step exceeded wins over 100', 201, 3],
    ['500 lines: still the over-200 step', 500, 3],
    ['501 lines: the over-500 step', 501, 4],
    ['0 lines', 0, 1],
  ])('%s', (_name, lines, expected) => {
    expect(approvalsRequired(ctx(policy(SCALED), withLines(lines))).required).toBe(expected);
  });

  it('applies the step with the largest over_lines even when a smaller step asks for more', () => {
    const p = policy('preset: none\nreviews:\n  required: 1\n  scale: [{ over_lines: 100, required: 4 }, { over_lines: 200, required: 3 }]');
    expect(approvalsRequired(ctx(p, withLines(201))).required).toBe(3);
    expect(approvalsRequired(ctx(p, withLines(200))).required).toBe(4);
  });

  it('never lowers reviews.required below the base', () => {
    const p = policy('preset: none\nreviews:\n  required: 3\n  scale: [{ over_lines: 100, required: 2 }]');
    expect(approvalsRequired(ctx(p, withLines(150))).required).toBe(3);
  });

  it('scales on counted lines: excluded files do not raise the requirement', () => {
    const facts = makeFacts({ files: [changed('src/a.ts', 150, 0), changed('package-lock.json', 9000, 9000)] });
    expect(approvalsRequired(ctx(policy(SCALED), facts)).required).toBe(2);
  });

  it('scales on every line when size is not configured', () => {
    const p = policy('preset: none\nreviews:\n  required: 1\n  scale: [{ over_lines: 200, required: 3 }]');
    const facts = makeFacts({ files: [changed('src/a.ts', 150, 0), changed('package-lock.json', 60, 0)] });
    expect(approvalsRequired(ctx(p, facts)).required).toBe(3);
  });

  it('explains a raised requirement', () => {
    expect(approvalsRequired(ctx(policy(SCALED), withLines(250))).why).toMatch(/250 counted lines > 200/);
  });

  it('does not read changed files without a scale or a mechanical claim', () => {
    const p = policy('preset: none\nreviews: { required: 2 }');
    expect(approvalsRequired(ctx(p, makeFacts({ files: undefined })))).toEqual({ required: 2, why: 'reviews.required' });
  });

  const renames = (n: number) => Array.from({ length: n }, (_, i) => changed(`src/new/f${i}.ts`, 0, 0, { status: 'renamed', previousPath: `src/f${i}.ts` }));
  const reindent = hunks('src/big.ts', Array.from({ length: 300 }, (_, i) => [`-  x(${i});`, `+    x(${i});`]).flat());

  it.each([
    ['verified mechanical (renames) lowers the requirement to size.mechanical.required', { labels: ['mechanical'], files: [...renames(40), changedFromHunks(reindent)], diff: [reindent] }, 1],
    ['without the label the scale applies', { labels: [], files: [changedFromHunks(reindent)], diff: [reindent] }, 4],
    ['claimed but not verified: the scale applies', { labels: ['mechanical'], files: [changedFromHunks(reindent), changed('src/logic.ts', 5, 0)], diff: [reindent] }, 4],
  ])('%s', (_name, facts, expected) => {
    expect(approvalsRequired(ctx(policy(SCALED), makeFacts(facts))).required).toBe(expected);
  });

  it('a verified mechanical change needs size.mechanical.required even when that is more than reviews.required', () => {
    const p = policy('preset: none\nreviews: { required: 1 }\nsize: { mechanical: { label: mechanical, required: 2 } }');
    const facts = makeFacts({ labels: ['mechanical'], files: renames(3) });
    expect(approvalsRequired(ctx(p, facts))).toEqual({ required: 2, why: expect.stringMatching(/mechanical/) });
  });

  it('the mechanical label does nothing when size.mechanical is not configured', () => {
    const p = policy('preset: none\nreviews:\n  required: 2\n  scale: [{ over_lines: 10, required: 3 }]\nsize: { max_lines: 1000 }');
    const facts = makeFacts({ labels: ['mechanical'], files: [changedFromHunks(reindent)], diff: [reindent] });
    expect(approvalsRequired(ctx(p, facts)).required).toBe(3);
  });

  it('the reviews rule passes a verified mechanical change with one approval, and a scaled one needs more', () => {
    const reviews = [review('alice', 'APPROVED')];
    const mechanical = reviewsRule(ctx(policy(SCALED), makeFacts({ labels: ['mechanical'], files: [changedFromHunks(reindent)], diff: [reindent], reviews })));
    expect(mechanical).toMatchObject({ outcome: 'pass', reason: '1 / 1 approval (@alice)' });
    const scaled = reviewsRule(ctx(policy(SCALED), makeFacts({ files: [changedFromHunks(reindent)], diff: [reindent], reviews })));
    expect(scaled).toMatchObject({ outcome: 'fail', reason: '1 / 4 approvals' });
  });
});
