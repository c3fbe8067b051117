import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { GitError } from '../facts/git.js';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import type { Io } from './io.js';
import { policyFile } from './repo.js';

/** `.github/merge-gate.yml` in `cwd` or the nearest folder above it, up to the repository's root. */
export function findPolicy(cwd: string): string {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, DEFAULT_POLICY_PATH);
    if (existsSync(candidate)) return relative(cwd, candidate) || candidate;
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return DEFAULT_POLICY_PATH;
  }
}

/** `merge-gate validate [FILE]`: exit 0 valid, 2 with every error on a line of its own. */
export function validateCommand(args: string[], io: Io): number {
  if (args.length > 1) return io.usage('validate takes at most one file');
  const file = args[0] ?? findPolicy(io.cwd);
  let text: string;
  try {
    const source = policyFile(resolve(io.cwd, file));
    text = source.kind === 'text' ? source.text : '';
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    io.err(`merge-gate: ${err.message.replace(resolve(io.cwd, file), file)}`);
    return 2;
  }
  const result = loadPolicyText(text, file);
  if (!result.ok) {
    for (const e of result.errors) io.out(formatPolicyError(e));
    return 2;
  }
  io.out(`${file}: valid${result.preset ? ` (preset: ${result.preset})` : ''}`);
  // Probot resolves `_extends` when the app reads the policy; this file is checked on its own.
  if (result.policy._extends) io.out(`note: _extends ${JSON.stringify(result.policy._extends)} is resolved by the app on GitHub; validate checked this file alone`);
  return 0;
}
