// The gate as a whole: laziness of facts, branch gating, failing closed.
import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { evaluate, factNeeds, gatherFacts, policyErrorVerdict } from '../../src/rules/index.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';
import type { FactNeeds, FactsSource, PullRequestFacts } from '../../src/facts/types.js';
import { validPolicy as policy } from '../helpers/policy.js';


const NOW = DateTime.fromISO('2026-11-25T10:00:00Z');
const HEAD = 'h'.repeat(40);

function baseFacts(overrides: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return {
    repository: 'octo/app', number: 7, title: 't', url: 'u', author: { login: 'alice', bot: false },
    base: { ref: 'main', sha: 'b'.repeat(40) }, head: { ref: 'topic', sha: HEAD }, labels: [], draft: false, state: 'open',
    reviews: [
      { author: { login: 'bob', bot: false }, state: 'APPROVED', commitSha: HEAD, submittedAt: '2026-11-25T09:00:00Z' },
      { author: { login: 'carol', bot: false }, state: 'APPROVED', commitSha: HEAD, submittedAt: '2026-11-25T09:01:00Z' },
    ],
    files: [{ path: 'src/a.ts', status: 'modified', additions: 10, deletions: 2 }],
    checks: [],
    gitattributes: null,
    ...overrides,
  };
}

/** A FactsSource that records what it was asked for. */
function recordingSource(facts: PullRequestFacts): FactsSource & { needs: FactNeeds[]; diffs: number } {
  const source = {
    needs: [] as FactNeeds[],
    diffs: 0,
    async load(needs: FactNeeds) {
      source.needs.push(needs);
      return { ...facts };
    },
    async diff() {
      source.diffs++;
      return [];
    },
  };
  return source;
}

describe('which facts a policy needs', () => {
  it.each([
    ['nothing configured needs nothing', 'preset: none\n', { reviews: false, files: false, checks: false, registryPath: null, gitattributes: false }],
    ['reviews alone need reviews only', 'preset: none\nreviews: { required: 1 }\n', { reviews: true, files: false, checks: false, registryPath: null, gitattributes: false }],
    ['a review scale needs the files', 'preset: none\nreviews: { scale: [{ over_lines: 10, required: 2 }] }\n', { reviews: true, files: true, checks: false, registryPath: null, gitattributes: false }],
    ['size needs files and .gitattributes', 'preset: none\nsize: { max_lines: 10 }\n', { reviews: false, files: true, checks: false, registryPath: null, gitattributes: true }],
    ['size without linguist needs no .gitattributes', 'preset: none\nsize: { max_lines: 10, linguist_generated: false }\n', { reviews: false, files: true, checks: false, registryPath: null, gitattributes: false }],
    ['a freeze exception needs reviews', 'preset: none\nfreeze: { exception: { required: 2 } }\n', { reviews: true, files: false, checks: false, registryPath: null, gitattributes: false }],
    ['flags need files and the registry', 'preset: none\nflags: { registry: conf/flags.yml }\n', { reviews: false, files: true, checks: false, registryPath: 'conf/flags.yml', gitattributes: false }],
    ['an empty checks list needs no checks', 'preset: none\nchecks: { required: [] }\n', { reviews: false, files: false, checks: false, registryPath: null, gitattributes: false }],
    ['required checks need checks', 'preset: none\nchecks: { required: [ci] }\n', { reviews: false, files: false, checks: true, registryPath: null, gitattributes: false }],
  ])('%s', (_name, yaml, needs) => {
    expect(factNeeds(policy(yaml))).toEqual(needs);
  });
});

describe('gathering facts', () => {
  it('asks for no hunks when no rule needs them', async () => {
    const source = recordingSource(baseFacts());
    await gatherFacts(policy('preset: default\n'), source);
    expect(source.diffs).toBe(0);
  });

  it('asks for hunks when flags are configured', async () => {
    const source = recordingSource(baseFacts({ registry: { base: null, head: null } }));
    await gatherFacts(policy('flags: {}\n'), source);
    expect(source.diffs).toBe(1);
  });

  it('asks for hunks when a change claims to be mechanical', async () => {
    const source = recordingSource(baseFacts({ labels: ['mechanical'] }));
    await gatherFacts(policy('preset: default\n'), source);
    expect(source.diffs).toBe(1);
  });

  it('asks for no hunks on a branch that is not gated', async () => {
    const source = recordingSource(baseFacts({ base: { ref: 'experiments', sha: 'b'.repeat(40) } }));
    await gatherFacts(policy('branches: [main]\nflags: {}\n'), source);
    expect(source.diffs).toBe(0);
  });
});

describe('the verdict', () => {
  it('passes a reviewed small change under the default preset', () => {
    const verdict = evaluate(policy(''), baseFacts(), NOW);
    expect(verdict.outcome).toBe('pass');
    expect(verdict.results.map((r) => r.rule)).toEqual(['reviews', 'size', 'freeze', 'flags', 'checks', 'trunk']);
    expect(verdict.headSha).toBe(HEAD);
  });

  it('skips every rule on a base branch that no glob matches', () => {
    const verdict = evaluate(policy('branches: [main, "stable/*"]\n'), baseFacts({ base: { ref: 'feature/x', sha: 'b'.repeat(40) }, reviews: [] }), NOW);
    expect(verdict.outcome).toBe('skip');
    expect(verdict.results.every((r) => r.outcome === 'skip' && r.reason.includes('feature/x'))).toBe(true);
  });

  it('gates a branch that a glob matches', () => {
    const verdict = evaluate(policy('branches: [main, "stable/*"]\n'), baseFacts({ base: { ref: 'stable/2026.1', sha: 'b'.repeat(40) }, reviews: [] }), NOW);
    expect(verdict.outcome).toBe('fail');
  });

  it('fails closed when a fact a rule needs is missing', () => {
    const verdict = evaluate(policy('preset: default\n'), baseFacts({ files: undefined }), NOW);
    expect(verdict.outcome).toBe('fail');
    expect(verdict.results.find((r) => r.rule === 'size')?.reason).toMatch(/^could not evaluate: .*files/);
  });

  it('reports the next instant at which time alone changes the verdict', () => {
    const p = policy('freeze:\n  timezone: UTC\n  windows: [{ name: w, weekly: { from: "fri 16:00", to: "mon 08:00" } }]\n');
    expect(evaluate(p, baseFacts(), NOW).nextChangeAt).toBe('2026-11-27T16:00:00.000Z');
    expect(evaluate(policy(''), baseFacts(), NOW).nextChangeAt).toBeNull();
  });

  it('a verified mechanical change needs size.mechanical.required approvals even with no reviews section', () => {
    const p = policy('preset: none\nsize: { max_lines: 10, mechanical: { label: mechanical, required: 1 } }\n');
    const renamed = baseFacts({ labels: ['mechanical'], reviews: [], files: [{ path: 'b.ts', previousPath: 'a.ts', status: 'renamed', additions: 0, deletions: 0 }], diff: [] });
    const unreviewed = evaluate(p, renamed, NOW);
    expect(unreviewed.results.find((r) => r.rule === 'reviews')).toMatchObject({ outcome: 'fail', reason: '0 / 1 approval' });
    const reviewed = evaluate(p, { ...renamed, reviews: baseFacts().reviews!.slice(0, 1) }, NOW);
    expect(reviewed.outcome).toBe('pass');
  });

  it('turns policy errors into a failing verdict with one detail per error', () => {
    const loaded = loadPolicyText('size:\n  max_lines: x\nrevews: {}\n');
    if (loaded.ok) throw new Error('expected errors');
    const verdict = policyErrorVerdict(loaded.errors, HEAD);
    expect(verdict.outcome).toBe('fail');
    expect(verdict.results).toHaveLength(1);
    expect(verdict.results[0]).toMatchObject({ rule: 'policy', outcome: 'fail', reason: '2 errors in .github/merge-gate.yml' });
    expect(verdict.results[0].details.map((d) => [d.path, d.line])).toEqual([['.github/merge-gate.yml', 2], ['.github/merge-gate.yml', 3]]);
  });
});
