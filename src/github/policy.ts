// The policy, read the way Probot's `context.config` reads configuration: from
// the repository's default branch (never from the pull request), falling back
// to the organisation's `.github` repository, following `_extends`. Extended
// files are merged under the repository's file with lists replacing, not
// concatenating (SPEC §1). Errors get their line and column from the file's
// raw text, fetched only when there are errors.
import { loadPolicyObject, mergeUnder, parseYaml, type PolicyError } from '../policy/load.js';
import type { Policy } from '../policy/schema.js';
import type { Octokit } from './facts.js';

export type PolicyRead =
  | { kind: 'none' }
  | { kind: 'ok'; policy: Policy; preset: string | null }
  | { kind: 'error'; errors: PolicyError[] };

const PLUGIN_PREFIX = '[@probot/octokit-plugin-config]';

interface ConfigFile {
  owner: string;
  repo: string;
  path: string;
  config: Record<string, unknown> | null;
}

async function rawText(octokit: Octokit, owner: string, repo: string, path: string): Promise<string | null> {
  try {
    const res = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner, repo, path, mediaType: { format: 'raw' } });
    return String(res.data);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
}

/** How an error names a policy file that lives in another repository (the organisation's `.github`). */
function label(file: { owner: string; repo: string; path: string }, owner: string, repo: string): string {
  return file.owner.toLowerCase() === owner.toLowerCase() && file.repo.toLowerCase() === repo.toLowerCase()
    ? file.path
    : `${file.owner}/${file.repo}/${file.path}`;
}

export async function readPolicy(octokit: Octokit, owner: string, repo: string, path: string): Promise<PolicyRead> {
  let files: ConfigFile[];
  let config: unknown;
  try {
    ({ files, config } = (await octokit.config.get({
      owner,
      repo,
      path,
      // `configs` come base first; each later file is merged over the earlier ones.
      defaults: (configs: object[]) => configs.reduce<unknown>((acc, c) => mergeUnder(acc, c), {}) as Record<string, unknown>,
    })) as { files: ConfigFile[]; config: unknown });
  } catch (err) {
    const message = (err as Error).message ?? '';
    if (!message.startsWith(PLUGIN_PREFIX)) throw err; // GitHub trouble: not a policy problem
    // Unparseable YAML, a bad `_extends`, a directory: the file's fault. Say where when we can.
    const text = await rawText(octokit, owner, repo, path);
    if (text !== null) {
      const parsed = parseYaml(text, path);
      if (parsed.errors.length > 0) return { kind: 'error', errors: parsed.errors };
    }
    return { kind: 'error', errors: [{ file: path, line: 1, column: 1, path: '', message: message.slice(PLUGIN_PREFIX.length).trim() }] };
  }
  const main = files.find((f) => f.config !== null);
  if (!main) return { kind: 'none' };
  const loaded = loadPolicyObject(config, label(main, owner, repo));
  if (loaded.ok) return { kind: 'ok', policy: loaded.policy, preset: loaded.preset };
  // Errors: read the file once more as text, so each error names its line and column.
  const text = await rawText(octokit, main.owner, main.repo, main.path);
  if (text === null) return { kind: 'error', errors: loaded.errors };
  const parsed = parseYaml(text, label(main, owner, repo));
  const located = loadPolicyObject(config, parsed.file, parsed.locate);
  return { kind: 'error', errors: located.ok ? loaded.errors : located.errors };
}
