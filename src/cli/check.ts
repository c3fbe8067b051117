// `merge-gate check`: evaluate the current branch of a local repository as the
// check run would. Git supplies the change; flags supply what only GitHub knows.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import type { CheckResult, CheckState, DeploymentState, Review } from '../facts/types.js';
import { DEPLOYMENT_STATES } from '../rules/trunk.js';
import { git, gitFactsSource, gitShow, GitError } from '../facts/git.js';
import { evaluate, gatherFacts } from '../rules/index.js';
import { renderTerminal } from '../render.js';
import type { Outcome } from '../rules/types.js';
import type { Io } from './io.js';

export const EXIT: Record<Outcome, number> = { pass: 0, skip: 0, fail: 1, wait: 3 };

const CHECK_STATES: readonly CheckState[] = ['success', 'failure', 'pending', 'neutral', 'skipped', 'cancelled', 'timed_out', 'action_required', 'stale', 'error'];

/** The branch a change would land on when --base is not given: origin's default branch, else main or master. */
async function defaultBase(cwd: string): Promise<string> {
  const originHead = await git(cwd, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']).catch(() => '');
  if (originHead.trim()) return originHead.trim();
  for (const name of ['main', 'master']) {
    if (await git(cwd, ['rev-parse', '--verify', '--quiet', `refs/heads/${name}`]).then(() => true, () => false)) return name;
  }
  throw new GitError('cannot tell the base branch: pass --base REF');
}

function count(value: string | undefined, flag: string): number | string {
  if (value === undefined) return 0;
  return /^\d+$/.test(value) ? Number(value) : `${flag} expects a whole number, got ${JSON.stringify(value)}`;
}

export async function checkCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        base: { type: 'string' },
        policy: { type: 'string' },
        now: { type: 'string' },
        approvals: { type: 'string' },
        'changes-requested': { type: 'string' },
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

  // An instant without an offset is UTC, never the machine's zone.
  const now = v.now === undefined ? DateTime.utc() : DateTime.fromISO(v.now, { zone: 'utc', setZone: true });
  if (!now.isValid) return io.usage(`--now expects an ISO 8601 instant such as 2026-12-24T10:00:00Z, got ${JSON.stringify(v.now)}`);
  const approvals = count(v.approvals, '--approvals');
  const changesRequested = count(v['changes-requested'], '--changes-requested');
  if (typeof approvals === 'string') return io.usage(approvals);
  if (typeof changesRequested === 'string') return io.usage(changesRequested);
  const checks: CheckResult[] = [];
  for (const spec of v.check) {
    const m = /^(.+)=([a-z_]+)$/.exec(spec);
    if (!m || !CHECK_STATES.includes(m[2] as CheckState)) {
      return io.usage(`--check expects NAME=STATE with STATE one of ${CHECK_STATES.join(', ')}, got ${JSON.stringify(spec)}`);
    }
    checks.push({ name: m[1], source: 'check_run', state: m[2] as CheckState, updatedAt: now.toISO()! });
  }

  if (v.deployment !== undefined && !DEPLOYMENT_STATES.includes(v.deployment as DeploymentState)) {
    return io.usage(`--deployment expects the latest status of the newest deployment, one of ${DEPLOYMENT_STATES.join(', ')}, got ${JSON.stringify(v.deployment)}`);
  }
  const deployment = v.deployment === undefined ? undefined : { state: v.deployment as DeploymentState, at: now.toISO()! };

  try {
    const cwd = io.cwd;
    const base = v.base ?? (await defaultBase(cwd));
    const headSha = (await git(cwd, ['rev-parse', 'HEAD'])).trim();
    // As on GitHub, the policy comes from the base branch, never from the change itself.
    const policyFile = v.policy ?? DEFAULT_POLICY_PATH;
    const policyText = v.policy ? readFileSync(v.policy, 'utf8') : await gitShow(cwd, base, DEFAULT_POLICY_PATH);
    if (policyText === null) io.err(`merge-gate: no ${DEFAULT_POLICY_PATH} on ${base}; using the default preset`);
    const loaded = loadPolicyText(policyText ?? '', policyText === null ? '(default preset)' : policyFile);
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(formatPolicyError(e));
      return 2;
    }
    const at = now.toISO()!;
    const reviewer = (prefix: string, i: number) => ({ login: `${prefix}-${i + 1}`, bot: false });
    const reviews: Review[] = [
      ...Array.from({ length: changesRequested }, (_, i): Review => ({ author: reviewer('requester', i), state: 'CHANGES_REQUESTED', commitSha: headSha, submittedAt: at })),
      ...Array.from({ length: approvals }, (_, i): Review => ({ author: reviewer('reviewer', i), state: 'APPROVED', commitSha: headSha, submittedAt: at })),
    ];
    const source = gitFactsSource({ cwd, base, labels: v.label, reviews, checks, deployment });
    const facts = await gatherFacts(loaded.policy, source);
    const verdict = evaluate(loaded.policy, facts, now);
    io.out(v.json ? JSON.stringify(verdict, null, 2) : renderTerminal(verdict));
    return EXIT[verdict.outcome];
  } catch (err) {
    if (err instanceof GitError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`merge-gate: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
