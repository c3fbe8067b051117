// Runs before `probot run` (npm start): a private key file that is not there
// is one line naming the variable and the path, instead of Probot's stack trace.
// Only what Probot itself would stop on is checked; everything else is Probot's.
import { accessSync, constants, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Why the app cannot start with this environment, or null. */
export function startProblem(env: NodeJS.ProcessEnv, readable: (path: string) => string | null): string | null {
  if (env.PRIVATE_KEY || !env.PRIVATE_KEY_PATH) return null; // a key in the environment, or Probot's setup page
  const why = readable(env.PRIVATE_KEY_PATH);
  return why && `merge-gate: PRIVATE_KEY_PATH=${JSON.stringify(env.PRIVATE_KEY_PATH)}: ${why}. Point it at the GitHub App's private key (.pem), or set PRIVATE_KEY instead.`;
}

/** Null when `path` is a readable file; else what is wrong with it, in words. */
export function fileProblem(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return 'is a directory, not a key file';
    accessSync(path, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problem = startProblem(process.env, fileProblem);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
