// Properties of the trunk rule over generated deployments, policies, labels and
// reviews. ("Only the newest deployment counts" is a property of the facts
// query: test/github/trunk.test.ts.)
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { DeploymentState, PullRequestFacts, Review } from '../../src/facts/types.js';
import { HOLD_STATES } from '../../src/policy/schema.js';
import { trunkRule } from '../../src/rules/trunk.js';
import { deploymentFacts, makeFacts, review } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-11-22T10:30:00Z');
const IN_PROGRESS: Array<DeploymentState | null> = ['pending', 'queued', 'in_progress', 'waiting', null];
const ANY_STATE: Array<DeploymentState | null> = [...IN_PROGRESS, 'success', 'failure', 'error', 'inactive'];

const holdOn = fc.subarray([...HOLD_STATES], { minLength: 1 });
const deployment = fc.oneof(
  fc.constant(null),
  fc.record({ state: fc.constantFrom(...ANY_STATE), description: fc.option(fc.string(), { nil: null }) }).map(({ state, description }) => deploymentFacts(state, {}, description)),
);
const reviews = fc.array(
  fc.record({ login: fc.constantFrom('bob', 'carol', 'dave', 'author', 'ci[bot]'), state: fc.constantFrom('APPROVED', 'CHANGES_REQUESTED', 'DISMISSED', 'COMMENTED') as fc.Arbitrary<Review['state']> }),
  { maxLength: 6 },
);
const labels = fc.subarray(['fix-forward', 'Fix-Forward', 'feature', 'land']);

function policy(hold: string[], exception: { label: string; required: number } | null) {
  return validPolicy(JSON.stringify({ preset: 'none', trunk: { environment: 'production', hold_on: hold, ...(exception ? { exception } : {}) } }));
}

function facts(d: PullRequestFacts['deployment'], ls: string[], rs: Array<{ login: string; state: Review['state'] }>): PullRequestFacts {
  return makeFacts({ deployment: d, labels: ls, reviews: rs.map((r) => review(r.login, r.state)) });
}

describe('trunk rule properties', () => {
  it('the exception never blocks what the rule alone would pass, and never turns a hold into a failure', () => {
    fc.assert(
      fc.property(holdOn, fc.integer({ min: 0, max: 4 }), deployment, labels, reviews, (hold, required, d, ls, rs) => {
        const f = facts(d, ls, rs);
        const alone = trunkRule({ policy: policy(hold, null), facts: f, now: NOW }).outcome;
        const withException = trunkRule({ policy: policy(hold, { label: 'fix-forward', required }), facts: f, now: NOW }).outcome;
        expect(withException).not.toBe('fail');
        if (alone === 'pass') expect(withException).toBe('pass');
      }),
      { numRuns: 300 },
    );
  });

  it('a deployment still under way (or with no status yet) never holds', () => {
    fc.assert(
      fc.property(holdOn, fc.boolean(), fc.constantFrom(...IN_PROGRESS), labels, reviews, (hold, exception, state, ls, rs) => {
        const p = policy(hold, exception ? { label: 'fix-forward', required: 2 } : null);
        expect(trunkRule({ policy: p, facts: facts(deploymentFacts(state), ls, rs), now: NOW }).outcome).toBe('pass');
      }),
      { numRuns: 200 },
    );
  });

  it('without the exception label, the rule waits exactly when the latest state is in hold_on', () => {
    fc.assert(
      fc.property(holdOn, deployment, reviews, (hold, d, rs) => {
        const outcome = trunkRule({ policy: policy(hold, { label: 'fix-forward', required: 0 }), facts: facts(d, ['feature'], rs), now: NOW }).outcome;
        const held = d?.status != null && (hold as string[]).includes(d.status.state);
        expect(outcome).toBe(held ? 'wait' : 'pass');
      }),
      { numRuns: 300 },
    );
  });
});
