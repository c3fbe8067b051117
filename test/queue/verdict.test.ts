// What a verdict means for a pull request's place in the queue (src/queue/verdict.ts).
import { describe, expect, test } from '@jest/globals';
import { queueVerdict } from '../../src/queue/verdict.js';
import type { RuleResult } from '../../src/rules/types.js';

const r = (rule: RuleResult['rule'], outcome: RuleResult['outcome'], reason = `${rule} ${outcome}`): RuleResult => ({ rule, outcome, reason, details: [] });

describe('queueVerdict', () => {
  test('a pass that may land joins; one that may not (a draft, no label) leaves', () => {
    expect(queueVerdict({ outcome: 'pass', results: [r('reviews', 'pass')] }, true)).toEqual({ kind: 'join' });
    expect(queueVerdict({ outcome: 'pass', results: [r('reviews', 'pass')] }, false)).toEqual({ kind: 'leave' });
  });

  test('a wait only because of a freeze or the trunk rule holds it, saying what holds it', () => {
    expect(queueVerdict({ outcome: 'wait', results: [r('reviews', 'pass'), r('freeze', 'wait', 'frozen until Mon 08:00')] }, true)).toEqual({ kind: 'hold', reason: 'frozen until Mon 08:00' });
    expect(queueVerdict({ outcome: 'wait', results: [r('freeze', 'wait', 'frozen'), r('trunk', 'wait', 'production unhealthy')] }, true)).toEqual({ kind: 'hold', reason: 'frozen; production unhealthy' });
  });

  test('any other wait, and any failure, sends it out', () => {
    expect(queueVerdict({ outcome: 'wait', results: [r('freeze', 'wait'), r('checks', 'wait')] }, true)).toEqual({ kind: 'leave' });
    expect(queueVerdict({ outcome: 'fail', results: [r('freeze', 'wait'), r('reviews', 'fail')] }, true)).toEqual({ kind: 'leave' });
    expect(queueVerdict({ outcome: 'wait', results: [r('freeze', 'wait')] }, false)).toEqual({ kind: 'leave' });
  });
});
