// The check run: what each verdict becomes, the 65,535-character cut,
// annotations in batches of 50, and not writing an unchanged verdict.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { ANNOTATION_LIMIT, fitOutput, isUnchanged, nextChangeFromExternalId, OUTPUT_LIMIT, planCheckRun, writeCheckRun, type CheckRunPlan } from '../../src/github/checkrun.js';
import type { ExistingCheckRun } from '../../src/github/nodes.js';
import type { Octokit } from '../../src/octokit/types.js';
import type { RuleResult, Verdict } from '../../src/rules/types.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { DETAILS_ONLY } from '../../src/octokit/pacer.js';

const OPTIONS = { dryRun: false, pullRequestUrl: 'https://github.com/octo/app/pull/2', policyPath: '.github/merge-gate.yml' };
const rule = (r: Partial<RuleResult> & Pick<RuleResult, 'rule' | 'outcome'>): RuleResult => ({ reason: `${r.rule} ${r.outcome}`, details: [], ...r });
const verdict = (outcome: Verdict['outcome'], results: RuleResult[], nextChangeAt: string | null = null): Verdict => ({ outcome, results, nextChangeAt, headSha: 'a'.repeat(40) });

describe('planCheckRun', () => {
  test('pass → completed/success', () => {
    const plan = planCheckRun(verdict('pass', [rule({ rule: 'reviews', outcome: 'pass' })]), OPTIONS);
    expect(plan).toMatchObject({ status: 'completed', conclusion: 'success', externalId: '', detailsUrl: null, annotations: [] });
    expect(plan.title).toBe('pass: all rules pass');
  });

  test('fail → completed/failure, or action_required when every failing rule is fixed by a person on GitHub', () => {
    const byPeople = verdict('fail', [rule({ rule: 'reviews', outcome: 'fail', actionRequired: true }), rule({ rule: 'size', outcome: 'pass' })]);
    expect(planCheckRun(byPeople, OPTIONS)).toMatchObject({ status: 'completed', conclusion: 'action_required', detailsUrl: OPTIONS.pullRequestUrl });
    const mixed = verdict('fail', [rule({ rule: 'reviews', outcome: 'fail', actionRequired: true }), rule({ rule: 'size', outcome: 'fail' })]);
    expect(planCheckRun(mixed, OPTIONS)).toMatchObject({ status: 'completed', conclusion: 'failure', detailsUrl: null });
  });

  test('wait → in_progress, with the reason in the output and the next change in the external id', () => {
    const plan = planCheckRun(
      verdict('wait', [rule({ rule: 'freeze', outcome: 'wait', reason: 'frozen until Mon 08:00 Europe/London (07:00 UTC)' })], '2026-12-21T07:00:00.000Z'),
      OPTIONS,
    );
    expect(plan).toMatchObject({ status: 'in_progress', conclusion: null, externalId: 'next=2026-12-21T07:00:00.000Z' });
    expect(plan.title).toContain('frozen until Mon 08:00 Europe/London (07:00 UTC)');
    expect(plan.summary).toContain('frozen until Mon 08:00');
    expect(nextChangeFromExternalId(plan.externalId)).toBe('2026-12-21T07:00:00.000Z');
  });

  test('skip → completed/skipped', () => {
    expect(planCheckRun(verdict('skip', [rule({ rule: 'reviews', outcome: 'skip', reason: 'base branch x is not gated' })]), OPTIONS)).toMatchObject({
      status: 'completed',
      conclusion: 'skipped',
      title: 'skip: base branch x is not gated',
    });
  });

  test('annotations come from details with a path and a line, of failing and waiting rules', () => {
    const v = verdict('fail', [
      rule({ rule: 'flags', outcome: 'fail', details: [{ message: 'flag "x" is not in the registry', path: 'src/a.ts', line: 4 }, { message: 'no line', path: 'src/b.ts' }] }),
      rule({ rule: 'policy', outcome: 'fail', details: [{ message: 'bad', path: '.github/merge-gate.yml', line: 7, column: 5 }, { message: 'in preset', path: 'policies/default.yml', line: 2 }] }),
      rule({ rule: 'size', outcome: 'pass', details: [{ message: 'fine', path: 'src/c.ts', line: 1 }] }),
    ]);
    expect(planCheckRun(v, OPTIONS).annotations).toEqual([
      { path: 'src/a.ts', start_line: 4, end_line: 4, annotation_level: 'failure', message: 'flag "x" is not in the registry', title: 'merge-gate: flags' },
      { path: '.github/merge-gate.yml', start_line: 7, end_line: 7, start_column: 5, end_column: 5, annotation_level: 'failure', message: 'bad', title: 'merge-gate: policy' },
    ]);
  });

  test('DRY_RUN says so in the summary', () => {
    expect(planCheckRun(verdict('pass', []), { ...OPTIONS, dryRun: true }).summary).toMatch(/Dry run.*does not land/);
  });

  test('an enormous verdict is cut under 65,535 characters, saying how much was cut', () => {
    const details = Array.from({ length: 5000 }, (_, i) => ({ message: `violation number ${i} — ${'é'.repeat(20)}`, path: `src/f${i}.ts`, line: i + 1 }));
    const plan = planCheckRun(verdict('fail', [rule({ rule: 'flags', outcome: 'fail', reason: 'x'.repeat(100), details })]), OPTIONS);
    expect(Buffer.byteLength(plan.text)).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(Buffer.byteLength(plan.text)).toBeGreaterThan(60_000); // cut close to the limit, not far below it
    const m = /\n… (\d+) more lines cut$/.exec(plan.text);
    expect(m).not.toBeNull();
    const kept = plan.text.split('\n').length - 1;
    expect(kept + Number(m![1])).toBe(2 + 5000 + 2); // the annotation notice and a blank line, "### flags", a blank line, 5000 details
    // Annotations are capped, and the text says so first, where the cut cannot reach it.
    expect(plan.annotations).toHaveLength(ANNOTATION_LIMIT);
    expect(plan.annotations.at(-1)).toMatchObject({ path: 'src/f249.ts', start_line: 250 });
    expect(plan.text.split('\n')[0]).toBe('> 5000 details point at a file and a line; the first 250 are annotated and the other 4750 are left out.');
  });

  test('up to the cap, no notice', () => {
    const details = Array.from({ length: ANNOTATION_LIMIT }, (_, i) => ({ message: `m${i}`, path: 'src/a.ts', line: i + 1 }));
    const plan = planCheckRun(verdict('fail', [rule({ rule: 'flags', outcome: 'fail', details })]), OPTIONS);
    expect(plan.annotations).toHaveLength(ANNOTATION_LIMIT);
    expect(plan.text).not.toContain('left out');
  });
});

describe('fitOutput', () => {
  test('leaves short text alone', () => {
    expect(fitOutput('a\nb')).toBe('a\nb');
  });
  test('cuts at a line boundary', () => {
    const text = Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n');
    expect(fitOutput(text, 60)).toMatch(/^line 0\nline 1\n(?:line \d\n)*… \d more lines cut$/);
    expect(Buffer.byteLength(fitOutput(text, 60))).toBeLessThanOrEqual(60);
  });
  test('one enormous line is cut inside', () => {
    const out = fitOutput('x'.repeat(200_000));
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(out).toMatch(/… 1 more lines cut \(the first one in part\)$/);
  });
});

describe('writeCheckRun', () => {
  let fake: FakeGitHub;
  let repo: FakeRepo;
  let octokit: Octokit;
  const sha = 'b'.repeat(40);
  const now = new Date('2026-11-22T10:00:00Z');

  beforeEach(() => {
    nock.disableNetConnect();
    fake = new FakeGitHub().install();
    repo = fake.addRepo('octo', 'app');
    octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
  });
  afterEach(() => {
    fake.uninstall();
    expect(fake.problems).toEqual([]);
  });

  const target = (existing: ExistingCheckRun | null = null) => ({ owner: 'octo', repo: 'app', headSha: sha, checkName: 'merge-gate', existing, knownId: null, now });

  function manyAnnotations(n: number): CheckRunPlan {
    const details = Array.from({ length: n }, (_, i) => ({ message: `problem ${i}`, path: 'src/a.ts', line: i + 1 }));
    return planCheckRun(verdict('fail', [rule({ rule: 'flags', outcome: 'fail', details })]), OPTIONS);
  }

  test('120 annotations: created with the first 50, then two PATCHes of 50 and 20', async () => {
    const result = await writeCheckRun(octokit, target(), manyAnnotations(120));
    expect(result).toMatchObject({ written: true, requests: 3 });
    const writes = fake.apiRequests();
    expect(writes.map((w) => w.operation)).toEqual([
      'POST /repos/{owner}/{repo}/check-runs',
      'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
      'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
    ]);
    expect(writes.map((w) => (w.body as { output: { annotations: unknown[] } }).output.annotations.length)).toEqual([50, 50, 20]);
    const [run] = fake.ourRuns(repo);
    expect(run).toMatchObject({ name: 'merge-gate', headSha: sha, status: 'completed', conclusion: 'failure' });
    expect(run.annotations).toHaveLength(120);
    expect((writes[0].body as { completed_at: string }).completed_at).toBe('2026-11-22T10:00:00.000Z');
  });

  test('5,000 flag violations cost five requests, not a hundred: 250 annotations at most', async () => {
    const result = await writeCheckRun(octokit, target(), manyAnnotations(5000));
    expect(result).toMatchObject({ written: true, requests: 5 });
    expect(fake.apiRequests()).toHaveLength(5);
    const [run] = fake.ourRuns(repo);
    expect(run.annotations).toHaveLength(250);
    expect(run.text).toMatch(/^> 5000 details point at a file and a line; the first 250 are annotated and the other 4750 are left out\./);
  });

  test('a plan with more annotations than the cap (built by hand) is still capped per write', async () => {
    const plan = manyAnnotations(10);
    const many = { ...plan, annotations: Array.from({ length: 400 }, (_, i) => ({ ...plan.annotations[0], start_line: i + 1, end_line: i + 1, message: `x${i}` })) };
    const result = await writeCheckRun(octokit, target(), many);
    expect(result.requests).toBe(5);
    expect(fake.ourRuns(repo)[0].annotations).toHaveLength(250);
  });

  test('an unchanged verdict is not written; a changed one is PATCHed without repeating annotations already made', async () => {
    const plan = manyAnnotations(3);
    await writeCheckRun(octokit, target(), plan);
    const run = fake.ourRuns(repo)[0];
    const existing: ExistingCheckRun = { id: run.id, status: run.status, conclusion: run.conclusion, title: run.title, summary: run.summary, text: run.text, externalId: run.externalId };
    expect(isUnchanged(existing, plan)).toBe(true);
    fake.resetRequests();
    expect(await writeCheckRun(octokit, target(existing), plan)).toEqual({ written: false, id: run.id, requests: 0 });
    expect(fake.requests).toEqual([]);

    const more = manyAnnotations(4);
    await writeCheckRun(octokit, target(existing), more);
    expect(fake.apiRequests().map((r) => r.operation)).toEqual(['PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}']);
    expect(fake.ourRuns(repo)).toHaveLength(1);
    expect(fake.ourRuns(repo)[0].annotations.map((a) => (a as { message: string }).message)).toEqual(['problem 0', 'problem 1', 'problem 2', 'problem 3']);
  });

  test('from completed back to in_progress (a freeze begins): a new run supersedes the completed one, which GitHub will not reopen', async () => {
    await writeCheckRun(octokit, target(), planCheckRun(verdict('pass', []), OPTIONS));
    const run = fake.ourRuns(repo)[0];
    const existing: ExistingCheckRun = { id: run.id, status: run.status, conclusion: run.conclusion, title: run.title, summary: run.summary, text: run.text, externalId: run.externalId };
    const wait = planCheckRun(verdict('wait', [rule({ rule: 'freeze', outcome: 'wait', reason: 'frozen until Mon 08:00' })], '2026-11-23T08:00:00Z'), OPTIONS);
    const result = await writeCheckRun(octokit, target(existing), wait);
    const last = fake.apiRequests().at(-1)!;
    expect(last.operation).toBe('POST /repos/{owner}/{repo}/check-runs');
    expect(last.body).toMatchObject({ head_sha: sha, status: 'in_progress', external_id: 'next=2026-11-23T08:00:00Z' });
    expect(last.body).not.toHaveProperty('conclusion');
    const runs = fake.ourRuns(repo);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'success'], ['in_progress', null]]);
    expect(result.id).toBe(runs[1].id);
  });

  test('from in_progress to completed updates the same run', async () => {
    await writeCheckRun(octokit, target(), planCheckRun(verdict('wait', [rule({ rule: 'freeze', outcome: 'wait' })], '2026-11-23T08:00:00Z'), OPTIONS));
    const run = fake.ourRuns(repo)[0];
    const existing: ExistingCheckRun = { id: run.id, status: run.status, conclusion: run.conclusion, title: run.title, summary: run.summary, text: run.text, externalId: run.externalId };
    await writeCheckRun(octokit, target(existing), planCheckRun(verdict('pass', []), OPTIONS));
    expect(fake.apiRequests().at(-1)!.operation).toBe('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}');
    expect(fake.ourRuns(repo).map((r) => [r.id, r.status, r.conclusion])).toEqual([[run.id, 'completed', 'success']]);
  });
});

describe('isUnchanged', () => {
  const plan = planCheckRun(verdict('pass', [rule({ rule: 'reviews', outcome: 'pass' })]), OPTIONS);
  const same: ExistingCheckRun = { id: 1, status: 'completed', conclusion: 'success', title: plan.title, summary: plan.summary, text: null, externalId: null };
  test.each([
    ['status', { status: 'in_progress' }],
    ['conclusion', { conclusion: 'failure' }],
    ['title', { title: 'other' }],
    ['summary', { summary: 'other' }],
    ['text', { text: 'other' }],
    ['external id', { externalId: 'next=2030-01-01T00:00:00Z' }],
  ])('a different %s is a change', (_what, change) => {
    expect(isUnchanged(same, plan)).toBe(true);
    expect(isUnchanged({ ...same, ...change }, plan)).toBe(false);
  });
  test('no existing run is a change', () => {
    expect(isUnchanged(null, plan)).toBe(false);
  });
});

describe('pacing priority of a write', () => {
  /** Records what writeCheckRun asks of GitHub. */
  function recorder() {
    const calls: Array<{ route: string; params: Record<string, unknown> }> = [];
    const octokit = { request: async (route: string, params: Record<string, unknown>) => (calls.push({ route, params }), { data: { id: 77 } }) } as unknown as Octokit;
    return { calls, octokit };
  }
  const target = (existing: ExistingCheckRun | null) => ({ owner: 'octo', repo: 'app', headSha: 'a'.repeat(40), checkName: 'merge-gate', existing, knownId: null, now: new Date('2026-11-22T10:00:00Z') });
  const plan = planCheckRun(verdict('fail', [rule({ rule: 'reviews', outcome: 'fail', reason: '1 of 2 approvals' })]), OPTIONS);
  const existing = (over: Partial<ExistingCheckRun>): ExistingCheckRun => ({
    id: 5,
    status: plan.status,
    conclusion: plan.conclusion,
    title: plan.title,
    summary: plan.summary,
    text: plan.text,
    externalId: plan.externalId,
    ...over,
  });

  test('a write that only refreshes details (same status, conclusion and title) is marked so; one that changes what a person sees is not', async () => {
    const details = recorder();
    await writeCheckRun(details.octokit, target(existing({ summary: 'an older summary' })), plan);
    expect(details.calls.map((c) => [c.route, c.params.request])).toEqual([['PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', DETAILS_ONLY]]);

    const changed = recorder();
    await writeCheckRun(changed.octokit, target(existing({ conclusion: 'success', title: 'pass: all rules pass' })), plan);
    expect(changed.calls.map((c) => [c.route, c.params.request])).toEqual([['PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', undefined]]);

    const created = recorder();
    await writeCheckRun(created.octokit, target(null), plan);
    expect(created.calls.map((c) => [c.route, c.params.request])).toEqual([['POST /repos/{owner}/{repo}/check-runs', undefined]]);
  });
});
