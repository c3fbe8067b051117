import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY_PATH, formatPolicyError, loadPolicyText } from '../policy/load.js';
import type { Io } from './io.js';

/** `merge-gate validate [FILE]`: exit 0 valid, 2 with every error on a line of its own. */
export function validateCommand(args: string[], io: Io): number {
  if (args.length > 1) return io.usage('validate takes at most one file');
  const file = args[0] ?? DEFAULT_POLICY_PATH;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`merge-gate: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    return 2;
  }
  const result = loadPolicyText(text, file);
  if (!result.ok) {
    for (const e of result.errors) io.out(formatPolicyError(e));
    return 2;
  }
  io.out(`${file}: valid${result.preset ? ` (preset: ${result.preset})` : ''}`);
  return 0;
}
