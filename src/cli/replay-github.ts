// `merge-gate replay --github OWNER/REPO`: the shell around src/replay/github.ts.
import { resolve } from 'node:path';
import type { DateTime } from 'luxon';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import { factNeeds, isGated } from '../rules/index.js';
import { ReplayCache, defaultStateDir, replayCacheFile } from '../replay/cache.js';
import { githubReplaySource, listMergedPulls, needsSignature, type GatheredPull } from '../replay/github.js';
import type { FileDiff } from '../facts/types.js';
import type { ReplayHeading } from '../replay/render.js';
import { runReplay } from '../replay/run.js';
import type { ChangeResult } from '../replay/types.js';
import { githubAccess, githubFailure, parseRepository } from './github.js';
import { policyFile } from './repo.js';
import { GitError } from '../facts/git.js';
import type { Io } from './io.js';

export interface ReplayGitHubArgs {
  repository: string;
  branch?: string;
  policy?: string;
  state?: string;
  last: number | null;
  since: DateTime | null;
}

export async function replayGitHubCommand(args: ReplayGitHubArgs, io: Io, report: (results: ChangeResult[], heading: ReplayHeading) => number): Promise<number> {
  const fail = (message: string): number => {
    io.err(`merge-gate: ${message}`);
    return 2;
  };
  const name = parseRepository(args.repository);
  if (!name) return io.usage(`--github expects OWNER/REPO, got ${JSON.stringify(args.repository)}`);
  const access = githubAccess(process.env, io);
  if (typeof access === 'string') return fail(access);
  const { octokit, apiUrl } = access;
  const { owner, repo } = name;
  const cacheFile = replayCacheFile(resolve(io.cwd, args.state ?? defaultStateDir(process.env)), apiUrl, owner, repo);
  try {
    // The policy being written, or the one the app would read (on the default branch, read with the listing).
    const local = args.policy !== undefined ? policyFile(resolve(io.cwd, args.policy)) : null;
    io.err(`replay: listing the pull requests merged in ${owner}/${repo}`);
    const list = await listMergedPulls(octokit, {
      owner,
      repo,
      branch: args.branch ?? null,
      last: args.last,
      since: args.since?.toUTC().toISO() ?? null,
      policyPath: local ? null : DEFAULT_POLICY_PATH,
      say: (line) => io.err(line),
    });
    const branch = args.branch ?? list.defaultBranch;
    const text = local?.kind === 'text' ? local.text : (list.policy ?? '');
    const policyNote = local ? args.policy! : list.policy ? `${DEFAULT_POLICY_PATH} on ${list.defaultBranch}` : `the default preset (no ${DEFAULT_POLICY_PATH} on ${list.defaultBranch})`;
    const loaded = loadPolicyText(text, local ? args.policy! : list.policy ? DEFAULT_POLICY_PATH : '(default preset)');
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(formatPolicyError(e));
      return 2;
    }
    const policy = loaded.policy;
    if (!isGated(policy, branch)) return fail(`the policy does not gate ${branch} (branches: ${policy.branches!.join(', ')}): replay a gated branch with --branch`);
    const needs = factNeeds(policy);
    const cache = new ReplayCache<GatheredPull, FileDiff[]>(cacheFile, needsSignature(needs));
    io.err(`replay: ${list.pulls.length} merged pull requests; ${cache.size} already read (${cacheFile})`);
    const source = githubReplaySource({ octokit, owner, repo, list, policy, needs, cache, say: (line) => io.err(line) });
    const results = await runReplay(policy, source);
    const unknown = [...new Set(results.flatMap((c) => Object.entries(c.rules).filter(([, cell]) => cell === 'unknown').map(([rule]) => rule)))];
    const heading: ReplayHeading = { what: `${list.repository}: pull requests merged into ${branch}`, policy: policyNote, unknown };
    return report(results, heading);
  } catch (err) {
    if (err instanceof GitError) return fail(err.message.split('\n')[0]);
    const failure = githubFailure(err);
    if (failure === null) throw err;
    return fail(`${failure}; what was read is kept in ${cacheFile}: run the same command again to resume`);
  }
}
