// What a revision's commands (deploy, health, cutoff, stop) get in their
// environment: an allow-list, never the trigger's own. Code in a deployed
// revision is not trusted with the webhook secret or the GitHub token: with
// them it could sign trunk-updated events or post deployment statuses.

/** Set by the trigger for each revision; `env:` cannot override them. */
export const REVISION_VARIABLES = ['REVISION', 'PORT', 'REPOSITORY', 'CHECKOUT', 'SIGNAL_URL'] as const;

/** Copied from the trigger's environment when set: what a process needs to run at all. */
export const PASSED_THROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'] as const;

/** One `env:` entry: a literal value, or `{ from: NAME }` (a variable of the trigger's environment). */
export type EnvEntry = string | { from: string };

export type RevisionVariables = Record<(typeof REVISION_VARIABLES)[number], string>;

/**
 * The environment of a revision's commands: the pass-through variables, then
 * the repository's `env:`, then the revision's own. `secrets` (the names of
 * `secret_env` and every `github.token_env`) never pass, whatever else says so
 * (the config loader already refuses an `env:` naming them).
 */
export function commandEnv(source: NodeJS.ProcessEnv, entries: Record<string, EnvEntry>, revision: RevisionVariables, secrets: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, entry] of Object.entries(entries)) {
    const value = typeof entry === 'string' ? entry : source[entry.from];
    if (value !== undefined) env[name] = value;
  }
  for (const name of secrets) delete env[name];
  return { ...env, ...revision };
}

/** `env:` entries whose `from` variable is not set in the trigger's environment: the trigger refuses to start. */
export function missingFrom(source: NodeJS.ProcessEnv, entries: Record<string, EnvEntry>): string[] {
  return Object.entries(entries)
    .filter(([, entry]) => typeof entry !== 'string' && source[entry.from] === undefined)
    .map(([name, entry]) => `env.${name} comes from ${(entry as { from: string }).from}, which is not set`);
}
