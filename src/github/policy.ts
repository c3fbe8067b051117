// The policy, read the way Probot's `context.config` reads configuration
// (@probot/octokit-plugin-config): from the repository's default branch
// (never from the pull request), falling back to the organisation's `.github`
// repository, following `_extends` ("repo", "owner/repo" or
// "owner/repo:path.yml"). Extended files are merged under the repository's
// file with lists replacing, not concatenating (SPEC §1).
//
// The files are fetched as the plugin fetches them, but parsed by merge-gate's
// own reader (src/policy/load.ts): the plugin's parser compares every key with
// every earlier one, so a policy of 50,000 keys held the app's one thread for
// minutes, and it has no size limit. Here a policy over 64 KiB is refused, an
// alias bomb stops at 100 aliases, parsing is linear, and every error names
// its line and column without reading the file twice.
import { isPlainObject, loadPolicyObject, mergeUnder, parseYaml, type ParsedYaml, type PolicyError } from '../policy/load.js';
import type { Policy } from '../policy/schema.js';
import type { Octokit } from '../octokit/types.js';

export type PolicyRead =
  | { kind: 'none' }
  | { kind: 'ok'; policy: Policy; preset: string | null }
  | { kind: 'error'; errors: PolicyError[] };

interface FileRef {
  owner: string;
  repo: string;
  path: string;
}

/** The text of a file on the default branch; null when there is none. */
async function fileText(octokit: Octokit, file: FileRef, name: string): Promise<string | null> {
  let res;
  try {
    res = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { ...file, mediaType: { format: 'raw' } });
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err; // GitHub trouble: not a policy problem
  }
  // A directory or a submodule is answered with a JSON listing instead of the raw text.
  if (typeof res.data !== 'string') throw new PolicyFileError(name, `${name} is a directory or a submodule, not a file`);
  return res.data;
}

/** The policy file's fault, in words for the check. */
class PolicyFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

/** How an error names a policy file that lives in another repository (the organisation's `.github`). */
function label(file: FileRef, owner: string, repo: string): string {
  return file.owner.toLowerCase() === owner.toLowerCase() && file.repo.toLowerCase() === repo.toLowerCase()
    ? file.path
    : `${file.owner}/${file.repo}/${file.path}`;
}

const EXTENDS = /^(?:([a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})\/)?([-_.\w]+)(?::([-_./\w]+\.ya?ml))?$/i;

/** Where `_extends` points, as the plugin reads it: the owner and the path default to the extending file's. */
function extendsTarget(value: unknown, from: FileRef, name: string): FileRef {
  const match = typeof value === 'string' ? EXTENDS.exec(value) : null;
  if (!match) throw new PolicyFileError(name, `_extends in ${name} must be "repo", "owner/repo" or "owner/repo:path.yml", not ${JSON.stringify(value)}`);
  return { owner: match[1] ?? from.owner, repo: match[2], path: match[3] ?? from.path };
}

const same = (a: FileRef, b: FileRef) =>
  a.owner.toLowerCase() === b.owner.toLowerCase() && a.repo.toLowerCase() === b.repo.toLowerCase() && a.path === b.path;

export async function readPolicy(octokit: Octokit, owner: string, repo: string, path: string): Promise<PolicyRead> {
  try {
    let ref: FileRef = { owner, repo, path };
    let text = await fileText(octokit, ref, path);
    if (text === null && repo.toLowerCase() !== '.github') {
      ref = { owner, repo: '.github', path };
      text = await fileText(octokit, ref, label(ref, owner, repo));
    }
    if (text === null) return { kind: 'none' };

    // The file found first, then each file it extends: merged base first, so the first file wins.
    const chain: Array<{ ref: FileRef; parsed: ParsedYaml }> = [];
    for (;;) {
      const name = label(ref, owner, repo);
      const parsed = parseYaml(text, name);
      if (parsed.errors.length > 0) return { kind: 'error', errors: parsed.errors };
      chain.push({ ref, parsed });
      const value = parsed.value;
      if (!isPlainObject(value) || value._extends === undefined) break;
      const next = extendsTarget(value._extends, ref, name);
      if (chain.some((c) => same(c.ref, next))) {
        throw new PolicyFileError(name, `_extends in ${name} leads back to ${label(next, owner, repo)}, which is already read (a loop)`);
      }
      ref = next;
      text = await fileText(octokit, ref, label(ref, owner, repo));
      // A base that is not there would silently weaken the policy: fail closed.
      if (text === null) throw new PolicyFileError(name, `_extends in ${name}: ${label(ref, owner, repo)} was not found on its default branch (or the app cannot read that repository)`);
    }
    const withoutExtends = (v: unknown) => {
      if (!isPlainObject(v)) return v ?? {};
      const { _extends: _, ...rest } = v;
      return rest;
    };
    const merged = chain.reduceRight<unknown>((acc, c) => mergeUnder(acc, withoutExtends(c.parsed.value)), {});
    const main = chain[0].parsed;
    const loaded = loadPolicyObject(merged, main.file, main.locate);
    return loaded.ok ? { kind: 'ok', policy: loaded.policy, preset: loaded.preset } : { kind: 'error', errors: loaded.errors };
  } catch (err) {
    if (!(err instanceof PolicyFileError)) throw err;
    return { kind: 'error', errors: [{ file: err.file, line: 1, column: 1, path: '', message: err.message }] };
  }
}
