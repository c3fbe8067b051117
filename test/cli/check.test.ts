// `merge-gate check` against real git repositories made in a temp folder.
import { afterEach, describe, expect, it } from '@jest/globals';
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';

const POLICY = `
preset: none
reviews: { required: 2 }
size: { max_lines: 100, exclude: ["**/package-lock.json"] }
freeze:
  timezone: Europe/London
  windows:
    - name: weekend
      weekly: { from: "fri 16:00", to: "mon 08:00" }
checks: { required: [ci/test] }
`;
const WEDNESDAY = '2026-11-25T10:00:00Z';
const SATURDAY = '2026-11-28T10:00:00Z';

let repo: TempRepo;
afterEach(() => repo?.remove());

/** main holds the policy; the topic branch adds `lines` lines in src/ and a big lockfile. */
function repoWithChange(lines: number, policy = POLICY): TempRepo {
  repo = makeRepo();
  repo.commit('policy', { '.github/merge-gate.yml': policy, 'README.md': 'hello\n' });
  repo.git('checkout', '-q', '-b', 'topic');
  repo.commit('change', { 'src/feature.ts': linesOf(lines), 'package-lock.json': linesOf(5000, 'lock') });
  return repo;
}

const passing = ['--approvals', '2', '--check', 'ci/test=success', '--base', 'main'];

describe('merge-gate check', () => {
  it('passes (exit 0) a small, reviewed, green change outside a freeze', () => {
    const run = runCli(['check', ...passing, '--now', WEDNESDAY], repoWithChange(40).dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^size\s+pass\s+40 \/ 100 lines, 1 file excluded$/m);
    expect(run.stdout).toMatch(/^PASS: /m);
  });

  it('fails (exit 1) a change over the size limit, naming the figure', () => {
    const run = runCli(['check', ...passing, '--now', WEDNESDAY], repoWithChange(150).dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^size\s+fail\s+150 \/ 100 lines, 1 file excluded$/m);
  });

  it('fails (exit 1) without enough approvals', () => {
    const run = runCli(['check', '--base', 'main', '--approvals', '1', '--check', 'ci/test=success', '--now', WEDNESDAY], repoWithChange(10).dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^reviews\s+fail\s+1 \/ 2 approvals/m);
  });

  it('counts in words (1 counted line, 1 approval) and the last line names every failing rule', () => {
    repo = makeRepo();
    repo.commit('policy', { '.github/merge-gate.yml': 'preset: none\nreviews: { required: 1 }\nsize: { max_lines: 1 }\nchecks: { required: [ci/test] }\n', 'README.md': 'hello\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', { 'src/a.ts': linesOf(1), 'src/b.ts': linesOf(1) });
    const run = runCli(['check', '--base', 'main', '--check', 'ci/test=success', '--now', WEDNESDAY], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^reviews\s+fail\s+0 \/ 1 approval$/m);
    expect(run.stdout).toMatch(/^size\s+fail\s+2 \/ 1 line$/m);
    expect(run.stdout).toMatch(/^checks\s+pass\s+1 \/ 1 required check passed$/m);
    expect(run.stdout).toContain('  1 approval needed: reviews.required.\n');
    expect(run.stdout).toContain('  src/a.ts: 1 counted line\n');
    expect(run.stdout).not.toMatch(/\b1 (counted line|approval|required check|file)s\b/);
    expect(run.stdout.trim().split('\n').pop()).toBe('FAIL: reviews: 0 / 1 approval; size: 2 / 1 line');
  });

  it('waits (exit 3) during the weekend freeze, saying when it ends in the zone and in UTC', () => {
    const run = runCli(['check', ...passing, '--now', SATURDAY], repoWithChange(10).dir);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^freeze\s+wait\s+.*weekend.*Mon 08:00 Europe\/London \(08:00 UTC\)/m);
  });

  it('waits (exit 3) while a required check is pending', () => {
    const run = runCli(['check', '--base', 'main', '--approvals', '2', '--check', 'ci/test=pending', '--now', WEDNESDAY], repoWithChange(10).dir);
    expect(run.code).toBe(3);
  });

  it('prints the verdict as JSON with --json', () => {
    const run = runCli(['check', ...passing, '--now', WEDNESDAY, '--json'], repoWithChange(150).dir);
    const verdict = JSON.parse(run.stdout);
    expect(verdict.outcome).toBe('fail');
    expect(verdict.results.map((r: { rule: string; outcome: string }) => [r.rule, r.outcome])).toEqual([
      ['reviews', 'pass'], ['size', 'fail'], ['freeze', 'pass'], ['flags', 'skip'], ['checks', 'pass'], ['trunk', 'skip'],
    ]);
    expect(verdict.nextChangeAt).toBe('2026-11-27T16:00:00.000Z');
  });

  it('reads the policy from the base branch, not from the change', () => {
    repoWithChange(150);
    // The change tries to raise its own limit: it must not count.
    repo.commit('weaken', { '.github/merge-gate.yml': POLICY.replace('max_lines: 100', 'max_lines: 100000') });
    const run = runCli(['check', ...passing, '--now', WEDNESDAY], repo.dir);
    expect(run.code).toBe(1);
  });

  it('fails (exit 1) while someone requests changes, however many approve', () => {
    const run = runCli(['check', ...passing, '--changes-requested', '1', '--now', WEDNESDAY], repoWithChange(10).dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^reviews\s+fail\s+changes requested by @requester-1; 2 \/ 2 approvals$/m);
  });

  it('--label: the freeze exception label with enough approvals lands during a freeze', () => {
    const policy = POLICY.replace('checks:', '  exception: { label: freeze-exception, required: 2 }\nchecks:');
    const dir = repoWithChange(10, policy).dir;
    expect(runCli(['check', ...passing, '--now', SATURDAY], dir).code).toBe(3);
    const run = runCli(['check', ...passing, '--label', 'freeze-exception', '--now', SATURDAY], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^freeze\s+pass\s+.*freeze-exception/m);
  });

  it('--deployment: a failed newest deployment holds (exit 3); the trunk exception lets a fix through; a bad state is a usage error', () => {
    const policy = `${POLICY}trunk:\n  environment: production\n  exception: { label: fix-forward, required: 2 }\n`;
    const dir = repoWithChange(10, policy).dir;
    expect(runCli(['check', ...passing, '--now', WEDNESDAY], dir).code).toBe(0);
    expect(runCli(['check', ...passing, '--deployment', 'success', '--now', WEDNESDAY], dir).code).toBe(0);
    const held = runCli(['check', ...passing, '--deployment', 'failure', '--now', WEDNESDAY], dir);
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/^trunk\s+wait\s+production unhealthy: [0-9a-f]{7} failure since 2026-11-25 10:00 UTC$/m);
    expect(runCli(['check', ...passing, '--deployment', 'failure', '--label', 'fix-forward', '--now', WEDNESDAY], dir).code).toBe(0);
    const bad = runCli(['check', ...passing, '--deployment', 'broken', '--now', WEDNESDAY], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--deployment expects the latest status of the newest deployment, one of pending, queued, in_progress, waiting, success, failure, error, inactive, got "broken"');
  });

  it('--now without an offset is UTC, whatever the machine\'s zone', () => {
    // Friday 15:30 UTC is outside the freeze (it starts at 16:00 London = 16:00 UTC in November).
    const dir = repoWithChange(10).dir;
    expect(runCli(['check', ...passing, '--now', '2026-11-27T15:30:00'], dir, { TZ: 'Pacific/Kiritimati' }).code).toBe(0);
    expect(runCli(['check', ...passing, '--now', '2026-11-27T16:30:00'], dir, { TZ: 'Pacific/Kiritimati' }).code).toBe(3);
  });

  it('a change cannot mark its own files linguist-generated to escape the size limit', () => {
    repoWithChange(150);
    repo.commit('escape', { '.gitattributes': '* linguist-generated\n' });
    const run = runCli(['check', ...passing, '--now', WEDNESDAY], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^size\s+fail\s+151 \/ 100 lines, 1 file excluded$/m);
  });

  it('exits 2 on a policy error, with line and column', () => {
    const run = runCli(['check', ...passing, '--now', WEDNESDAY], repoWithChange(10, 'size:\n  max_lines: many\n').dir);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('.github/merge-gate.yml:2:14 size.max_lines: expected a positive integer, got "many"');
  });

  it('exits 2 when the base does not exist', () => {
    const run = runCli(['check', '--base', 'nope', '--now', WEDNESDAY], repoWithChange(10).dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope');
  });

  it('finds the base branch by itself', () => {
    const run = runCli(['check', '--approvals', '2', '--check', 'ci/test=success', '--now', WEDNESDAY], repoWithChange(10).dir);
    expect(run.code).toBe(0);
  });

  it('a file name with escape sequences cannot clear the terminal or print a fake PASS', () => {
    repo = makeRepo();
    repo.commit('policy', { '.github/merge-gate.yml': 'preset: none\nsize: { max_lines: 5 }\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    const name = 'src/\u001b[2J\u001b[H\nPASS: all rules pass\u001b[8m.js';
    repo.commit('change', { [name]: linesOf(10) });
    const run = runCli(['check', '--base', 'main', '--now', WEDNESDAY], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u);
    expect(run.stdout).toContain('src/\\u001b[2J\\u001b[H\\nPASS: all rules pass\\u001b[8m.js: 10 counted lines');
    expect(run.stdout.split('\n').filter((l) => /^(PASS|FAIL)\b/.test(l))).toEqual(['FAIL: size: 10 / 5 lines']);
  });
});
