// `merge-gate check` with reviews.owners, against real git repositories in a temp folder (real child process).
import { afterEach, describe, expect, it } from '@jest/globals';
import { makeRepo, type TempRepo } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';

const NOW = ['--now', '2026-11-25T10:00:00Z', '--base', 'main'];

const DATABASE = `
preset: none
reviews:
  required: 1
  owners:
    - name: database
      paths: ["db/**", "**/*.sql"]
      from: ["@octo/dba", carol]
      required: 1
`;
const CODEOWNERS_POLICY = `
preset: none
reviews:
  required: 1
  owners:
    - name: code owners
      codeowners: true
`;

let repo: TempRepo;
afterEach(() => repo?.remove());

/** main holds the policy (and `base`); the topic branch commits `change`. */
function repoWith(policy: string, base: Record<string, string>, change: Record<string, string>): string {
  repo = makeRepo();
  repo.commit('policy', { '.github/merge-gate.yml': policy, 'README.md': 'hello\n', ...base });
  repo.git('checkout', '-q', '-b', 'topic');
  repo.commit('change', change);
  return repo.dir;
}

const ownersRows = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('owners '));

describe('merge-gate check with path groups', () => {
  const migration = { 'db/migrate/001.sql': 'create table t();\n', 'db/migrate/002.sql': 'drop table u;\n', 'db/seed.rb': 'x\n', 'src/a.ts': 'a\n' };

  it('a team not given is unknown and blocks its group, saying how to give it (exit 1)', () => {
    const run = runCli(['check', ...NOW, '--approvals', '1', '--approved-by', 'carol'], repoWith(DATABASE, {}, migration));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(ownersRows(run.stdout)).toEqual([
      'owners   fail    database: 1 / 1 from @octo/dba, carol (db/migrate/001.sql, +2 files); blocked: team @octo/dba cannot be read: unknown here: git does not know team members; pass --team @octo/dba=login,login',
    ]);
  });

  it('--team gives the members and --approved-by an approval that counts for the group (exit 0)', () => {
    const dir = repoWith(DATABASE, {}, migration);
    const run = runCli(['check', ...NOW, '--team', '@Octo/DBA=dana,erin', '--approved-by', 'erin'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^reviews\s+pass\s+1 \/ 1 approval \(@erin\)$/m); // --approved-by adds to --approvals
    expect(ownersRows(run.stdout)).toEqual(['owners   pass    database: 1 / 1 from @octo/dba, carol (db/migrate/001.sql, +2 files)']);
  });

  it('--json carries each group\'s figures as numbers', () => {
    const run = runCli(['check', ...NOW, '--json', '--team', '@octo/dba=dana', '--approved-by', 'dana'], repoWith(DATABASE, {}, migration));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).figures.owners).toEqual([{ group: 'database', owners: ['@octo/dba', 'carol'], approvals: 1, required: 1, holds: true }]);
  });

  it('anonymous --approvals do not count for a group; the check says who could approve (exit 1)', () => {
    const run = runCli(['check', ...NOW, '--approvals', '3', '--team', '@octo/dba=dana,erin'], repoWith(DATABASE, {}, migration));
    expect(run.code).toBe(1);
    expect(ownersRows(run.stdout)[0]).toMatch(/^owners\s+fail\s+database: 0 \/ 1 from @octo\/dba, carol/);
    expect(run.stdout).toContain('  database: could approve: @carol, @dana, @erin.');
  });

  it('a change that touches no group: no group applies (exit 0)', () => {
    const run = runCli(['check', ...NOW, '--approvals', '1'], repoWith(DATABASE, {}, { 'src/a.ts': 'a\n' }));
    expect(run.code).toBe(0);
    expect(ownersRows(run.stdout)).toEqual(['owners   pass    no group applies (database)']);
  });

  it.each([
    [['--team', '@octo=dana'], /--team expects @org\/team=login,login/],
    [['--team', '@octo/dba'], /--team expects @org\/team=login,login/],
    [['--team', '@octo/dba=@dana'], /--team expects @org\/team=login,login/],
    [['--approved-by', '@carol'], /--approved-by expects a GitHub login \(no "@"\), got "@carol"/],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const run = runCli(['check', ...NOW, ...args], repoWith(DATABASE, {}, { 'src/a.ts': 'a\n' }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('merge-gate check with CODEOWNERS', () => {
  const web = ['--team', '@octo/web=wendy'];

  it('reads CODEOWNERS at the base, never at the head: a change cannot make itself its own owner', () => {
    const dir = repoWith(CODEOWNERS_POLICY, { '.github/CODEOWNERS': '/apps/web/ @octo/web\n' }, { '.github/CODEOWNERS': '* @mallory\n', 'apps/web/a.ts': 'a\n' });
    const byMallory = runCli(['check', ...NOW, ...web, '--approved-by', 'mallory'], dir);
    expect(byMallory.code).toBe(1);
    expect(ownersRows(byMallory.stdout)).toEqual(['owners   fail    code owners: 0 / 1 from @octo/web (apps/web/a.ts)']);
    const byWendy = runCli(['check', ...NOW, ...web, '--approved-by', 'wendy'], dir);
    expect(byWendy.code).toBe(0);
    expect(ownersRows(byWendy.stdout)).toEqual(['owners   pass    code owners: 1 / 1 from @octo/web (apps/web/a.ts)']);
  });

  it.each([
    ['.github/CODEOWNERS', { '.github/CODEOWNERS': '* @octo/web\n', CODEOWNERS: '* @root\n', 'docs/CODEOWNERS': '* @docs\n' }],
    ['CODEOWNERS at the root', { CODEOWNERS: '* @octo/web\n', 'docs/CODEOWNERS': '* @docs\n' }],
    ['docs/CODEOWNERS', { 'docs/CODEOWNERS': '* @octo/web\n' }],
  ])('finds %s first, as GitHub does', (_where, files) => {
    const run = runCli(['check', ...NOW, ...web, '--approved-by', 'wendy'], repoWith(CODEOWNERS_POLICY, files, { 'src/a.ts': 'a\n' }));
    expect(run.stderr).toBe('');
    expect(ownersRows(run.stdout)).toEqual(['owners   pass    code owners: 1 / 1 from @octo/web (src/a.ts)']);
    expect(run.code).toBe(0);
  });

  it('without a CODEOWNERS file at the base the group blocks (exit 1)', () => {
    const run = runCli(['check', ...NOW, '--approvals', '1'], repoWith(CODEOWNERS_POLICY, {}, { CODEOWNERS: '* @me\n', 'src/a.ts': 'a\n' }));
    expect(run.code).toBe(1);
    expect(ownersRows(run.stdout)[0]).toMatch(/code owners: cannot be decided; blocked: no CODEOWNERS file at the base/);
  });

  it('a CODEOWNERS team not given on the command line blocks its owner set', () => {
    const run = runCli(['check', ...NOW, '--approved-by', 'wendy'], repoWith(CODEOWNERS_POLICY, { CODEOWNERS: '*.ts @octo/web\n' }, { 'src/a.ts': 'a\n' }));
    expect(run.code).toBe(1);
    expect(ownersRows(run.stdout)[0]).toMatch(/blocked: team @octo\/web cannot be read: unknown here: .*pass --team @octo\/web=login,login/);
  });
});
