// `merge-gate simulate OWNER/REPO#N`: one live pull request, read through the
// app's own GitHub facts source, judged by a local policy file (the one being
// edited) now; the check's table is printed. Only reads: nothing is written to GitHub.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import { evaluate, gatherFacts } from '../rules/index.js';
import { verdictFigures } from '../rules/figures.js';
import { renderTerminal } from '../render.js';
import { systemClock } from '../clock.js';
import { GitHubPullRequestSource } from '../github/facts.js';
import { ExplainedError } from '../github/errors.js';
import { GitError } from '../facts/git.js';
import { EXIT } from './check.js';
import { githubAccess, githubFailure, parseRepository } from './github.js';
import { policyFile } from './repo.js';
import type { Io } from './io.js';

export const SIMULATE_USAGE = `Usage: merge-gate simulate OWNER/REPO#N [--policy FILE] [--json]

Evaluates pull request N of OWNER/REPO on GitHub, as it is now, against a local
policy file, and prints the check's table. Writes nothing to GitHub.

  --policy FILE   the policy to try (default .github/merge-gate.yml in this folder)
  --json          the verdict as JSON, figures as numbers

Token from GITHUB_TOKEN; API from GITHUB_API_URL (default https://api.github.com;
GitHub Enterprise: https://HOST/api/v3).
Exit 0 pass, 1 fail, 3 wait, 2 usage, policy or GitHub error (one line).
`;

/** The name the app's check run has: its own run is never an input to the verdict. */
const CHECK_NAME = 'merge-gate';

export async function simulateCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { policy: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true });
  } catch (err) {
    return io.usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(SIMULATE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) return io.usage('simulate takes one pull request: OWNER/REPO#N');
  const m = /^(.+)#(\d{1,9})$/.exec(parsed.positionals[0]);
  const name = m ? parseRepository(m[1]) : null;
  if (!m || !name || Number(m[2]) < 1) return io.usage(`simulate expects OWNER/REPO#N, got ${JSON.stringify(parsed.positionals[0])}`);
  const fail = (message: string): number => {
    if (v.json) io.out(JSON.stringify({ outcome: 'error', exitCode: 2, error: message }, null, 2));
    else io.err(`merge-gate: ${message}`);
    return 2;
  };
  const file = v.policy ?? DEFAULT_POLICY_PATH;
  try {
    const source = policyFile(resolve(io.cwd, file));
    const loaded = loadPolicyText(source.kind === 'text' ? source.text : '', file);
    if (!loaded.ok) {
      if (v.json) io.out(JSON.stringify({ outcome: 'error', exitCode: 2, error: `the policy has errors (${file})`, errors: loaded.errors }, null, 2));
      else for (const e of loaded.errors) io.err(formatPolicyError(e));
      return 2;
    }
    const access = githubAccess(process.env, io);
    if (typeof access === 'string') return fail(access);
    const number = Number(m[2]);
    const pull = new GitHubPullRequestSource({ octokit: access.octokit, owner: name.owner, repo: name.repo, number, appId: 0, checkName: CHECK_NAME });
    const facts = await gatherFacts(loaded.policy, pull);
    // Our own check on the head is the verdict being simulated, never an input to it.
    if (facts.checks) facts.checks = facts.checks.filter((c) => c.name !== CHECK_NAME);
    const now = systemClock.now();
    const verdict = evaluate(loaded.policy, facts, now);
    const exitCode = EXIT[verdict.outcome];
    if (v.json) io.out(JSON.stringify({ ...verdict, figures: verdictFigures(loaded.policy, facts, DateTime.fromJSDate(now)), exitCode, policy: file, pullRequest: facts.url }, null, 2));
    else io.out(`policy: ${file} (local); ${facts.repository}#${facts.number} (${facts.state}), head ${facts.head.sha.slice(0, 7)} on ${facts.base.ref}\n\n${renderTerminal(verdict)}`);
    return exitCode;
  } catch (err) {
    if (err instanceof GitError || err instanceof ExplainedError) return fail(err.message.split('\n')[0]);
    const failure = githubFailure(err);
    if (failure !== null) return fail(failure);
    throw err;
  }
}
