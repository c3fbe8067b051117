// Properties of reviews.owners over generated policies, CODEOWNERS files, teams, changed files and reviews.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { ChangedFile, PullRequestFacts, Review, TeamMembership } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import { renderMarkdown } from '../../src/render.js';
import { evaluate } from '../../src/rules/index.js';
import { ownersStanding } from '../../src/rules/owners.js';
import { AUTHOR, HEAD_SHA, OLD_SHA, makeFacts } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-03-04T12:00:00Z');
const LOGINS = ['ann', 'bob', 'carol', 'dana', 'erin', AUTHOR, 'ci[bot]'];
const TEAMS = ['@octo/dba', '@octo/web', '@octo/api'];
const DIRS = ['db', 'db/migrate', 'apps/web', 'apps/api', 'docs', 'src', 'vendor'];
const EXTS = ['sql', 'ts', 'md', 'go'];

const login = fc.constantFrom(...LOGINS);
const owner = fc.constantFrom(...TEAMS, 'ann', 'carol', 'erin');
const glob = fc.constantFrom('db/**', '**/*.sql', 'apps/web/**', 'docs/*.md', '**/*.go');
const pattern = fc.constantFrom('*', '*.sql', '/db/', 'apps/', '/apps/web/', 'docs/*', '**/migrate', '/vendor/', '*.go');
const codeownersOwner = fc.constantFrom('@octo/dba', '@octo/web', '@Octo/API', '@ann', '@carol', 'ops@example.com');

const pathGroup = fc.record({ paths: fc.uniqueArray(glob, { minLength: 1, maxLength: 2 }), from: fc.uniqueArray(owner, { minLength: 1, maxLength: 3 }), required: fc.integer({ min: 1, max: 2 }) });
const policyArb = fc
  .record({ groups: fc.array(pathGroup, { maxLength: 3 }), codeowners: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }), fresh: fc.boolean(), required: fc.integer({ min: 0, max: 2 }) })
  .filter(({ groups, codeowners }) => groups.length > 0 || codeowners !== undefined)
  .map(({ groups, codeowners, fresh, required }): Policy =>
    validPolicy(
      JSON.stringify({
        preset: 'none',
        reviews: {
          required,
          fresh,
          owners: [
            ...groups.map((g, i) => ({ name: `group ${i}`, ...g })),
            ...(codeowners !== undefined ? [{ name: 'code owners', codeowners: true, required: codeowners }] : []),
          ],
        },
      }),
    ),
  );

const codeownersText = fc
  .array(fc.tuple(pattern, fc.uniqueArray(codeownersOwner, { maxLength: 3 })), { maxLength: 6 })
  .map((lines) => lines.map(([p, owners]) => [p, ...owners].join(' ')).join('\n'));

const fileArb = fc.record({ dir: fc.constantFrom(...DIRS), name: fc.constantFrom('a', 'b', '001'), ext: fc.constantFrom(...EXTS), from: fc.option(fc.constantFrom(...DIRS), { nil: undefined }) }).map(
  ({ dir, name, ext, from }): ChangedFile =>
    from ? { path: `${dir}/${name}.${ext}`, previousPath: `${from}/${name}.${ext}`, status: 'renamed', additions: 0, deletions: 0 } : { path: `${dir}/${name}.${ext}`, status: 'modified', additions: 1, deletions: 0 },
);
const membership: fc.Arbitrary<TeamMembership> = fc.oneof(
  { weight: 4, arbitrary: fc.uniqueArray(login, { maxLength: 4 }).map((members) => ({ members })) },
  { weight: 1, arbitrary: fc.constant({ error: 'not found' }) },
);
const reviewArb = fc.record({ login, state: fc.constantFrom('APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED' as const), stale: fc.boolean() });

const factsArb = fc
  .record({
    files: fc.uniqueArray(fileArb, { maxLength: 6, selector: (f) => f.path }),
    codeowners: fc.option(codeownersText.map((text) => ({ path: '.github/CODEOWNERS', text })), { nil: null }),
    teams: fc.record(Object.fromEntries(TEAMS.map((t) => [t, membership])) as Record<string, fc.Arbitrary<TeamMembership>>, { requiredKeys: [] }),
    reviews: fc.array(reviewArb, { maxLength: 6 }),
  })
  .map(({ files, codeowners, teams, reviews }): PullRequestFacts =>
    makeFacts({
      files,
      codeowners,
      teams: teams as Record<string, TeamMembership>,
      reviews: reviews.map((r, i): Review => ({
        author: { login: r.login, bot: r.login.endsWith('[bot]') },
        state: r.state as Review['state'],
        commitSha: r.stale ? OLD_SHA : HEAD_SHA,
        submittedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      })),
    }),
  );

const ownersOutcome = (policy: Policy, facts: PullRequestFacts) => {
  const rows = evaluate(policy, facts, NOW).results.filter((r) => r.rule === 'owners');
  return rows.some((r) => r.outcome === 'fail') ? 'fail' : 'pass';
};
const keyOf = (s: { group: string; owners: string[] }) => `${s.group}|${s.owners.join(' ')}`;

describe('reviews.owners properties', () => {
  test('adding an approval never turns pass into fail (owners, and the whole verdict)', () => {
    fc.assert(
      fc.property(policyArb, factsArb, login, (policy, facts, approver) => {
        const more = { ...facts, reviews: [...facts.reviews!, { author: { login: approver, bot: approver.endsWith('[bot]') }, state: 'APPROVED' as const, commitSha: HEAD_SHA, submittedAt: '2026-02-01T00:00:00.000Z' }] };
        if (ownersOutcome(policy, facts) === 'pass') expect(ownersOutcome(policy, more)).toBe('pass');
        if (evaluate(policy, facts, NOW).outcome === 'pass') expect(evaluate(policy, more, NOW).outcome).toBe('pass');
      }),
      { numRuns: 300 },
    );
  });

  test('removing a changed file never adds a group', () => {
    fc.assert(
      fc.property(policyArb, factsArb, fc.nat(), (policy, facts, pick) => {
        fc.pre(facts.files!.length > 0);
        const fewer = { ...facts, files: facts.files!.filter((_, i) => i !== pick % facts.files!.length) };
        const before = new Set(ownersStanding(policy, facts).map(keyOf));
        for (const key of ownersStanding(policy, fewer).map(keyOf)) expect(before).toContain(key);
      }),
      { numRuns: 300 },
    );
  });

  test('every group that applies is named on the check, one row each', () => {
    fc.assert(
      fc.property(policyArb, factsArb, (policy, facts) => {
        const standing = ownersStanding(policy, facts);
        const { summary } = renderMarkdown(evaluate(policy, facts, NOW));
        const rows = summary.split('\n').filter((l) => l.startsWith('| owners |'));
        expect(rows).toHaveLength(Math.max(1, standing.length));
        standing.forEach((s, i) => expect(rows[i]).toContain(`| ${s.group}: `));
      }),
      { numRuns: 300 },
    );
  });
});
