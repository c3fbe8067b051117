// Policy test cases (`merge-gate test`, SPEC §6): a YAML file of cases, each a
// short description of a pull request's facts and the verdict it must get.
// Validated like the policy (every error with its line and column); the facts
// built here are the same PullRequestFacts the check run evaluates.
import { z } from 'zod';
import { DateTime } from 'luxon';
import type { CheckState, ChangedFile, DeploymentState, FileDiff, PullRequestFacts, Review } from '../facts/types.js';
import { parseUnifiedDiff } from '../facts/diff.js';
import { parseYaml, type PolicyError } from '../policy/load.js';
import { validateWithSchema } from '../policy/schema-errors.js';
import { describeInput } from '../policy/schema.js';
import { DEPLOYMENT_STATES } from '../rules/trunk.js';
import { RULE_NAMES } from '../rules/types.js';

export const DEFAULT_TEST_PATH = '.github/merge-gate.test.yml';

const CHECK_STATES = ['success', 'failure', 'pending', 'neutral', 'skipped', 'cancelled', 'timed_out', 'action_required', 'stale', 'error'] as const satisfies readonly CheckState[];
const OUTCOMES = ['pass', 'fail', 'wait', 'skip'] as const;
const outcome = () => z.enum(OUTCOMES, { error: expected(`one of ${OUTCOMES.join(', ')}`) });
const expected = (what: string) => (iss: { input?: unknown }) => `expected ${what}, got ${describeInput(iss.input)}`;
const text = () => z.string({ error: expected('a string') }).min(1, { error: 'must not be empty' });
const logins = () => z.array(text(), { error: expected('a list of logins') });
/** `"+10 -2"`, `"+10"`, `"-3"` or a number of added lines. */
const LINES = /^\s*(?:\+(\d+))?\s*(?:-(\d+))?\s*$/;
const lineCounts = z.custom<number | string>((v) => (Number.isInteger(v) && (v as number) >= 0) || (typeof v === 'string' && LINES.test(v) && /\d/.test(v)), {
  error: expected('line counts such as "+10 -2", or a number of added lines'),
});
const instant = () =>
  z.string({ error: expected('an ISO 8601 instant such as 2026-12-24T10:00:00Z') }).refine((s) => DateTime.fromISO(s, { zone: 'utc', setZone: true }).isValid, {
    error: expected('an ISO 8601 instant such as 2026-12-24T10:00:00Z'),
  });

const CaseSchema = z.strictObject({
  name: text(),
  at: instant(),
  branch: text().default('main'),
  author: text().default('author'),
  files: z.record(z.string(), lineCounts, { error: expected('a mapping of paths to line counts') }).optional(),
  diff: text().optional(),
  approvals: logins().default([]),
  changes_requested: logins().default([]),
  teams: z.record(z.string(), logins(), { error: expected('a mapping of @org/team to logins') }).default({}),
  labels: z.array(text(), { error: expected('a list of labels') }).default([]),
  checks: z.record(z.string(), z.enum(CHECK_STATES, { error: expected(`one of ${CHECK_STATES.join(', ')}`) }), { error: expected('a mapping of check names to states') }).default({}),
  deployment: z.enum(['none', ...DEPLOYMENT_STATES] as [string, ...string[]], { error: expected(`one of ${DEPLOYMENT_STATES.join(', ')}, none`) }).default('none'),
  registry: z.strictObject({ base: z.string().nullable().default(null), head: z.string().nullable().default(null) }).optional(),
  gitattributes: z.string().optional(),
  codeowners: z.string().optional(),
  expect: outcome(),
  rules: z.strictObject(Object.fromEntries(RULE_NAMES.filter((r) => r !== 'policy').map((r) => [r, outcome().optional()])) as Record<string, z.ZodOptional<ReturnType<typeof outcome>>>).default({}),
});

const TestFileSchema = z.strictObject({
  policy: text().optional(),
  cases: z.array(CaseSchema, { error: expected('a list of cases') }).min(1, { error: 'no cases: add at least one' }),
});

export type TestCase = z.output<typeof CaseSchema>;
export type TestFile = z.output<typeof TestFileSchema>;

export type LoadedTests = { ok: true; tests: TestFile; line: (i: number) => number } | { ok: false; errors: PolicyError[] };

/** Parse and validate a test file: the cases, or every error with its line and column. */
export function loadTestFile(source: string, file: string): LoadedTests {
  const parsed = parseYaml(source, file, { what: 'policy test' });
  if (parsed.errors.length) return { ok: false, errors: parsed.errors };
  const result = validateWithSchema(TestFileSchema, parsed.value, file, parsed.locate);
  if (!result.ok) return result;
  const errors: PolicyError[] = [];
  result.value.cases.forEach((c, i) => {
    if (c.files && c.diff) errors.push({ file, ...(parsed.locate(['cases', i, 'diff'], 'key') ?? { line: 1, column: 1 }), path: `cases[${i}].diff`, message: 'give files or a diff, not both' });
  });
  if (errors.length) return { ok: false, errors };
  return { ok: true, tests: result.value, line: (i) => parsed.locate(['cases', i], 'value')?.line ?? 1 };
}

function filesOf(counts: Record<string, number | string>): ChangedFile[] {
  return Object.entries(counts).map(([path, n]) => {
    const [, add = '0', del = '0'] = typeof n === 'number' ? [null, String(n), '0'] : LINES.exec(n)!;
    return { path, status: 'modified', additions: Number(add), deletions: Number(del) };
  });
}

/** The files a unified diff changes, counted as GitHub counts them. */
export function filesOfDiff(diff: FileDiff[]): ChangedFile[] {
  return diff.map((d) => ({
    path: d.path,
    ...(d.previousPath ? { previousPath: d.previousPath } : {}),
    status: d.previousPath ? 'renamed' : 'modified',
    additions: d.lines.filter((l) => l.type === 'add').length,
    deletions: d.lines.filter((l) => l.type === 'del').length,
  }));
}

const HEAD = 'head';

/** A case's facts; `diffText` is the text of its diff file, read by the shell. */
export function caseFacts(c: TestCase, environment: string | null, diffText: string | null): PullRequestFacts {
  const at = DateTime.fromISO(c.at, { zone: 'utc', setZone: true }).toUTC().toISO()!;
  const actor = (login: string) => ({ login, bot: login.endsWith('[bot]') });
  const review = (state: Review['state']) => (login: string): Review => ({ author: actor(login), state, commitSha: HEAD, submittedAt: at });
  const diff = diffText === null ? [] : parseUnifiedDiff(diffText);
  const state = c.deployment as DeploymentState | 'none';
  return {
    repository: 'test',
    number: 1,
    title: c.name,
    url: '',
    author: actor(c.author),
    base: { ref: c.branch, sha: 'base' },
    head: { ref: 'topic', sha: HEAD },
    labels: c.labels,
    draft: false,
    state: 'open',
    reviews: [...c.changes_requested.map(review('CHANGES_REQUESTED')), ...c.approvals.map(review('APPROVED'))],
    files: diffText === null ? filesOf(c.files ?? {}) : filesOfDiff(diff),
    // Without a diff file no line is known to be added: flag references need one.
    diff,
    registry: c.registry ?? { base: null, head: null },
    gitattributes: c.gitattributes ?? null,
    checks: Object.entries(c.checks).map(([name, s]) => ({ name, source: 'check_run', state: s, updatedAt: at })),
    deployment: state === 'none' || environment === null ? null : { environment, sha: 'base', createdAt: at, status: { state, description: null, since: at, url: null } },
    codeowners: c.codeowners === undefined ? null : { path: '.github/CODEOWNERS', text: c.codeowners },
    teams: Object.fromEntries(Object.entries(c.teams).map(([team, members]) => [team.toLowerCase(), { members }])),
  };
}
