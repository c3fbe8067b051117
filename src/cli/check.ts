// `merge-gate check`: evaluate the current branch of a local repository as the
// check run would. Git supplies the change; flags supply what only GitHub knows.
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import { branchOf, defaultBranch, mergeBase, policyAt, policyFile, requireRef, requireRepository, type PolicySource } from './repo.js';
import type { CheckResult, CheckState, DeploymentState, Review } from '../facts/types.js';
import { DEPLOYMENT_STATES } from '../rules/trunk.js';
import { TEAM, USER_LOGIN, teamKey } from '../rules/codeowners.js';
import { git, gitFactsSource, GitError } from '../facts/git.js';
import { evaluate, gatherFacts } from '../rules/index.js';
import { verdictFigures } from '../rules/figures.js';
import { renderTerminal } from '../render.js';
import type { Outcome } from '../rules/types.js';
import { CHECK_USAGE, type Io } from './io.js';

export const EXIT: Record<Outcome, number> = { pass: 0, skip: 0, fail: 1, wait: 3 };

const CHECK_STATES: readonly CheckState[] = ['success', 'failure', 'pending', 'neutral', 'skipped', 'cancelled', 'timed_out', 'action_required', 'stale', 'error'];

/** Reviews are simulated one by one: more than this is a typo, not a team. */
export const MAX_SIMULATED_REVIEWS = 1000;
/** Offsets beyond ±18:00 exist in no zone (ISO 8601 and Java cap them there too). */
const MAX_OFFSET_MINUTES = 18 * 60;

function count(value: string | undefined, flag: string): number | string {
  if (value === undefined) return 0;
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  return n <= MAX_SIMULATED_REVIEWS ? n : `${flag} expects a whole number from 0 to ${MAX_SIMULATED_REVIEWS}, got ${JSON.stringify(value)}`;
}

export async function checkCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        base: { type: 'string' },
        branch: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        policy: { type: 'string' },
        now: { type: 'string' },
        approvals: { type: 'string' },
        'changes-requested': { type: 'string' },
        'approved-by': { type: 'string', multiple: true, default: [] },
        team: { type: 'string', multiple: true, default: [] },
        label: { type: 'string', multiple: true, default: [] },
        check: { type: 'string', multiple: true, default: [] },
        deployment: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: false,
    });
  } catch (err) {
    return io.usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  // With --json, an error is JSON on stdout too, so a script never parses a usage text.
  const fail = (message: string, usage = false): number => {
    if (v.json) {
      io.out(JSON.stringify({ outcome: 'error', exitCode: 2, error: message }, null, 2));
      return 2;
    }
    if (usage) return io.usage(message);
    io.err(`merge-gate: ${message}`);
    return 2;
  };

  // An instant without an offset is UTC, never the machine's zone.
  const now = v.now === undefined ? DateTime.utc() : DateTime.fromISO(v.now, { zone: 'utc', setZone: true });
  if (!now.isValid || Math.abs(now.offset) > MAX_OFFSET_MINUTES) {
    return fail(`--now expects an ISO 8601 instant such as 2026-12-24T10:00:00Z (offsets up to ±18:00), got ${JSON.stringify(v.now)}`, true);
  }
  const approvals = count(v.approvals, '--approvals');
  const changesRequested = count(v['changes-requested'], '--changes-requested');
  if (typeof approvals === 'string') return fail(approvals, true);
  if (typeof changesRequested === 'string') return fail(changesRequested, true);
  const checks: CheckResult[] = [];
  for (const spec of v.check) {
    const m = /^(.+)=([a-z_]+)$/.exec(spec);
    if (!m || !CHECK_STATES.includes(m[2] as CheckState)) {
      return fail(`--check expects NAME=STATE with STATE one of ${CHECK_STATES.join(', ')}, got ${JSON.stringify(spec)}`, true);
    }
    checks.push({ name: m[1], source: 'check_run', state: m[2] as CheckState, updatedAt: now.toISO()! });
  }

  const approvedBy = v['approved-by'];
  const badLogin = approvedBy.find((login) => !USER_LOGIN.test(login));
  if (badLogin !== undefined) return fail(`--approved-by expects a GitHub login (no "@"), got ${JSON.stringify(badLogin)}`, true);
  if (approvedBy.length > MAX_SIMULATED_REVIEWS) return fail(`--approved-by is given ${approvedBy.length} times; at most ${MAX_SIMULATED_REVIEWS}`, true);
  const teams = parseTeams(v.team);
  if (typeof teams === 'string') return fail(teams, true);

  if (v.deployment !== undefined && !DEPLOYMENT_STATES.includes(v.deployment as DeploymentState)) {
    return fail(`--deployment expects the latest status of the newest deployment, one of ${DEPLOYMENT_STATES.join(', ')}, got ${JSON.stringify(v.deployment)}`, true);
  }
  const deployment = v.deployment === undefined ? undefined : { state: v.deployment as DeploymentState, at: now.toISO()! };

  try {
    const cwd = io.cwd;
    await requireRepository(cwd);
    // A --base that does not exist is said first, before anything else can fail on it.
    if (v.base !== undefined) await requireRef(cwd, v.base);
    // As in the app, the policy comes from the default branch (never from the change, nor from --base).
    const policyRef = v.policy === undefined ? await defaultBranch(cwd) : null;
    const base = v.base ?? policyRef ?? (await defaultBranch(cwd));
    // The branch decides whether the change is gated at all: never guessed from a commit or a tag.
    const branch = v.branch ?? (await branchOf(cwd, base));
    await mergeBase(cwd, base);
    const headSha = (await git(cwd, ['rev-parse', 'HEAD'])).trim();
    const source: PolicySource = policyRef === null ? policyFile(v.policy!) : await policyAt(cwd, policyRef, DEFAULT_POLICY_PATH);
    const policyNote = source.kind === 'none'
      ? `policy: no ${DEFAULT_POLICY_PATH} on ${source.ref} (the default branch): the default preset`
      : `policy: ${source.file}${source.ref ? ` at ${source.ref} (the default branch)` : ''}`;
    const loaded = loadPolicyText(source.kind === 'text' ? source.text : '', source.kind === 'text' ? source.file : '(default preset)');
    if (!loaded.ok) {
      if (v.json) {
        io.out(JSON.stringify({ outcome: 'error', exitCode: 2, error: `the policy has errors (${policyNote})`, errors: loaded.errors }, null, 2));
        return 2;
      }
      for (const e of loaded.errors) io.err(formatPolicyError(e));
      return 2;
    }
    const at = now.toISO()!;
    const reviewer = (prefix: string, i: number) => ({ login: `${prefix}-${i + 1}`, bot: false });
    const reviews: Review[] = [
      ...Array.from({ length: changesRequested }, (_, i): Review => ({ author: reviewer('requester', i), state: 'CHANGES_REQUESTED', commitSha: headSha, submittedAt: at })),
      ...Array.from({ length: approvals }, (_, i): Review => ({ author: reviewer('reviewer', i), state: 'APPROVED', commitSha: headSha, submittedAt: at })),
      ...approvedBy.map((login): Review => ({ author: { login, bot: false }, state: 'APPROVED', commitSha: headSha, submittedAt: at })),
    ];
    const facts = await gatherFacts(loaded.policy, gitFactsSource({ cwd, base, branch, labels: v.label, reviews, checks, deployment, teams }));
    const verdict = evaluate(loaded.policy, facts, now);
    const figures = verdictFigures(loaded.policy, facts, now);
    if (v.json) io.out(JSON.stringify({ ...verdict, figures, exitCode: EXIT[verdict.outcome], policy: policyNote.replace(/^policy: /, '') }, null, 2));
    else io.out(`${policyNote}; base ${base} (branch ${branch})\n\n${renderTerminal(verdict)}`);
    return EXIT[verdict.outcome];
  } catch (err) {
    if (err instanceof GitError) return fail(err.message.split('\n')[0]);
    throw err;
  }
}

/** `--team @org/team=login,login` (repeatable; a team given twice has the members of both) by `@org/team` lower-cased, or what is wrong. */
export function parseTeams(specs: readonly string[]): Record<string, string[]> | string {
  const teams: Record<string, string[]> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [team, list] = eq < 0 ? [spec, undefined] : [spec.slice(0, eq), spec.slice(eq + 1)];
    const members = list === undefined || list === '' ? [] : list.split(',').map((m) => m.trim());
    if (list === undefined || !TEAM.test(team) || members.some((m) => !USER_LOGIN.test(m))) {
      return `--team expects @org/team=login,login (logins without "@"; nothing after "=" for a team with no members), got ${JSON.stringify(spec)}`;
    }
    const key = teamKey(team);
    teams[key] = [...new Set([...(teams[key] ?? []), ...members])];
  }
  return teams;
}
