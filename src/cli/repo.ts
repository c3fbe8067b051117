// What `merge-gate check` needs from the local repository before any rule runs:
// the base as a commit and as a branch name, the default branch (where the app
// reads the policy), and the policy text there. Every failure is a GitError
// with one actionable line; nothing is skipped silently.
import { readFileSync, statSync } from 'node:fs';
import { blobAt, git, GitError } from '../facts/git.js';
import { POLICY_MAX_BYTES, tooLargeMessage } from '../policy/load.js';

const exists = (cwd: string, ref: string) => git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).then(() => true, () => false);

/** `check` compares HEAD with a base: outside a git repository that is all there is to say. */
export async function requireRepository(cwd: string, command: 'check' | 'replay' = 'check'): Promise<void> {
  // A replay reads history only: a bare repository (a mirror) will do.
  const probe = command === 'check' ? ['rev-parse', '--is-inside-work-tree'] : ['rev-parse', '--is-inside-work-tree', '--is-bare-repository'];
  const inside = await git(cwd, probe).then((out) => out.split('\n').includes('true'), () => false);
  const why = command === 'check' ? 'it compares HEAD with --base' : 'it reads the branch\'s history';
  if (!inside) throw new GitError(`${cwd} is not a git repository: run merge-gate ${command} inside a clone of the repository (${why})`);
}

/** `--base REF` must name a commit; said first, before anything else can fail. */
export async function requireRef(cwd: string, ref: string, option = '--base'): Promise<void> {
  if (ref.startsWith('-') || !(await exists(cwd, ref))) throw new GitError(`${option} ${ref}: no such branch, tag or commit in this repository (fetch it, or check the name)`);
}

/**
 * The repository's default branch, where the app reads the policy: origin/HEAD,
 * else the local branch `init.defaultBranch` names, else main or master.
 */
export async function defaultBranch(cwd: string): Promise<string> {
  const originHead = (await git(cwd, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']).catch(() => '')).trim();
  if (originHead) return originHead;
  const configured = (await git(cwd, ['config', '--get', 'init.defaultBranch']).catch(() => '')).trim();
  for (const name of [configured, 'main', 'master'].filter(Boolean)) {
    if (await git(cwd, ['rev-parse', '--verify', '--quiet', `refs/heads/${name}`]).then(() => true, () => false)) return name;
  }
  throw new GitError('cannot tell the default branch, where the app reads the policy: run `git remote set-head origin --auto`, or pass --base REF and --policy FILE');
}

/**
 * The branch a pull request into `base` targets: a local branch's name, or a
 * remote-tracking ref's branch (`upstream/stable/1.x` → `stable/1.x`). A commit
 * or a tag names no branch: the caller must say it with --branch.
 */
export async function branchOf(cwd: string, base: string): Promise<string> {
  const full = (await git(cwd, ['rev-parse', '--symbolic-full-name', base]).catch(() => '')).trim();
  if (full.startsWith('refs/heads/')) return full.slice('refs/heads/'.length);
  if (full.startsWith('refs/remotes/')) {
    const rest = full.slice('refs/remotes/'.length);
    const remotes = (await git(cwd, ['remote']).catch(() => '')).split('\n').filter(Boolean).sort((a, b) => b.length - a.length);
    const remote = remotes.find((r) => rest.startsWith(`${r}/`));
    const branch = remote ? rest.slice(remote.length + 1) : rest.slice(rest.indexOf('/') + 1);
    if (branch && branch !== 'HEAD') return branch;
  }
  throw new GitError(`cannot tell which branch --base ${base} is (${full.startsWith('refs/tags/') ? 'a tag' : 'not a branch'}): pass --branch NAME, the branch the pull request targets`);
}

/** The merge base, or why there is none (a shallow clone says to fetch more history). */
export async function mergeBase(cwd: string, base: string): Promise<string> {
  try {
    return (await git(cwd, ['merge-base', base, 'HEAD'])).trim();
  } catch {
    const shallow = (await git(cwd, ['rev-parse', '--is-shallow-repository']).catch(() => '')).trim() === 'true';
    if (shallow) throw new GitError(`this is a shallow clone and HEAD shares no history with ${base} in it: fetch more history (git fetch --unshallow, or git fetch --deepen=N)`);
    throw new GitError(`HEAD and ${base} share no history: is --base the branch this change was made from?`);
  }
}

export type PolicySource = { kind: 'none'; ref: string } | { kind: 'text'; text: string; file: string; ref: string | null };

/** `.github/merge-gate.yml` at `ref`: none when it is not there; an error (never "none") when it cannot be read or is too large. */
export async function policyAt(cwd: string, ref: string, path: string): Promise<PolicySource> {
  const blob = await blobAt(cwd, ref, path);
  if (!blob) return { kind: 'none', ref };
  if (blob.bytes > POLICY_MAX_BYTES) throw new GitError(`${path} at ${ref}: ${tooLargeMessage('policy', blob.bytes, POLICY_MAX_BYTES)}`);
  return { kind: 'text', text: await git(cwd, ['show', `${ref}:${path}`]), file: path, ref };
}

/** A policy file named on the command line: one line for a missing file, a directory or one over the limit. */
export function policyFile(path: string): PolicySource {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new GitError(`${path} is a directory, not a policy file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof GitError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new GitError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (size > POLICY_MAX_BYTES) throw new GitError(`${path}: ${tooLargeMessage('policy', size, POLICY_MAX_BYTES)}`);
  return { kind: 'text', text: readFileSync(path, 'utf8'), file: path, ref: null };
}
