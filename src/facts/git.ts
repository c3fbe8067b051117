// Facts from a local git repository, for `merge-gate check` before pushing.
// Review and CI facts cannot come from git; the CLI passes them in.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CheckResult, ChangedFile, DeploymentState, FactNeeds, FactsSource, FileDiff, FileStatus, PullRequestFacts, Review } from './types.js';
import { parseUnifiedDiff } from './diff.js';
import { CODEOWNERS_PATHS, codeownersTeams } from '../rules/codeowners.js';

const run = promisify(execFile);

export interface GitFactsOptions {
  cwd: string;
  /** The branch the change would land on, e.g. `main` or `origin/main`. */
  base: string;
  /** The branch name the pull request targets (decides gating); default: --base without its remote. */
  branch?: string;
  labels?: string[];
  reviews?: Review[];
  checks?: CheckResult[];
  /** The latest status of the newest deployment of the base revision (`--deployment`); absent: no deployment known. */
  deployment?: { state: DeploymentState; at: string };
  /** Team members known on the command line (`--team @org/team=login,...`), by `@org/team` lower-cased; any other team is unknown. */
  teams?: Record<string, string[]>;
}

export class GitError extends Error {}

export async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    throw new GitError(`git ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

/**
 * The text of `path` at `rev`: null only when the file is not there. Anything
 * else that stops the read (not a file, git failing) is a GitError, never
 * "absent": a registry or .gitattributes that cannot be read must not pass as
 * one that does not exist (fail closed).
 */
export async function gitShow(cwd: string, rev: string, path: string): Promise<string | null> {
  const entry = await blobAt(cwd, rev, path);
  return entry ? git(cwd, ['show', `${rev}:${path}`]) : null;
}

/** The size of the blob at `rev:path`, or null when nothing is there; a GitError when it is not a file. */
export async function blobAt(cwd: string, rev: string, path: string): Promise<{ bytes: number } | null> {
  const entry = (await git(cwd, ['ls-tree', '-z', '--long', rev, '--', path])).split('\0')[0];
  if (!entry) return null;
  const m = /^\d+ (\w+) [0-9a-f]+ +(-|\d+)\t/.exec(entry);
  if (!m || m[1] !== 'blob') throw new GitError(`${path} at ${rev} is not a file`);
  return { bytes: Number(m[2]) };
}

/** The same file list for every diff, whatever the user's git config says (diff.relative, diff.external, diff.renames). */
export const DIFF_OPTIONS = ['--find-renames', '--no-ext-diff', '--no-relative', '--no-textconv'];

const STATUS: Record<string, FileStatus> = { A: 'added', M: 'modified', D: 'removed', R: 'renamed', C: 'copied', T: 'modified' };

/** `git diff --name-status -z` and `--numstat -z` joined into ChangedFiles. */
export function parseChangedFiles(nameStatus: string, numstat: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  const ns = nameStatus.split('\0');
  for (let i = 0; i < ns.length - 1; ) {
    const code = ns[i++];
    const status = STATUS[code[0]] ?? 'modified';
    if (status === 'renamed' || status === 'copied') {
      const previousPath = ns[i++];
      files.push({ path: ns[i++], previousPath, status, additions: 0, deletions: 0 });
    } else {
      files.push({ path: ns[i++], status, additions: 0, deletions: 0 });
    }
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  const nums = numstat.split('\0');
  for (let i = 0; i < nums.length - 1; ) {
    // Only the first two tabs separate fields: a tab in a file name is part of the name.
    const [, added, deleted, path] = /^([^\t]*)\t([^\t]*)\t(.*)$/s.exec(nums[i++]) ?? [];
    if (added === undefined) continue;
    // Renames: "added\tdeleted\t" then the old and the new path as separate fields.
    const target = path === '' ? (i++, nums[i++]) : path;
    const file = byPath.get(target);
    if (file) {
      // Binary files count as no lines, as on GitHub.
      file.additions = added === '-' ? 0 : Number(added);
      file.deletions = deleted === '-' ? 0 : Number(deleted);
    }
  }
  return files;
}

export function gitFactsSource(options: GitFactsOptions): FactsSource {
  const { cwd } = options;
  const headRev = 'HEAD';
  let mergeBase = '';
  return {
    async load(needs: FactNeeds): Promise<PullRequestFacts> {
      const [baseSha, headSha, branch, author, title] = await Promise.all([
        git(cwd, ['rev-parse', '--verify', `${options.base}^{commit}`]),
        git(cwd, ['rev-parse', '--verify', `${headRev}^{commit}`]),
        git(cwd, ['rev-parse', '--abbrev-ref', headRev]),
        git(cwd, ['log', '-1', '--format=%an', headRev]),
        git(cwd, ['log', '-1', '--format=%s', headRev]),
      ]);
      mergeBase = (await git(cwd, ['merge-base', options.base, headRev])).trim();
      const range = `${mergeBase}..${headRev}`;
      const facts: PullRequestFacts = {
        repository: cwd,
        number: 0,
        title: title.trim(),
        url: '',
        author: { login: author.trim(), bot: false },
        base: { ref: options.branch ?? options.base.replace(/^(refs\/remotes\/)?origin\//, '').replace(/^refs\/heads\//, ''), sha: baseSha.trim() },
        head: { ref: branch.trim(), sha: headSha.trim() },
        labels: options.labels ?? [],
        draft: false,
        state: 'open',
        reviews: options.reviews ?? [],
        checks: options.checks ?? [],
      };
      if (needs.trunk) {
        const d = options.deployment;
        // Locally, the deployed revision is taken to be the base branch's tip.
        facts.deployment = d
          ? { environment: needs.trunk.environment, sha: facts.base.sha, createdAt: d.at, status: { state: d.state, description: null, since: d.at, url: null } }
          : null;
      }
      if (needs.files) {
        const [nameStatus, numstat] = await Promise.all([
          git(cwd, ['diff', '--name-status', '-z', ...DIFF_OPTIONS, range]),
          git(cwd, ['diff', '--numstat', '-z', ...DIFF_OPTIONS, range]),
        ]);
        facts.files = parseChangedFiles(nameStatus, numstat);
      }
      if (needs.registryPath) {
        const [base, head] = await Promise.all([gitShow(cwd, mergeBase, needs.registryPath), gitShow(cwd, headRev, needs.registryPath)]);
        facts.registry = { base, head };
      }
      // At the base, like the policy: a change cannot mark its own files generated to escape the count.
      if (needs.gitattributes) facts.gitattributes = await gitShow(cwd, mergeBase, '.gitattributes');
      if (needs.owners) {
        // At the base, as GitHub reads it: a change cannot rewrite who owns what it changes.
        let codeowners: PullRequestFacts['codeowners'] = null;
        if (needs.owners.codeowners) {
          for (const path of CODEOWNERS_PATHS) {
            const text = await gitShow(cwd, mergeBase, path);
            if (text !== null) { codeowners = { path, text }; break; }
          }
          facts.codeowners = codeowners;
        }
        const given = options.teams ?? {};
        const named = new Set([...needs.owners.teams, ...(codeowners ? codeownersTeams(codeowners.text) : []), ...Object.keys(given)]);
        facts.teams = Object.fromEntries([...named].map((team) => [team, given[team]
          ? { members: given[team] }
          : { error: `unknown here: git does not know team members; pass --team ${team}=login,login` }]));
      }
      return facts;
    },
    async diff(): Promise<FileDiff[]> {
      const text = await git(cwd, ['diff', ...DIFF_OPTIONS, '--no-color', '--src-prefix=a/', '--dst-prefix=b/', '-U3', `${mergeBase}..${headRev}`]);
      return parseUnifiedDiff(text);
    },
  };
}
