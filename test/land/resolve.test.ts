// Judging an intent whose merge call gave no certain answer (src/land/resolve.ts): pure.
import { describe, expect, test } from '@jest/globals';
import { certainAt, judgeIntent, type IntentFacts } from '../../src/land/resolve.js';

const BEFORE = 'b'.repeat(40);
const HEAD = 'h'.repeat(40);
const AFTER = 'a'.repeat(40);

function facts(over: { pull?: Partial<IntentFacts['pull']>; intent?: Partial<IntentFacts['intent']> } & Partial<Omit<IntentFacts, 'pull' | 'intent'>> = {}): IntentFacts {
  return {
    appLogin: 'merge-gate[bot]',
    onBefore: null,
    now: 10_000,
    startedAt: 0,
    settleMs: 60_000,
    ...over,
    intent: { headSha: HEAD, before: BEFORE, method: 'squash', updatedAt: 1_000, uncertainSince: 2_000, ...over.intent },
    pull: { state: 'closed', merged: true, mergeCommitSha: AFTER, headSha: HEAD, mergedBy: 'merge-gate[bot]', ...over.pull },
  };
}

describe('a merged pull request', () => {
  test('is ours only with the pinned head, our app as the merger, and the merge commit on `before`', () => {
    expect(judgeIntent(facts())).toEqual({ kind: 'read-parents', after: AFTER });
    expect(judgeIntent(facts({ onBefore: true }))).toEqual({ kind: 'ours', after: AFTER });
  });

  type Over = Parameters<typeof facts>[0];
  test.each<[string, Over, RegExp]>([
    ['another head', { pull: { headSha: 'x'.repeat(40) } }, /merged head is x+, not the pinned h+/],
    ['a person', { pull: { mergedBy: 'alice' } }, /merged by alice, not merge-gate\[bot\]/],
    ['nobody known', { pull: { mergedBy: null } }, /merged by an unknown account/],
    ['a commit not on `before`', { onBefore: false }, /does not sit on the base head b+/],
  ])('merged with %s: merged by someone else', (_what, over, why) => {
    const outcome = judgeIntent(facts(over));
    expect(outcome).toMatchObject({ kind: 'merged-elsewhere', after: AFTER });
    expect((outcome as { why: string }).why).toMatch(why);
  });

  test('merged, its merge commit not known yet: read again', () => {
    expect(judgeIntent(facts({ pull: { mergeCommitSha: null } }))).toEqual({ kind: 'wait', until: 10_000 });
  });
});

describe('a pull request not merged', () => {
  const open = { state: 'open', merged: false, mergeCommitSha: null, mergedBy: null } as const;

  test('closed: certainly not merged', () => {
    expect(judgeIntent(facts({ pull: { ...open, state: 'closed' } }))).toEqual({ kind: 'not-merged' });
  });

  test('open: read again with backoff (as long again as since the call ended), not believed before the merge call is `settleMs` in the past, then certain', () => {
    expect(judgeIntent(facts({ pull: open, now: 2_000 }))).toEqual({ kind: 'wait', until: 3_000 });
    expect(judgeIntent(facts({ pull: open, now: 10_000 }))).toEqual({ kind: 'wait', until: 18_000 });
    expect(judgeIntent(facts({ pull: open, now: 61_999 }))).toEqual({ kind: 'wait', until: 62_000 });
    expect(judgeIntent(facts({ pull: open, now: 62_000 }))).toEqual({ kind: 'not-merged' });
  });

  test('an intent a crash left (its call never ended): counted from when this process started', () => {
    const intent = { updatedAt: 1_000, uncertainSince: null };
    expect(certainAt({ headSha: HEAD, before: BEFORE, method: 'squash', ...intent }, 50_000, 60_000)).toBe(110_000);
    expect(judgeIntent(facts({ pull: open, intent, startedAt: 50_000, now: 100_000 }))).toEqual({ kind: 'wait', until: 110_000 });
    expect(judgeIntent(facts({ pull: open, intent, startedAt: 50_000, now: 51_000 }))).toEqual({ kind: 'wait', until: 52_000 });
  });
});
