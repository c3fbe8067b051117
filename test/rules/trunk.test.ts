import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import type { PullRequestFacts } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import { codeSpan, linkable, trunkRule } from '../../src/rules/trunk.js';
import { evaluate, factNeeds } from '../../src/rules/index.js';
import { renderMarkdown, renderTerminal } from '../../src/render.js';
import { DEPLOYED_SHA, deploymentFacts, makeFacts, review } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-11-22T10:30:00Z');
const SHA = DEPLOYED_SHA;
const deployment = deploymentFacts;

const TRUNK = `preset: none
trunk:
  environment: production
  hold_on: [failure, error]
  exception: { label: fix-forward, required: 2 }
  revert: true
`;

const run = (policy: Policy, facts: Partial<PullRequestFacts>) => trunkRule({ policy, facts: makeFacts(facts), now: NOW });

describe('trunk rule', () => {
  const policy = validPolicy(TRUNK);

  it('is skipped when not configured, and needs no deployment then', () => {
    const none = validPolicy('preset: none\n');
    expect(run(none, {})).toEqual({ rule: 'trunk', outcome: 'skip', reason: 'not configured', details: [] });
    expect(factNeeds(none)).not.toHaveProperty('trunk');
    expect(factNeeds(policy).trunk).toEqual({ environment: 'production', revertLabel: 'fix-forward' });
    expect(factNeeds(validPolicy('preset: none\ntrunk: { environment: staging }\n')).trunk).toEqual({ environment: 'staging', revertLabel: null });
  });

  it('passes with no deployment yet, a healthy one, or one still under way', () => {
    expect(run(policy, { deployment: null })).toMatchObject({ outcome: 'pass', reason: 'no deployment to production yet' });
    expect(run(policy, { deployment: deployment('success') })).toMatchObject({ outcome: 'pass', reason: 'production: 0123456 healthy (success)' });
    expect(run(policy, { deployment: deployment('in_progress') })).toMatchObject({ outcome: 'pass', reason: 'production: 0123456 in progress' });
    expect(run(policy, { deployment: deployment(null) })).toMatchObject({ outcome: 'pass', reason: 'production: 0123456 starting (no status yet)' });
    // Not in hold_on.
    expect(run(policy, { deployment: deployment('inactive') })).toMatchObject({ outcome: 'pass', reason: 'production: 0123456 inactive' });
  });

  it('waits while the newest deployment failed, naming the revision, since when, the description and when it ends', () => {
    const result = run(policy, { deployment: deployment('failure') });
    expect(result.outcome).toBe('wait');
    expect(result.reason).toBe('production unhealthy: 0123456 failure since 2026-11-22 10:05 UTC');
    expect(result.details.map((d) => d.message)).toEqual([
      `the newest deployment to production, ${SHA}, has been in state failure since 2026-11-22 10:05 UTC (https://deploy.example/log/1)`,
      'its status says `cut off: 3 failed health probes`',
      'landings resume when a healthy revision is deployed to production; merge-gate re-evaluates this pull request by itself then',
      'a pull request labelled fix-forward with 2 approvals may land meanwhile (a fix or a revert)',
    ]);
    expect(run(policy, { deployment: deployment('error') }).outcome).toBe('wait');
  });

  it('links the proposed revert', () => {
    const result = run(policy, { deployment: deployment('failure', { revert: { number: 7, url: 'https://github.com/acme/widgets/pull/7' } }) });
    expect(result.details.map((d) => d.message)).toContain('revert proposed: #7 (https://github.com/acme/widgets/pull/7)');
  });

  it('lets a labelled pull request with enough approvals through; too few approvals keep it waiting', () => {
    const labelled = { labels: ['Fix-Forward'], deployment: deployment('failure') };
    const one = run(policy, { ...labelled, reviews: [review('bob', 'APPROVED')] });
    expect(one).toMatchObject({ outcome: 'wait', reason: 'production unhealthy: 0123456 failure since 2026-11-22 10:05 UTC; fix-forward needs 2 approvals, has 1' });
    expect(one.details.at(-1)!.message).toBe('labelled fix-forward: 1 / 2 approvals (bob); 1 more needed to land before trunk is healthy again');
    const two = run(policy, { ...labelled, reviews: [review('bob', 'APPROVED'), review('carol', 'APPROVED')] });
    expect(two).toMatchObject({ outcome: 'pass', reason: 'production unhealthy: 0123456 failure since 2026-11-22 10:05 UTC, but fix-forward with 2 / 2 approvals' });
    // The author's own approval never counts.
    const own = run(policy, { ...labelled, reviews: [review('bob', 'APPROVED'), review('author', 'APPROVED')] });
    expect(own.outcome).toBe('wait');
  });

  it('without an exception, nothing gets through', () => {
    const strict = validPolicy('preset: none\ntrunk: { hold_on: [inactive] }\n');
    expect(run(strict, { labels: ['fix-forward'], deployment: deployment('inactive') })).toMatchObject({ outcome: 'wait' });
    expect(run(strict, { deployment: deployment('failure') }).outcome).toBe('pass');
  });

  it('fails closed when the deployment was not gathered', () => {
    const facts = makeFacts();
    delete facts.deployment;
    expect(evaluate(policy, facts, NOW).results.find((r) => r.rule === 'trunk')).toMatchObject({ outcome: 'fail', reason: 'could not evaluate: internal error: the newest deployment were not gathered' });
  });

  it("shows a status description as data: no markdown, no control characters, bounded", () => {
    const hostile = 'x`](https://evil.example) <img src=x onerror=alert(1)>\u001b[31mred\nline';
    const result = run(policy, { deployment: deployment('failure', {}, hostile) });
    const message = result.details[1].message;
    expect(message).toBe("its status says `x'](https://evil.example) <img src=x onerror=alert(1)> [31mred line`");
    const md = renderMarkdown({ outcome: 'wait', results: [result], nextChangeAt: null, headSha: SHA }).text;
    // The renderer escapes every detail (src/escape.ts): the quoted description renders as text, never as a link or HTML.
    expect(md).toContain("its status says \\`x'\\](https://evil.example) \\<img src=x onerror=alert(1)\\> \\[31mred line\\`");
    expect(renderTerminal({ outcome: 'wait', results: [result], nextChangeAt: null, headSha: SHA })).not.toMatch(/\u001b/);
    expect(codeSpan('a'.repeat(500))).toHaveLength(202);
  });

  it('links only http(s) URLs, normalised', () => {
    expect(linkable('javascript:alert(1)')).toBeNull();
    expect(linkable('not a url')).toBeNull();
    expect(linkable('https://x.example/a b>')).toBe('https://x.example/a%20b%3E');
    const result = run(policy, { deployment: deployment('failure', { status: { state: 'failure', description: null, since: '2026-11-22T10:05:00Z', url: 'javascript:alert(1)' } }) });
    expect(result.details.map((d) => d.message)).toEqual([
      `the newest deployment to production, ${SHA}, has been in state failure since 2026-11-22 10:05 UTC`,
      'landings resume when a healthy revision is deployed to production; merge-gate re-evaluates this pull request by itself then',
      'a pull request labelled fix-forward with 2 approvals may land meanwhile (a fix or a revert)',
    ]);
  });

  it('holds the whole verdict: wait overall, the table row and headline say why', () => {
    const verdict = evaluate(policy, makeFacts({ deployment: deployment('failure') }), NOW);
    expect(verdict.outcome).toBe('wait');
    expect(renderTerminal(verdict)).toMatch(/^trunk\s+wait\s+production unhealthy: 0123456 failure since 2026-11-22 10:05 UTC$/m);
    expect(renderMarkdown(verdict).title).toBe('wait: trunk: production unhealthy: 0123456 failure since 2026-11-22 10:05 UTC');
  });
});

describe('trunk policy section', () => {
  it('rejects a revert without an exception, states that never settle, and an empty hold_on', async () => {
    const { loadPolicyText, formatPolicyError } = await import('../../src/policy/load.js');
    const errors = (yaml: string) => {
      const r = loadPolicyText(yaml);
      return r.ok ? [] : r.errors.map(formatPolicyError);
    };
    expect(errors('trunk: { revert: true }\n')).toEqual([
      '.github/merge-gate.yml:1:18 trunk.revert: needs trunk.exception: the revert pull request carries its label so that it can land while landings are held',
    ]);
    expect(errors('trunk: { hold_on: [in_progress] }\n')).toEqual(['.github/merge-gate.yml:1:20 trunk.hold_on[0]: expected one of failure, error, inactive, got "in_progress"']);
    expect(errors('trunk: { hold_on: [] }\n')).toEqual(['.github/merge-gate.yml:1:19 trunk.hold_on: an empty list holds nothing; remove the trunk section instead']);
    expect(errors('trunk: { enviroment: production }\n')[0]).toMatch(/did you mean "environment"/);
    expect(validPolicy('trunk: {}\n').trunk).toEqual({ environment: 'production', hold_on: ['failure', 'error'], revert: false });
    // The default preset does not hold anything.
    expect(validPolicy('version: 1\n').trunk).toBeUndefined();
  });
});
