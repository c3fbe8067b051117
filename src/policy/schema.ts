// The one definition of the policy file (SPEC §2). The TypeScript types, the
// validation and the JSON Schema printed by `merge-gate schema` all come from
// here, so they cannot drift apart.
import { z } from 'zod';
import type { DeploymentState } from '../facts/types.js';
import { globProblem } from './glob.js';
import { compileReference } from './reference.js';
import { parseLocalDateTime, parseWeeklyPoint, isValidZone } from './time.js';
import { keysOfSchema } from './schema-errors.js';
import { boundedDuration } from './duration.js';

/** How a value is named in an error: `"five hundred"`, `a list`, `true`. */
export function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (typeof input === 'string') return JSON.stringify(input);
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') {
    const proto = Object.getPrototypeOf(input);
    return proto === Object.prototype || proto === null ? 'a mapping' : `a ${proto?.constructor?.name ?? 'value'}`;
  }
  return String(input);
}

const expected = (what: string) => (iss: { input?: unknown }) =>
  `expected ${what}, got ${describeInput(iss.input)}`;

const positiveInt = () => z.int({ error: expected('a positive integer') }).min(1, { error: expected('a positive integer') });
const count = () => z.int({ error: expected('a whole number ≥ 0') }).min(0, { error: expected('a whole number ≥ 0') });
const bool = () => z.boolean({ error: expected('true or false') });
const text = () => z.string({ error: expected('a string') }).min(1, { error: 'must not be empty' });

const glob = () =>
  text().superRefine((value, ctx) => {
    const problem = globProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid glob ${JSON.stringify(value)}: ${problem}` });
  });
const globList = () => z.array(glob(), { error: expected('a list of globs') });

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$/;
// No flags: the JSON Schema `pattern` carries the source only. The weekday's name is checked below.
const WEEKLY_POINT = /^\s*[A-Za-z]{3,9}\s+\d{1,2}:\d{2}\s*$/;

const localDateTime = () =>
  z
    .string({ error: expected('a date and time "YYYY-MM-DD HH:MM"') })
    .regex(LOCAL_DATE_TIME, { error: expected('a date and time "YYYY-MM-DD HH:MM"') })
    .superRefine((value, ctx) => {
      // Only the ones the format accepted: the regex has already reported the rest.
      if (LOCAL_DATE_TIME.test(value) && !parseLocalDateTime(value, 'UTC')) ctx.addIssue({ code: 'custom', message: `not a real date and time: ${JSON.stringify(value)}` });
    });

const weeklyPoint = () =>
  z
    .string({ error: expected('a weekday and time like "fri 16:00"') })
    .regex(WEEKLY_POINT, { error: expected('a weekday and time like "fri 16:00"') })
    .superRefine((value, ctx) => {
      if (WEEKLY_POINT.test(value) && !parseWeeklyPoint(value)) ctx.addIssue({ code: 'custom', message: `expected a weekday and time like "fri 16:00", got ${JSON.stringify(value)}` });
    });

const approvalsLabel = (label: string, what: string) =>
  z
    .strictObject({
      label: text().default(label).meta({ description: `Label that ${what}` }),
      required: count().default(1).meta({ description: 'Approvals needed in that case' }),
    })
    .meta({ description: `Label that ${what}, and the approvals it then needs` });

const window = z
  .strictObject({
    name: text().meta({ description: 'Shown on the check while the freeze holds' }),
    from: localDateTime().optional().meta({ description: 'One-off window start, "YYYY-MM-DD HH:MM" in the policy time zone' }),
    to: localDateTime().optional().meta({ description: 'One-off window end (exclusive)' }),
    weekly: z
      .strictObject({
        from: weeklyPoint().meta({ description: 'e.g. "fri 16:00"' }),
        to: weeklyPoint().meta({ description: 'e.g. "mon 08:00"; may wrap over the end of the week' }),
      })
      .optional(),
  })
  .superRefine((w, ctx) => {
    const oneOff = w.from !== undefined || w.to !== undefined;
    if (oneOff && w.weekly) ctx.addIssue({ code: 'custom', message: 'a window is either one-off (from/to) or weekly, not both' });
    else if (!oneOff && !w.weekly) ctx.addIssue({ code: 'custom', message: 'a window needs from and to, or weekly' });
    else if (oneOff && w.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'a one-off window needs from' });
    else if (oneOff && w.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'a one-off window needs to' });
    else if (w.weekly && emptyWeeklySpan(w.weekly.from, w.weekly.to)) {
      ctx.addIssue({ code: 'custom', path: ['weekly', 'to'], message: 'must differ from weekly.from (the span would be empty)' });
    }
    // Both are wall-clock times in one zone, so their text orders them.
    else if (oneOff && w.to!.replace('T', ' ') <= w.from!.replace('T', ' ')) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (${w.from})` });
    }
  });

/** A weekly span from `a` to `b` that holds no time: the same instant of the week, short of a whole week ("mon 00:00" to "sun 24:00"). */
function emptyWeeklySpan(a: string, b: string): boolean {
  const [pa, pb] = [parseWeeklyPoint(a), parseWeeklyPoint(b)];
  if (!pa || !pb) return false;
  const week = 7 * 1440;
  const [ma, mb] = [(pa.weekday - 1) * 1440 + pa.minutes, (pb.weekday - 1) * 1440 + pb.minutes];
  return ma % week === mb % week && mb - ma !== week;
}

// Compiled by the engine that runs it (RE2, linear time): whatever it refuses is an error here.
const referencePattern = () =>
  text().superRefine((value, ctx) => {
    const compiled = compileReference(value);
    if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.message });
  });

export const DEFAULT_REFERENCE = "isEnabled\\(['\"](?<flag>[A-Za-z0-9_.-]{3,})['\"]\\)";

export const ReviewsSchema = z
  .strictObject({
    required: count().default(1).meta({ description: 'Approvals needed, from people other than the author' }),
    scale: z
      .array(
        z.strictObject({
          over_lines: count().meta({ description: 'When counted lines exceed this ...' }),
          required: count().meta({ description: '... this many approvals are needed' }),
        }),
        { error: expected('a list of {over_lines, required} steps') },
      )
      .default([])
      .meta({ description: 'Bigger changes need more eyes: the largest step whose over_lines is exceeded applies' }),
    fresh: bool().default(false).meta({ description: 'Only approvals of the current head commit count' }),
    block_on_changes_requested: bool().default(true).meta({ description: 'A standing "changes requested" review blocks' }),
    ignore_bots: bool().default(true).meta({ description: 'Approvals from bot accounts do not count' }),
  })
  .meta({ description: 'Review requirements' });

export const SizeSchema = z
  .strictObject({
    max_lines: positiveInt().optional().meta({ description: 'Most counted lines (additions + deletions, after exclusions)' }),
    max_files: positiveInt().optional().meta({ description: 'Most counted files' }),
    exclude: globList().default([]).meta({ description: 'Paths never counted (minimatch globs, dot files included)' }),
    linguist_generated: bool().default(true).meta({ description: 'Also exclude paths marked linguist-generated in .gitattributes' }),
    mechanical: approvalsLabel('mechanical', 'claims a purely mechanical change (renames, whitespace, excluded files)').optional(),
  })
  .meta({ description: 'Diff size limits' });

export const FreezeSchema = z
  .strictObject({
    timezone: text()
      .default('UTC')
      .superRefine((value, ctx) => {
        if (!isValidZone(value)) ctx.addIssue({ code: 'custom', message: `unknown IANA time zone ${JSON.stringify(value)} (e.g. "Europe/London", "America/New_York", "UTC")` });
      })
      .meta({ description: 'IANA time zone for every time in this section' }),
    windows: z.array(window, { error: expected('a list of windows') }).default([]).meta({ description: 'Freeze windows, one-off or weekly' }),
    exception: approvalsLabel('freeze-exception', 'lets a pull request land during a freeze').optional(),
  })
  .meta({ description: 'Freeze windows: nothing lands while one holds' });

export const FlagsSchema = z
  .strictObject({
    registry: text().default('flags.yml').meta({ description: 'Path of the flag registry, read at the base and at the head' }),
    reference: referencePattern().default(DEFAULT_REFERENCE).meta({ description: 'Regular expression (RE2 syntax, linear time) that finds flag uses in added lines; must have a named group `flag`' }),
    feature_paths: globList().default(['src/**']).meta({ description: 'Where new behaviour lives' }),
    feature_label: text().optional().meta({ description: 'A pull request with this label must land dark' }),
  })
  .meta({ description: 'Experimental-flag rules' });

export const ChecksSchema = z
  .strictObject({
    required: z.array(text(), { error: expected('a list of check names') }).default([]).meta({ description: 'Check runs or commit statuses that must succeed on the head commit' }),
    allow_neutral: bool().default(false).meta({ description: 'Neutral / skipped count as success' }),
  })
  .meta({ description: 'Required CI checks' });

const intFrom = (min: number, max: number) => {
  const what = expected(`a whole number from ${min} to ${max}`);
  return z.int({ error: what }).min(min, { error: what }).max(max, { error: what });
};

export const QueueSchema = z
  .strictObject({
    batch: intFrom(1, 100).default(4).meta({ description: 'Most pull requests tested together in one batch (the queue may choose fewer: it adapts to the failure rate it observes)' }),
    speculative: intFrom(1, 20).default(3).meta({ description: 'Batches under test at once, each built on top of the one ahead of it' }),
    wait: boundedDuration('0s', '1h').default('30s').meta({ description: 'A batch that is not full waits this long for more before it starts ("30s", "5m"; 0s to 1h)' }),
    timeout: boundedDuration('1m', '24h').default('60m').meta({ description: 'A batch whose required checks have not all finished by then has failed ("60m", "2h"; 1m to 24h)' }),
    retries: intFrom(0, 10).default(1).meta({ description: 'A pull request that fails alone is tested again this often before it leaves the queue (flaky CI)' }),
    priority_label: text().optional().meta({ description: 'Queued pull requests with this label go ahead of the others' }),
  })
  .meta({ description: 'The merge queue: test what lands before it lands, several pull requests at once, on staging branches merge-gate/queue/<base>/<n>. Needs checks.required; not with up_to_date: true' });

export const LandSchema = z
  .strictObject({
    mode: z.enum(['auto', 'label', 'off'], { error: expected('one of auto, label, off') }).default('auto'),
    label: text().default('land').meta({ description: 'With mode: label, only pull requests with this label land' }),
    method: z.enum(['merge', 'squash', 'rebase'], { error: expected('one of merge, squash, rebase') }).default('squash'),
    delete_branch: bool().default(true),
    dispatch: bool().default(false).meta({ description: 'Also send a repository_dispatch `trunk-updated` to the repository' }),
    up_to_date: bool()
      .default(false)
      .meta({ description: 'Bring a head that does not contain the base branch up to date first (update-branch), and land once the required checks pass on the new head' }),
    queue: QueueSchema.optional(),
  })
  .meta({ description: 'How merge-gate lands a passing pull request' });

/** The settled, unhealthy deployment states: a deployment still under way never holds landings. */
export const HOLD_STATES = ['failure', 'error', 'inactive'] as const satisfies readonly DeploymentState[];

export const TrunkSchema = z
  .strictObject({
    environment: text().default('production').meta({ description: 'The GitHub deployment environment whose newest deployment tells trunk\'s health' }),
    hold_on: z
      .array(z.enum(HOLD_STATES, { error: expected(`one of ${HOLD_STATES.join(', ')}`) }), { error: expected(`a list of deployment states (${HOLD_STATES.join(', ')})`) })
      .min(1, { error: 'an empty list holds nothing; remove the trunk section instead' })
      .default(['failure', 'error'])
      .meta({ description: 'Latest-status states of the newest deployment that hold every landing' }),
    exception: approvalsLabel('fix-forward', 'lets a fix or a revert land while trunk is unhealthy').optional(),
    revert: bool().default(false).meta({ description: 'Propose a revert of the pull request merge-gate landed when its deployment turns unhealthy' }),
  })
  .superRefine((t, ctx) => {
    // The revert is held like everything else unless it can carry the exception label.
    if (t.revert && !t.exception) ctx.addIssue({ code: 'custom', path: ['revert'], message: 'needs trunk.exception: the revert pull request carries its label so that it can land while landings are held' });
  })
  .meta({ description: 'Hold landings while the deployed trunk is unhealthy (GitHub Deployments)' });

export const PolicyFileSchema = z
  .strictObject({
    version: z.literal(1, { error: (iss) => `unsupported version ${describeInput(iss.input)}; this merge-gate reads version 1` }).optional(),
    preset: text().optional().meta({ description: 'A bundled preset (policies/NAME.yml) merged under this file; "none" for no defaults' }),
    branches: globList().min(1, { error: 'an empty list gates no branch; remove the key to gate every branch' }).optional().meta({ description: 'Base branches that are gated (globs); others are ignored. Absent: every branch' }),
    reviews: ReviewsSchema.optional(),
    size: SizeSchema.optional(),
    freeze: FreezeSchema.optional(),
    flags: FlagsSchema.optional(),
    checks: ChecksSchema.optional(),
    land: LandSchema.optional(),
    trunk: TrunkSchema.optional(),
    _extends: text()
      .optional()
      .meta({ description: 'Another policy file merged under this one, as Probot reads it ("repo", "owner/repo" or "owner/repo:path"); resolved by the app only' }),
  })
  .superRefine((p, ctx) => {
    // Checked on the merged policy: a preset may supply checks.required or up_to_date.
    if (!p.land?.queue) return;
    const path = ['land', 'queue'];
    if (!p.checks?.required.length) {
      ctx.addIssue({ code: 'custom', path, params: { at: 'key' }, message: 'needs checks.required: a batch lands only when the required checks succeed on its staging branch; list the CI checks that run on merge-gate/queue/** (e.g. checks: { required: ["ci/test"] })' });
    }
    if (p.land.up_to_date) {
      ctx.addIssue({ code: 'custom', path, params: { at: 'key' }, message: 'cannot be used with land.up_to_date: true: the queue tests each pull request merged onto the base on a staging branch, so heads need not be brought up to date; remove up_to_date (or set it to false)' });
    }
  })
  .meta({ title: 'merge-gate policy', description: 'merge-gate policy file, version 1 (.github/merge-gate.yml)' });

/** The policy file as written. */
export type PolicyFile = z.input<typeof PolicyFileSchema>;
/** The effective policy, preset merged and defaults filled in. */
export type Policy = z.output<typeof PolicyFileSchema>;
export type ReviewsPolicy = z.output<typeof ReviewsSchema>;
export type SizePolicy = z.output<typeof SizeSchema>;
export type FreezePolicy = z.output<typeof FreezeSchema>;
export type FreezeWindow = FreezePolicy['windows'][number];
export type FlagsPolicy = z.output<typeof FlagsSchema>;
export type ChecksPolicy = z.output<typeof ChecksSchema>;
export type LandPolicy = z.output<typeof LandSchema>;
export type QueuePolicy = z.output<typeof QueueSchema>;
export type TrunkPolicy = z.output<typeof TrunkSchema>;

/** The JSON Schema of the policy file, for editors and `merge-gate schema`. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://github.com/merge-gate/merge-gate/policy-v1.schema.json' };
}

/** The keys an object schema accepts at `path` (for "did you mean"). */
export function keysAt(path: readonly (string | number)[]): string[] {
  return keysOfSchema(PolicyFileSchema, path);
}
