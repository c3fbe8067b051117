// The pages' settings from the environment (SPEC §7): off unless the app's own
// OAuth client and a session secret are all given; half a configuration is a
// start-up error naming what is missing, never pages open to all.
import type { PagesConfig } from './types.js';
import { pagesUrlFromEnv } from '../github/config.js';

const REQUIRED = ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'SESSION_SECRET'] as const;
/** Each session secret's least length: a key for HKDF, not a password. */
export const MIN_SECRET_LENGTH = 32;
export const DEFAULT_SESSION_TTL_MS = 8 * 3600_000;
export const DEFAULT_ACCESS_TTL_MS = 5 * 60_000;

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** Where people sign in and the REST API their token is used against: github.com, or GHE_HOST as Probot reads it. */
export function githubOrigins(env: NodeJS.ProcessEnv): { webOrigin: string; apiBase: string } {
  if (!given(env.GHE_HOST)) return { webOrigin: 'https://github.com', apiBase: 'https://api.github.com' };
  const webOrigin = `${env.GHE_PROTOCOL?.trim() || 'https'}://${env.GHE_HOST.trim()}`;
  return { webOrigin, apiBase: `${webOrigin}/api/v3` };
}

/** The pages' configuration, or null (pages off) when none of the three settings is given. Throws one line naming what is wrong. */
export function pagesConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PagesConfig | null {
  const missing = REQUIRED.filter((name) => !given(env[name]));
  if (missing.length === REQUIRED.length) return null;
  if (missing.length > 0) {
    const set = REQUIRED.filter((name) => !missing.includes(name));
    throw new Error(`${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not: the pages (/queue) need all three, or none to stay off`);
  }
  const sessionSecrets = env.SESSION_SECRET!.split(',').map((s) => s.trim());
  const short = sessionSecrets.findIndex((s) => s.length < MIN_SECRET_LENGTH);
  if (short >= 0) {
    throw new Error(`SESSION_SECRET: each comma-separated secret must be at least ${MIN_SECRET_LENGTH} characters (secret ${short + 1} of ${sessionSecrets.length} is ${sessionSecrets[short].length}); make one with \`openssl rand -hex 32\``);
  }
  return {
    clientId: env.GITHUB_CLIENT_ID!.trim(),
    clientSecret: env.GITHUB_CLIENT_SECRET!.trim(),
    sessionSecrets,
    publicUrl: pagesUrlFromEnv(env), // one reading of MERGE_GATE_URL: the check runs' details_url uses it too
    ...githubOrigins(env),
    sessionTtlMs: DEFAULT_SESSION_TTL_MS,
    accessTtlMs: DEFAULT_ACCESS_TTL_MS,
  };
}
