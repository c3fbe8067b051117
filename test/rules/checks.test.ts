import { DateTime } from 'luxon';
import type { CheckResult, CheckState } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import { checksRule } from '../../src/rules/checks.js';
import { check, makeFacts } from '../helpers/facts.js';
import { validPolicy as policy } from '../helpers/policy.js';

const run = (yaml: string, checks: CheckResult[] | undefined) =>
  checksRule({ policy: policy(yaml), facts: makeFacts({ checks }), now: DateTime.fromISO('2026-03-04T12:00:00Z') });

const TWO = 'preset: none\nchecks: { required: ["ci/test", "ci/lint"] }';
const NEUTRAL_OK = 'preset: none\nchecks: { required: ["ci/test", "ci/lint"], allow_neutral: true }';
const T = (minute: number) => `2026-03-04T11:${String(minute).padStart(2, '0')}:00Z`;

describe('checksRule', () => {
  type Case = [string, string, CheckResult[], { outcome: 'pass' | 'fail' | 'wait'; reason: string; details?: RegExp }];
  const cases: Case[] = [
    ['all required checks succeeded', TWO, [check('ci/test', 'success'), check('ci/lint', 'success')], { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['a commit status counts like a check run', TWO, [check('ci/test', 'success', T(1), 'status'), check('ci/lint', 'success')], { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['a required check missing entirely waits', TWO, [check('ci/test', 'success')], { outcome: 'wait', reason: '1 / 2 required checks passed; waiting on ci/lint', details: /ci\/lint: not reported yet/ }],
    ['no checks reported at all waits on both', TWO, [], { outcome: 'wait', reason: '0 / 2 required checks passed; waiting on ci/test, ci/lint' }],
    ['a pending check waits', TWO, [check('ci/test', 'success'), check('ci/lint', 'pending')], { outcome: 'wait', reason: '1 / 2 required checks passed; waiting on ci/lint', details: /ci\/lint: pending/ }],
    ['a failed check fails', TWO, [check('ci/test', 'failure'), check('ci/lint', 'success')], { outcome: 'fail', reason: 'ci/test failed; 1 / 2 required checks passed' }],
    ['a failure beats a pending check', TWO, [check('ci/test', 'failure'), check('ci/lint', 'pending')], { outcome: 'fail', reason: 'ci/test failed; 0 / 2 required checks passed' }],
    ['a failure beats a missing check', TWO, [check('ci/lint', 'timed_out')], { outcome: 'fail', reason: 'ci/lint timed out; 0 / 2 required checks passed' }],
    ['neutral fails without allow_neutral', TWO, [check('ci/test', 'success'), check('ci/lint', 'neutral')], { outcome: 'fail', reason: 'ci/lint neutral; 1 / 2 required checks passed', details: /allow_neutral/ }],
    ['neutral passes with allow_neutral', NEUTRAL_OK, [check('ci/test', 'success'), check('ci/lint', 'neutral')], { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['skipped fails without allow_neutral', TWO, [check('ci/test', 'skipped'), check('ci/lint', 'success')], { outcome: 'fail', reason: 'ci/test skipped; 1 / 2 required checks passed' }],
    ['skipped passes with allow_neutral', NEUTRAL_OK, [check('ci/test', 'skipped'), check('ci/lint', 'success')], { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['latest of several wins: failed, then re-run and succeeded', TWO, [check('ci/test', 'failure', T(1)), check('ci/test', 'success', T(5)), check('ci/lint', 'success', T(2))],
      { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['latest of several wins: succeeded, then failed', TWO, [check('ci/test', 'success', T(1)), check('ci/test', 'failure', T(5)), check('ci/lint', 'success', T(2))],
      { outcome: 'fail', reason: 'ci/test failed; 1 / 2 required checks passed' }],
    ['latest by time, not by position in the list', TWO, [check('ci/test', 'success', T(9)), check('ci/test', 'failure', T(3)), check('ci/lint', 'success', T(2))],
      { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['latest of a check run and a status with the same name', TWO, [check('ci/test', 'pending', T(7), 'status'), check('ci/test', 'success', T(4), 'check_run'), check('ci/lint', 'success')],
      { outcome: 'wait', reason: '1 / 2 required checks passed; waiting on ci/test' }],
    ['times in other offsets compare as instants', TWO, [check('ci/test', 'failure', '2026-03-04T12:30:00+02:00'), check('ci/test', 'success', '2026-03-04T11:00:00Z'), check('ci/lint', 'success')],
      { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['a tie in time is broken toward the worse result', TWO, [check('ci/test', 'success', T(5)), check('ci/test', 'failure', T(5)), check('ci/lint', 'success')],
      { outcome: 'fail', reason: 'ci/test failed; 1 / 2 required checks passed' }],
    ['checks that are not required are ignored', TWO, [check('ci/test', 'success'), check('ci/lint', 'success'), check('coverage', 'failure')], { outcome: 'pass', reason: '2 / 2 required checks passed' }],
    ['names are matched exactly', TWO, [check('ci/test', 'success'), check('CI/Lint', 'success')], { outcome: 'wait', reason: '1 / 2 required checks passed; waiting on ci/lint' }],
    ['several failures are all named', TWO, [check('ci/test', 'cancelled'), check('ci/lint', 'failure')], { outcome: 'fail', reason: 'ci/test cancelled, ci/lint failed; 0 / 2 required checks passed' }],
    ['a name required twice counts once', 'preset: none\nchecks: { required: ["ci/test", "ci/test"] }', [check('ci/test', 'success')], { outcome: 'pass', reason: '1 / 1 required check passed' }],
  ];

  it.each(cases)('%s', (_name, yaml, checks, expected) => {
    const result = run(yaml, checks);
    expect(result.rule).toBe('checks');
    expect(result.outcome).toBe(expected.outcome);
    expect(result.reason).toBe(expected.reason);
    if (expected.details) expect(result.details.map((d) => d.message).join('\n')).toMatch(expected.details);
  });

  const failing: CheckState[] = ['failure', 'cancelled', 'timed_out', 'error', 'action_required', 'stale'];
  it.each(failing)('%s fails, even with allow_neutral', (state) => {
    expect(run(TWO, [check('ci/test', 'success'), check('ci/lint', state)]).outcome).toBe('fail');
    expect(run(NEUTRAL_OK, [check('ci/test', 'success'), check('ci/lint', state)]).outcome).toBe('fail');
  });

  it.each([
    ['checks not configured', 'preset: none\nreviews: { required: 1 }', 'not configured'],
    ['an empty required list', 'preset: none\nchecks: { required: [] }', 'no required checks'],
    ['checks configured without required', 'preset: none\nchecks: { allow_neutral: true }', 'no required checks'],
  ])('skips with %s', (_name, yaml, reason) => {
    expect(run(yaml, [check('ci/test', 'failure')])).toEqual({ rule: 'checks', outcome: 'skip', reason, details: [] });
  });

  it('fails closed when checks were not gathered', () => {
    expect(() => run(TWO, undefined)).toThrow(/checks/);
  });
});
