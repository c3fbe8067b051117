// `merge-gate check` and `validate` against hostile or unusual repositories and
// arguments (issue 7): the CLI decides like the app, and every error is one line.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';

const POLICY = 'preset: none\nbranches: [main, "stable/*"]\nsize: { max_lines: 100 }\n';
const NOW = ['--now', '2026-11-25T10:00:00Z'];
const cleanup: Array<() => void> = [];
afterEach(() => {
  while (cleanup.length > 0) cleanup.pop()!();
});

function repoWith(policy = POLICY, lines = 150): TempRepo {
  const repo = makeRepo();
  cleanup.push(repo.remove);
  repo.commit('policy', { '.github/merge-gate.yml': policy, 'README.md': 'hello\n' });
  repo.git('checkout', '-q', '-b', 'topic');
  repo.commit('change', { 'src/feature.ts': linesOf(lines) });
  return repo;
}

/** No stack trace, one line, exit 2. */
function expectOneLineError(run: ReturnType<typeof runCli>, text: string | RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  const lines = run.stderr.trim().split('\n');
  expect(lines[0]).toMatch(text);
  expect(lines).toHaveLength(1);
}

describe('the CLI decides like the app', () => {
  it('reads the policy from the default branch, not from --base, and says which ref it read', () => {
    const repo = repoWith();
    repo.git('checkout', '-q', '-b', 'stable/1.x', 'main');
    repo.commit('weaken on the release branch', { '.github/merge-gate.yml': POLICY.replace('max_lines: 100', 'max_lines: 100000') });
    repo.git('checkout', '-q', '-b', 'fix', 'stable/1.x');
    repo.commit('fix', { 'src/fix.ts': linesOf(150) });
    const run = runCli(['check', '--base', 'stable/1.x', ...NOW], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')[0]).toBe('policy: .github/merge-gate.yml at main (the default branch); base stable/1.x (branch stable/1.x)');
    expect(run.stdout).toMatch(/^size\s+fail\s+150 \/ 100 lines$/m);
  });

  it('a commit or a tag as --base is not guessed to be ungated: exit 2 unless --branch names the branch', () => {
    const repo = repoWith();
    const sha = repo.git('rev-parse', 'main').trim();
    repo.git('tag', 'v1', 'main');
    expectOneLineError(runCli(['check', '--base', sha, ...NOW], repo.dir), `merge-gate: cannot tell which branch --base ${sha} is (not a branch): pass --branch NAME, the branch the pull request targets`);
    expectOneLineError(runCli(['check', '--base', 'v1', ...NOW], repo.dir), /cannot tell which branch --base v1 is \(a tag\)/);
    const named = runCli(['check', '--base', sha, '--branch', 'main', ...NOW], repo.dir);
    expect(named.code).toBe(1);
    expect(named.stdout).toMatch(/^size\s+fail\s+150 \/ 100 lines$/m);
  });

  it('a remote-tracking --base of any remote is its branch (upstream/main is main, and gated)', () => {
    const repo = repoWith();
    repo.git('remote', 'add', 'upstream', 'https://example.invalid/upstream.git');
    repo.git('update-ref', 'refs/remotes/upstream/main', 'main');
    const run = runCli(['check', '--base', 'upstream/main', ...NOW], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')[0]).toBe('policy: .github/merge-gate.yml at main (the default branch); base upstream/main (branch main)');
  });

  it('_extends is accepted by validate, check and the JSON Schema alike; validate says the app resolves it', () => {
    const repo = repoWith(`_extends: octo/.github\n${POLICY}`);
    const validate = runCli(['validate', join(repo.dir, '.github/merge-gate.yml')], repo.dir);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('note: _extends "octo/.github" is resolved by the app on GitHub; validate checked this file alone');
    expect(runCli(['check', ...NOW], repo.dir).code).toBe(1);
  });
});

describe('no stack traces, no out-of-memory: every error is one line with exit 2', () => {
  it.each([['99999999999999999999'], ['20000000'], ['1001'], ['-1'], ['1e3']])('--approvals %s is refused at once', (n) => {
    const run = runCli(['check', `--approvals=${n}`, ...NOW], repoWith().dir);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(`merge-gate: --approvals expects a whole number from 0 to 1000, got "${n}"`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('--policy naming a folder, or a missing file, is one line', () => {
    const repo = repoWith();
    expectOneLineError(runCli(['check', '--policy', tmpdir(), ...NOW], repo.dir), `merge-gate: ${tmpdir()} is a directory, not a policy file`);
    expectOneLineError(runCli(['check', '--policy', 'nope.yml', ...NOW], repo.dir), 'merge-gate: cannot read nope.yml: no such file');
    expectOneLineError(runCli(['validate', tmpdir()], repo.dir), `merge-gate: ${tmpdir()} is a directory, not a policy file`);
  });

  it('a policy over the size limit on the default branch is an error naming the limit, not "no policy"', () => {
    const repo = repoWith(`# ${'x'.repeat(70_000)}\n${POLICY}`);
    expectOneLineError(runCli(['check', ...NOW], repo.dir), /^merge-gate: \.github\/merge-gate\.yml at main: the policy file is \d+ bytes; merge-gate reads policy files of at most 65536 bytes \(64 KiB\)$/);
  });

  it('outside a git repository says "not a git repository", first, whatever else is asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-gate-no-git-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const said = `merge-gate: ${dir} is not a git repository: run merge-gate check inside a clone of the repository (it compares HEAD with --base)`;
    expectOneLineError(runCli(['check', ...NOW], dir), said);
    expectOneLineError(runCli(['check', '--base', 'main', '--policy', 'missing.yml', ...NOW], dir), said);
  });

  it('--base that does not exist is said first', () => {
    expectOneLineError(runCli(['check', '--base', 'nonexistent', '--policy', 'missing.yml', ...NOW], repoWith().dir), 'merge-gate: --base nonexistent: no such branch, tag or commit in this repository (fetch it, or check the name)');
  });

  it('a shallow clone without the merge base says to fetch more history', () => {
    const origin = repoWith();
    origin.git('checkout', '-q', 'main');
    origin.commit('trunk moves', { 'b.txt': 'b\n' });
    origin.commit('and again', { 'c.txt': 'c\n' });
    const dir = mkdtempSync(join(tmpdir(), 'merge-gate-shallow-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('git', ['clone', '-q', '--depth', '1', '--no-single-branch', '--branch', 'topic', `file://${origin.dir}`, join(dir, 'clone')], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir } });
    const run = runCli(['check', ...NOW], join(dir, 'clone'));
    expectOneLineError(run, /^merge-gate: this is a shallow clone and HEAD shares no history with origin\/main in it: fetch more history \(git fetch --unshallow, or git fetch --deepen=N\)$/);
  });
});

describe('a single hunk of 100,000 lines (real git, the CLI)', () => {
  it('is counted exactly, and a flag reference on its 99,999th line is found at that line', () => {
    const repo = makeRepo();
    cleanup.push(repo.remove);
    repo.commit('policy', {
      '.github/merge-gate.yml': 'preset: none\nsize: { max_lines: 99999 }\nflags: { registry: flags.yml }\n',
      'flags.yml': 'flags:\n  new-scheduler: { lifecycle: experimental, default: false }\n',
    });
    repo.git('checkout', '-q', '-b', 'topic');
    const lines = Array.from({ length: 100_000 }, (_, i) => (i === 99_998 ? "  if (isEnabled('unregistered-flag')) run();" : `  const v${i} = ${i};`));
    repo.commit('one hunk', { 'src/big.ts': `${lines.join('\n')}\n` });
    const run = runCli(['check', '--base', 'main', '--now', '2026-11-25T10:00:00Z', '--json'], repo.dir);
    expect(run.code).toBe(1);
    const results = JSON.parse(run.stdout).results as Array<{ rule: string; reason: string; details: Array<{ message: string; path?: string; line?: number }> }>;
    expect(results.find((r) => r.rule === 'size')?.reason).toBe('100000 / 99999 lines');
    expect(results.find((r) => r.rule === 'flags')?.details).toContainEqual({ message: 'flag "unregistered-flag" is not in the registry flags.yml', path: 'src/big.ts', line: 99_999 });
  });
});

describe('small CLI gaps', () => {
  it('--version and check --help', () => {
    expect(runCli(['--version']).stdout.trim()).toMatch(/^merge-gate \d+\.\d+\.\d+$/);
    const help = runCli(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--branch NAME');
  });

  it('validate from a subdirectory finds the repository\'s policy', () => {
    const repo = repoWith();
    mkdirSync(join(repo.dir, 'src', 'deep'), { recursive: true });
    const run = runCli(['validate'], join(repo.dir, 'src', 'deep'));
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('../../.github/merge-gate.yml: valid');
  });

  it('--now with an offset beyond ±18:00 is refused', () => {
    const run = runCli(['check', '--now', '2026-11-25T10:00:00+19:00'], repoWith().dir);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('merge-gate: --now expects an ISO 8601 instant such as 2026-12-24T10:00:00Z (offsets up to ±18:00), got "2026-11-25T10:00:00+19:00"');
  });

  it('--json: errors are JSON with exit 2; figures are numbers', () => {
    const repo = repoWith('preset: none\nbranches: [main]\nsize: { max_lines: 100 }\nreviews: { required: 2 }\n');
    const bad = runCli(['check', '--json', '--base', 'nonexistent'], repo.dir);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({ outcome: 'error', exitCode: 2, error: '--base nonexistent: no such branch, tag or commit in this repository (fetch it, or check the name)' });
    const run = runCli(['check', '--json', '--approvals', '1', ...NOW], repo.dir);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout);
    expect(out.figures).toEqual({ size: { counted: 150, limit: 100, files: 1, fileLimit: null, excluded: 0 }, reviews: { approvals: 1, required: 2 } });
    expect(out.exitCode).toBe(1);
  });

  it('the size details say how many counted files are not shown', () => {
    const repo = makeRepo();
    cleanup.push(repo.remove);
    repo.commit('policy', { '.github/merge-gate.yml': POLICY });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`src/f${i}.ts`, linesOf(20 + i)])));
    const run = runCli(['check', ...NOW], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('  3 more counted files not shown (the 5 largest are listed)');
  });
});
