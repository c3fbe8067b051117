// `merge-gate replay`: what would this policy have done to the last N landings?
// Local mode walks the branch's first-parent history (src/replay/local.ts).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import { needsHunksForFlags } from '../rules/flags.js';
import { isGated } from '../rules/index.js';
import { GitError } from '../facts/git.js';
import { localReplaySource } from '../replay/local.js';
import { runReplay } from '../replay/run.js';
import type { ChangeResult } from '../replay/types.js';
import { replayGitHubCommand } from './replay-github.js';
import { replayJson } from '../replay/summary.js';
import { renderReplayMarkdown, renderReplayText, type ReplayHeading } from '../replay/render.js';
import { renderReplayHtml } from '../replay/html.js';
import { branchOf, defaultBranch, policyAt, policyFile, requireRef, requireRepository, type PolicySource } from './repo.js';
import type { Io } from './io.js';

export const REPLAY_USAGE = `Usage: merge-gate replay [options]

Replays the policy over the branch's first-parent history of the git repository
in the current folder: each change (a merge or a squashed commit) is judged as
of its commit time, against its first parent. Reviews, checks and deployments
cannot be read from git: those rules are reported unknown.

  --last N        the last N changes (default 100; with --since, no limit unless given)
  --since DATE    only changes committed at or after DATE (ISO 8601; no offset: UTC)
  --branch NAME   the branch to replay (default: the default branch, origin/HEAD,
                  else init.defaultBranch, main or master)
  --policy FILE   a policy file instead of .github/merge-gate.yml on the default branch
  --json          the result as JSON (newest first)
  --markdown      the report as markdown, for an issue or a comment
  --html FILE     also write a self-contained HTML report with a timeline

  --github OWNER/REPO   replay the repository's merged pull requests on GitHub
                  instead, each as of its merge: reviews, labels, checks and
                  deployments as they stood then (token: GITHUB_TOKEN; API:
                  GITHUB_API_URL, default https://api.github.com; --branch: the
                  base branch, default the repository's default branch; --policy:
                  a local file, default the policy on the default branch)
  --state DIR     where --github keeps what it read, so an interrupted replay
                  resumes (default $XDG_CACHE_HOME/merge-gate or ~/.cache/merge-gate)

Exit 0 when the replay ran; 2 on a usage, policy or repository error.
`;

const MAX_LAST = 1_000_000;

export async function replayCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        last: { type: 'string' },
        since: { type: 'string' },
        branch: { type: 'string' },
        policy: { type: 'string' },
        json: { type: 'boolean', default: false },
        markdown: { type: 'boolean', default: false },
        html: { type: 'string' },
        github: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (err) {
    return io.usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  const fail = (message: string): number => {
    io.err(`merge-gate: ${message}`);
    return 2;
  };
  if (v.json && v.markdown) return io.usage('--json and --markdown: choose one');
  const last = v.last === undefined ? (v.since === undefined ? 100 : null) : /^\d{1,7}$/.test(v.last) && Number(v.last) >= 1 && Number(v.last) <= MAX_LAST ? Number(v.last) : NaN;
  if (Number.isNaN(last)) return io.usage(`--last expects a whole number from 1 to ${MAX_LAST}, got ${JSON.stringify(v.last)}`);
  const since = v.since === undefined ? null : DateTime.fromISO(v.since, { zone: 'utc', setZone: true });
  if (since && !since.isValid) return io.usage(`--since expects an ISO 8601 date or instant such as 2026-01-31 or 2026-01-31T09:00:00+01:00, got ${JSON.stringify(v.since)}`);

  if (v.github !== undefined) return replayGitHubCommand({ ...v, repository: v.github, last, since }, io, (results, heading) => report(results, heading, v, io));
  if (v.state !== undefined) return io.usage('--state goes with --github');

  try {
    const cwd = io.cwd;
    await requireRepository(cwd, 'replay');
    if (v.branch !== undefined) await requireRef(cwd, v.branch, '--branch');
    // As in the app, the policy is the default branch's (or the file being written, with --policy).
    const home = await defaultBranch(cwd).catch((err: unknown) => {
      if (v.branch !== undefined && v.policy !== undefined) return null;
      throw err;
    });
    const rev = v.branch ?? home!;
    const branch = await branchOf(cwd, rev).catch(() => rev);
    const source: PolicySource = v.policy !== undefined ? policyFile(resolve(cwd, v.policy)) : await policyAt(cwd, home!, DEFAULT_POLICY_PATH);
    const policyNote = source.kind === 'none' ? `the default preset (no ${DEFAULT_POLICY_PATH} on ${source.ref})` : `${v.policy ?? source.file}${source.ref ? ` at ${source.ref}` : ''}`;
    const loaded = loadPolicyText(source.kind === 'text' ? source.text : '', source.kind === 'text' ? (v.policy ?? source.file) : '(default preset)');
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(formatPolicyError(e));
      return 2;
    }
    const policy = loaded.policy;
    if (!isGated(policy, branch)) return fail(`the policy does not gate ${branch} (branches: ${policy.branches!.join(', ')}): replay a gated branch with --branch`);

    const replay = await localReplaySource({ cwd, rev, branch, last, since, allHunks: needsHunksForFlags(policy) });
    const results = await runReplay(policy, replay, (n) => {
      if (n % 100 === 0) io.err(`replay: ${n} changes judged`);
    });
    const unknown = replay.unknown.filter((r) => results.some((c) => c.rules[r] === 'unknown'));
    const heading: ReplayHeading = { what: `${branch} (first-parent history)`, policy: policyNote, unknown };
    return report(results, heading, v, io);
  } catch (err) {
    if (err instanceof GitError) return fail(err.message.split('\n')[0]);
    throw err;
  }
}

/** Prints the report in the format asked for (and writes the HTML file); every replay source ends here. */
function report(results: ChangeResult[], heading: ReplayHeading, v: { json?: boolean; markdown?: boolean; html?: string }, io: Io): number {
  if (v.html !== undefined) {
    try {
      writeFileSync(resolve(io.cwd, v.html), renderReplayHtml(results, heading));
    } catch (err) {
      io.err(`merge-gate: cannot write ${v.html}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 2;
    }
    io.err(`replay: HTML report written to ${v.html}`);
  }
  if (v.json) io.out(JSON.stringify(replayJson(results), null, 2));
  else if (v.markdown) io.out(renderReplayMarkdown(results, heading));
  else io.out(renderReplayText(results, heading));
  return 0;
}
