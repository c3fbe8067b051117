import { DateTime } from 'luxon';
import type { PullRequestFacts } from '../../src/facts/types.js';
import { renderMarkdown, renderTerminal } from '../../src/render.js';
import { evaluate, factNeeds, gatherFacts } from '../../src/rules/index.js';
import { ownersRule, ownersStanding, ownersTeamsToRead } from '../../src/rules/owners.js';
import { OLD_SHA, changed, makeFacts, review } from '../helpers/facts.js';
import { validPolicy as policy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-03-04T12:00:00Z');

const DATABASE = `
preset: none
reviews:
  required: 1
  fresh: true
  owners:
    - name: database
      paths: ["db/**", "**/*.sql"]
      from: ["@octo/dba", carol]
      required: 1
`;
const DBA = { '@octo/dba': { members: ['dana', 'erin', 'author'] } };
const migration = [changed('db/migrate/001.sql', 10, 0), changed('db/migrate/002.sql', 5, 0), changed('app/models/user.sql', 1, 1), changed('README.md', 1, 0)];

const rows = (yaml: string, facts: PullRequestFacts) => ownersRule({ policy: policy(yaml), facts, now: NOW }).map((r) => [r.outcome, r.reason]);

describe('a path group', () => {
  test('applies when a changed file matches, and names the files and who may approve', () => {
    const facts = makeFacts({ files: migration, teams: DBA, reviews: [review('bob', 'APPROVED')] });
    expect(rows(DATABASE, facts)).toEqual([['fail', 'database: 0 / 1 from @octo/dba, carol (db/migrate/001.sql, +2 files)']]);
    const [result] = ownersRule({ policy: policy(DATABASE), facts, now: NOW });
    // Who could approve: team members and users, not the author.
    expect(result.details.map((d) => d.message)).toContain('database: could approve: @carol, @dana, @erin.');
    expect(result.actionRequired).toBe(true);
  });

  test('holds with an approval from a team member, or from a listed user', () => {
    expect(rows(DATABASE, makeFacts({ files: migration, teams: DBA, reviews: [review('Erin', 'APPROVED')] }))).toEqual([['pass', 'database: 1 / 1 from @octo/dba, carol (db/migrate/001.sql, +2 files)']]);
    expect(rows(DATABASE, makeFacts({ files: migration, teams: DBA, reviews: [review('carol', 'APPROVED')] }))[0][0]).toBe('pass');
  });

  test('only approvals that count under reviews count: not stale, not the author, not bots', () => {
    const teams = { '@octo/dba': { members: ['dana', 'author', 'dba-bot[bot]'] } };
    const reviews = [review('dana', 'APPROVED', { commitSha: OLD_SHA }), review('author', 'APPROVED'), review('dba-bot[bot]', 'APPROVED')];
    expect(rows(DATABASE, makeFacts({ files: migration, teams, reviews }))[0]).toEqual(['fail', 'database: 0 / 1 from @octo/dba, carol (db/migrate/001.sql, +2 files)']);
  });

  test('does not apply when no changed file matches: one row says no group applies', () => {
    expect(rows(DATABASE, makeFacts({ files: [changed('src/a.ts', 1, 0)] }))).toEqual([['pass', 'no group applies (database)']]);
  });

  test('every changed file counts, excluded ones too, and a rename counts its old path', () => {
    const yaml = `${DATABASE.replace('preset: none', 'preset: none\nsize:\n  exclude: ["db/**"]')}`;
    expect(rows(yaml, makeFacts({ files: [changed('db/schema.rb', 1, 0)], teams: DBA }))[0][0]).toBe('fail');
    const moved = changed('archive/schema.rb', 0, 0, { status: 'renamed', previousPath: 'db/schema.rb' });
    expect(rows(DATABASE, makeFacts({ files: [moved], teams: DBA }))).toEqual([['fail', 'database: 0 / 1 from @octo/dba, carol (db/schema.rb)']]);
  });

  test.each([
    ['a team that cannot be read', { '@octo/dba': { error: 'not found, or the app may not see it: grant the app "Members: read"' } }, /blocked: team @octo\/dba cannot be read: not found/],
    ['a team that was not read at all', {}, /blocked: membership of team @octo\/dba was not read/],
  ])('%s blocks the group, even with an approval from a listed user: never a pass', (_name, teams, reason) => {
    const [result] = ownersRule({ policy: policy(DATABASE), facts: makeFacts({ files: migration, teams, reviews: [review('carol', 'APPROVED')] }), now: NOW });
    expect(result.outcome).toBe('fail');
    expect(result.reason).toMatch(reason);
    expect(result.actionRequired).toBeUndefined(); // an administrator acts, not a reviewer
  });

  test('required: 2 needs two members', () => {
    const yaml = DATABASE.replace('      required: 1\n', '      required: 2\n');
    const facts = makeFacts({ files: migration, teams: DBA, reviews: [review('dana', 'APPROVED'), review('carol', 'APPROVED')] });
    expect(rows(yaml, facts)).toEqual([['pass', 'database: 2 / 2 from @octo/dba, carol (db/migrate/001.sql, +2 files)']]);
    expect(rows(yaml, makeFacts({ files: migration, teams: DBA, reviews: [review('dana', 'APPROVED')] }))[0][0]).toBe('fail');
  });
});

const CODEOWNERS_POLICY = `
preset: none
reviews:
  required: 1
  owners:
    - name: code owners
      codeowners: true
      required: 1
`;
const MONOREPO = `
*            @octo/leads
/apps/web/   @octo/web
/apps/api/   @octo/api @zoe
/apps/api/generated/
*.go         go@example.com
`;
const teams = { '@octo/leads': { members: ['lee'] }, '@octo/web': { members: ['wendy', 'will'] }, '@octo/api': { members: ['ann'] } };
const codeowners = { path: '.github/CODEOWNERS', text: MONOREPO };

describe('a codeowners group', () => {
  test('each distinct set of owners of the changed files needs its approvals', () => {
    const files = [changed('apps/web/a.ts', 1, 0), changed('apps/web/b.ts', 1, 0), changed('apps/api/c.ts', 1, 0), changed('apps/api/generated/d.ts', 1, 0)];
    const facts = makeFacts({ files, codeowners, teams, reviews: [review('will', 'APPROVED')] });
    expect(rows(CODEOWNERS_POLICY, facts)).toEqual([
      ['pass', 'code owners: 1 / 1 from @octo/web (apps/web/a.ts, +1 file)'],
      ['fail', 'code owners: 0 / 1 from @octo/api, @zoe (apps/api/c.ts)'], // generated/ is un-owned
    ]);
    expect(ownersTeamsToRead(policy(CODEOWNERS_POLICY), facts)).toEqual(['@octo/api', '@octo/web']);
  });

  test('email owners are reported as unsupported and block their set', () => {
    const facts = makeFacts({ files: [changed('cmd/main.go', 1, 0)], codeowners, teams, reviews: [review('lee', 'APPROVED')] });
    const [result] = ownersRule({ policy: policy(CODEOWNERS_POLICY), facts, now: NOW });
    expect(result.outcome).toBe('fail');
    expect(result.reason).toMatch(/^code owners: 0 \/ 1 from go@example\.com \(cmd\/main\.go\); blocked: owner go@example\.com is an email address/);
  });

  test('no CODEOWNERS at the base blocks, naming the three places', () => {
    const facts = makeFacts({ files: [changed('a.ts', 1, 0)], codeowners: null });
    expect(rows(CODEOWNERS_POLICY, facts)).toEqual([['fail', expect.stringMatching(/^code owners: cannot be decided; blocked: no CODEOWNERS file at the base \(\.github\/CODEOWNERS, CODEOWNERS or docs\/CODEOWNERS\)/)]]);
  });

  test('a line GitHub would not honour blocks, naming the file and line', () => {
    const facts = makeFacts({ files: [changed('a.ts', 1, 0)], codeowners: { path: 'CODEOWNERS', text: '* @octo/leads\n!a.ts @x\n' }, teams });
    expect(rows(CODEOWNERS_POLICY, facts)[0][1]).toMatch(/blocked: CODEOWNERS:2: "!a\.ts": GitHub does not support negating/);
  });

  test('changed files no line owns: no group applies', () => {
    const facts = makeFacts({ files: [changed('apps/api/generated/x.ts', 1, 0)], codeowners, teams });
    expect(rows(CODEOWNERS_POLICY, facts)).toEqual([['pass', 'no group applies (code owners)']]);
  });
});

describe('in the verdict', () => {
  const BOTH = `${DATABASE}
    - name: code owners
      codeowners: true
`;
  test('every group that applies must hold, on top of the reviews count; the check names each', () => {
    const facts = makeFacts({ files: [changed('db/x.sql', 1, 0), changed('apps/web/a.ts', 1, 0)], codeowners, teams: { ...teams, ...DBA }, reviews: [review('dana', 'APPROVED')] });
    const verdict = evaluate(policy(BOTH), facts, NOW);
    expect(verdict.results.filter((r) => r.rule !== 'reviews').map((r) => [r.rule, r.outcome])).toEqual([
      ['owners', 'pass'], ['owners', 'fail'], ['owners', 'fail'], ['size', 'skip'], ['freeze', 'skip'], ['flags', 'skip'], ['checks', 'skip'], ['trunk', 'skip'],
    ]);
    expect(verdict.outcome).toBe('fail');
    const { summary } = renderMarkdown(verdict);
    expect(summary).toContain('| owners | ✅ pass | database: 1 / 1 from @octo/dba, carol (db/x.sql) |');
    expect(summary).toContain('| owners | ❌ fail | code owners: 0 / 1 from @octo/leads (db/x.sql) |'); // * owns it too
    expect(summary).toContain('| owners | ❌ fail | code owners: 0 / 1 from @octo/web (apps/web/a.ts) |');
  });

  test('a file name an author shaped is data on the check: escaped', () => {
    const facts = makeFacts({ files: [changed('db/x|[y](z)*.sql', 1, 0)], teams: DBA });
    const { summary, text } = renderMarkdown(evaluate(policy(DATABASE), facts, NOW));
    expect(summary).toContain('(db/x\\|\\[y\\](z)\\*.sql)');
    expect(text).not.toContain('[y](z)');
  });

  test('in the terminal, a file name cannot move the cursor or start a line of its own', () => {
    const facts = makeFacts({ files: [changed('db/\u001b[2Jx\n.sql', 1, 0)], teams: DBA });
    const out = renderTerminal(evaluate(policy(DATABASE), facts, NOW));
    expect(out).not.toContain('\u001b');
    expect(out).toContain('(db/\\u001b[2Jx\\n.sql)');
  });

  test('a policy without owners has no owners row and needs nothing more', () => {
    const plain = policy('preset: none\nreviews:\n  required: 1\n');
    expect(evaluate(plain, makeFacts(), NOW).results.map((r) => r.rule)).not.toContain('owners');
    expect(factNeeds(plain)).not.toHaveProperty('owners');
    expect(factNeeds(plain).files).toBe(false);
  });

  test('needs: the teams from lists name, CODEOWNERS when a group asks for it, and the changed files', () => {
    expect(factNeeds(policy(BOTH))).toMatchObject({ files: true, reviews: true, owners: { teams: ['@octo/dba'], codeowners: true } });
    expect(factNeeds(policy(DATABASE)).owners).toEqual({ teams: ['@octo/dba'], codeowners: false });
  });

  test('ownersStanding tells the GitHub side who to request review from', () => {
    const [db] = ownersStanding(policy(DATABASE), makeFacts({ files: migration, teams: DBA }));
    expect(db).toMatchObject({ group: 'database', teams: ['@octo/dba'], users: ['carol'], approvers: [], holds: false });
  });
});

test('the details of several owners rows come under one heading, on the check and in the terminal', () => {
  const files = [changed('apps/web/a.ts', 1, 0), changed('apps/api/c.ts', 1, 0)];
  const verdict = evaluate(policy(CODEOWNERS_POLICY), makeFacts({ files, codeowners, teams }), NOW);
  expect(verdict.results.filter((r) => r.rule === 'owners')).toHaveLength(2);
  expect(renderMarkdown(verdict).text.match(/^### owners$/gm)).toHaveLength(1);
  expect(renderTerminal(verdict).match(/^owners:$/gm)).toHaveLength(1);
  expect(renderTerminal(verdict)).toContain('  code owners: could approve: @ann, @zoe.');
});

describe('gathering team members', () => {
  /** A source whose load gives `facts` without teams, and which records every teams() call. */
  function source(facts: PullRequestFacts) {
    const calls: string[][] = [];
    return {
      calls,
      load: async () => structuredClone(facts),
      diff: async () => [],
      teams: async (names: string[]) => { calls.push(names); return Object.fromEntries(names.map((n) => [n, { members: ['dana'] }])); },
    };
  }
  const TWO_GROUPS = `${DATABASE}
    - name: web
      paths: ["apps/web/**"]
      from: ["@octo/web"]
    - name: code owners
      codeowners: true
`;
  const codeownersFile = { path: 'CODEOWNERS', text: '/apps/api/ @octo/api\n' };

  test('a pull request that touches no group asks for no team', async () => {
    const s = source(makeFacts({ files: [changed('README.md', 1, 0)], codeowners: codeownersFile }));
    const facts = await gatherFacts(policy(TWO_GROUPS), s);
    expect(s.calls).toEqual([]);
    expect(facts.teams).toBeUndefined();
  });

  test('one call, for the teams of the groups that apply only', async () => {
    const s = source(makeFacts({ files: [changed('db/a.sql', 1, 0), changed('apps/api/x.ts', 1, 0)], codeowners: codeownersFile }));
    const facts = await gatherFacts(policy(TWO_GROUPS), s);
    expect(s.calls).toEqual([['@octo/api', '@octo/dba']]);
    expect(Object.keys(facts.teams!).sort()).toEqual(['@octo/api', '@octo/dba']);
  });

  test('teams the source already read are not asked again', async () => {
    const s = source(makeFacts({ files: [changed('db/a.sql', 1, 0)], codeowners: codeownersFile, teams: DBA }));
    await gatherFacts(policy(TWO_GROUPS), s);
    expect(s.calls).toEqual([]);
  });
});
