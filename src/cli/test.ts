// `merge-gate test [FILE…]`: run policy test cases, like a test runner.
// Exit 0 when every case holds, 1 with the differences, 2 on a file or policy error.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { GitError } from '../facts/git.js';
import { escapeTerminal } from '../escape.js';
import { formatPolicyError, loadPolicyText, tooLargeMessage } from '../policy/load.js';
import { caseFacts, DEFAULT_TEST_PATH, loadTestFile } from '../policy-test/cases.js';
import { runCase } from '../policy-test/run.js';
import { policyFile } from './repo.js';
import { findPolicy } from './validate.js';
import type { Io } from './io.js';

/** A diff file is a test fixture: a few hundred kilobytes at most. */
const DIFF_MAX_BYTES = 4 * 1024 * 1024;

function readDiff(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GitError(`cannot read the diff file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (err as Error).message}`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > DIFF_MAX_BYTES) throw new GitError(`${path}: ${tooLargeMessage('diff', bytes, DIFF_MAX_BYTES)}`);
  return text;
}

export const TEST_USAGE = `Usage: merge-gate test [FILE]...

Runs policy test cases (default ${DEFAULT_TEST_PATH}) against the policy the
file names (policy: PATH, relative to it), else .github/merge-gate.yml.
The format: docs/policy.md, "Testing the policy".

Exit 0 when every case holds, 1 when some differ, 2 on a file or policy error.
`;

export function testCommand(args: string[], io: Io): number {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.out(TEST_USAGE);
    return 0;
  }
  if (args.some((a) => a.startsWith('-'))) return io.usage(`test takes test files, no options (got ${JSON.stringify(args.find((a) => a.startsWith('-')))})`);
  const files = args.length ? args : [DEFAULT_TEST_PATH];
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const path = resolve(io.cwd, file);
    try {
      const source = policyFile(path); // the same reading rules (size, directory) as a policy file
      const loaded = loadTestFile(source.kind === 'text' ? source.text : '', file);
      if (!loaded.ok) {
        for (const e of loaded.errors) io.err(formatPolicyError(e));
        return 2;
      }
      // The policy: `policy:` relative to the test file, else the repository's, as validate finds it.
      const policyPath = loaded.tests.policy !== undefined ? resolve(dirname(path), loaded.tests.policy) : resolve(io.cwd, findPolicy(io.cwd));
      const policySource = policyFile(policyPath);
      const shown = relative(io.cwd, policyPath) || policyPath;
      const policy = loadPolicyText(policySource.kind === 'text' ? policySource.text : '', shown);
      if (!policy.ok) {
        for (const e of policy.errors) io.err(formatPolicyError(e));
        return 2;
      }
      io.out(`${file} (policy ${shown})`);
      loaded.tests.cases.forEach((c, i) => {
        const diffText = c.diff === undefined ? null : readDiff(resolve(dirname(path), c.diff));
        const facts = caseFacts(c, policy.policy.trunk?.environment ?? null, diffText);
        const outcome = runCase(policy.policy, c, facts, loaded.line(i));
        if (outcome.passed) {
          passed++;
          io.out(`  ✓ ${escapeTerminal(c.name)}`);
        } else {
          failed++;
          io.out(`  ✗ ${escapeTerminal(c.name)} (${file}:${outcome.line})`);
          for (const d of outcome.differences) io.out(`      ${escapeTerminal(d)}`);
        }
      });
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      io.err(`merge-gate: ${err.message.replace(path, file)}`);
      return 2;
    }
  }
  io.out(`\n✓ ${passed} passed${failed ? `, ✗ ${failed} failed` : ''}`);
  return failed ? 1 : 0;
}
