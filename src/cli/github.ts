// What the commands that read GitHub share (`replay --github`, `simulate`): the
// token and API URL from the environment, the client, and GitHub's refusals
// said in one line a maintainer can act on.
import { systemClock } from '../clock.js';
import { DEFAULT_API_URL, tokenOctokit } from '../octokit/token.js';
import type { Octokit } from '../octokit/types.js';
import type { Io } from './io.js';

export interface GitHubAccess {
  octokit: Octokit;
  apiUrl: string;
}

/** `GITHUB_TOKEN` and `GITHUB_API_URL` (GitHub Enterprise: https://HOST/api/v3); a sentence when they will not do. */
export function githubAccess(env: NodeJS.ProcessEnv, io: Io): GitHubAccess | string {
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) return 'GITHUB_TOKEN is not set: give a token that can read the repository (a fine-grained token with read access to pull requests, contents, checks and deployments, or the Actions GITHUB_TOKEN)';
  const apiUrl = env.GITHUB_API_URL?.trim() || DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return `GITHUB_API_URL is not a URL: ${JSON.stringify(apiUrl)} (GitHub Enterprise: https://HOST/api/v3)`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `GITHUB_API_URL must be an http(s) URL, got ${JSON.stringify(apiUrl)}`;
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return { octokit: tokenOctokit({ token, baseUrl: apiUrl, clock: systemClock, sleep, say: (line) => io.err(`merge-gate: ${line}`) }), apiUrl };
}

/** `OWNER/REPO`, as GitHub spells names (data: never a path or a pattern). */
export function parseRepository(text: string): { owner: string; repo: string } | null {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(text);
  return m && m[2] !== '.' && m[2] !== '..' ? { owner: m[1], repo: m[2] } : null;
}

/** A request GitHub refused or could not answer, in one line; null for anything else (a bug: rethrown). */
export function githubFailure(err: unknown): string | null {
  const e = err as { status?: number; message?: string; name?: string; errors?: Array<{ message?: string }> };
  if (e?.name === 'GraphqlResponseError') return `GitHub's GraphQL API answered an error: ${e.errors?.[0]?.message ?? e.message}`;
  if (typeof e?.status !== 'number') return null;
  const hint = e.status === 401 ? ' (is GITHUB_TOKEN valid?)' : e.status === 403 || e.status === 404 ? ' (can the token read this repository?)' : '';
  return `GitHub answered ${e.status}: ${(e.message ?? '').split('\n')[0]}${hint}`;
}
