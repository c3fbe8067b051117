import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { ChangedFile, PullRequestFacts, Review } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import type { RuleContext } from '../../src/rules/context.js';
import { reviewsRule } from '../../src/rules/reviews.js';
import { countSize, sizeRule } from '../../src/rules/size.js';
import { AUTHOR, HEAD_SHA, OLD_SHA, makeFacts } from '../helpers/facts.js';
import { validPolicy as policy } from '../helpers/policy.js';

const NOW = DateTime.fromISO('2026-03-04T12:00:00Z');
const ctx = (p: Policy, facts: PullRequestFacts): RuleContext => ({ policy: p, facts, now: NOW });

const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/);
const lines = fc.integer({ min: 0, max: 400 });

/** Files that no exclusion below matches. */
const countedFile = fc.record({ name, dir: name, additions: lines, deletions: lines, renamed: fc.boolean() }).map(
  ({ name: n, dir, additions, deletions, renamed }): ChangedFile =>
    renamed && additions === 0 && deletions === 0
      ? { path: `src/${dir}/${n}.ts`, previousPath: `old/${dir}/${n}.ts`, status: 'renamed', additions, deletions }
      : { path: `src/${dir}/${n}.ts`, status: 'modified', additions, deletions },
);

/** Files that `exclude` or .gitattributes (linguist-generated) leave out; never empty changes, so a leak shows. */
const excludedFile = fc
  .record({
    kind: fc.constantFrom('lock', 'vendor', 'generated', 'snapshot'),
    dir: name,
    n: name,
    additions: fc.integer({ min: 1, max: 5000 }),
    deletions: fc.integer({ min: 0, max: 5000 }),
  })
  .map(({ kind, dir, n, additions, deletions }): ChangedFile => {
    const path = {
      lock: `${dir}/package-lock.json`,
      vendor: `vendor/${dir}/${n}.go`,
      generated: `${dir}/${n}.pb.go`,
      snapshot: `.${dir}/__snapshots__/${n}.snap`,
    }[kind];
    return { path, status: 'modified', additions, deletions };
  });

const GITATTRIBUTES = '*.pb.go linguist-generated\n';
const sizePolicy = fc
  .record({ maxLines: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }), maxFiles: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }) })
  .map(({ maxLines, maxFiles }) =>
    policy(
      JSON.stringify({
        preset: 'none',
        size: {
          ...(maxLines ? { max_lines: maxLines } : {}),
          ...(maxFiles ? { max_files: maxFiles } : {}),
          exclude: ['**/package-lock.json', 'vendor/**', '**/*.snap'],
          linguist_generated: true,
          mechanical: { label: 'mechanical', required: 1 },
        },
      }),
    ),
  );

describe('size properties', () => {
  it('(a) adding files that are excluded never changes the counted lines, files or the outcome', () => {
    fc.assert(
      fc.property(
        sizePolicy,
        fc.uniqueArray(countedFile, { selector: (f) => f.path, maxLength: 15 }),
        fc.array(fc.tuple(excludedFile, fc.nat()), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (p, files, extras, labelled) => {
          const withExtras = [...files];
          for (const [file, at] of extras) withExtras.splice(at % (withExtras.length + 1), 0, file);
          const base = makeFacts({ files, labels: labelled ? ['mechanical'] : [], diff: [], gitattributes: GITATTRIBUTES });
          const more = makeFacts({ ...base, files: withExtras });
          const before = countSize(p.size, base);
          const after = countSize(p.size, more);
          expect(after.lines).toBe(before.lines);
          expect(after.files).toBe(before.files);
          expect(after.counted).toEqual(before.counted);
          expect(after.excluded).toHaveLength(before.excluded.length + extras.length);
          expect(sizeRule(ctx(p, more)).outcome).toBe(sizeRule(ctx(p, base)).outcome);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('reviews properties', () => {
  const POOL = ['alice', 'bob', 'carol', AUTHOR, 'renovate[bot]'];
  const STATES: Review['state'][] = ['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED', 'COMMENTED', 'PENDING'];

  const reviewsPolicy = fc
    .record({
      required: fc.integer({ min: 0, max: 4 }),
      scale: fc.array(fc.record({ over_lines: fc.integer({ min: 0, max: 600 }), required: fc.integer({ min: 0, max: 5 }) }), { maxLength: 3 }),
      fresh: fc.boolean(),
      block: fc.boolean(),
      ignoreBots: fc.boolean(),
      mechanical: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    })
    .map((c) =>
      policy(
        JSON.stringify({
          preset: 'none',
          reviews: { required: c.required, scale: c.scale, fresh: c.fresh, block_on_changes_requested: c.block, ignore_bots: c.ignoreBots },
          size: { exclude: ['**/package-lock.json'], linguist_generated: false, ...(c.mechanical === undefined ? {} : { mechanical: { label: 'mechanical', required: c.mechanical } }) },
        }),
      ),
    );

  const review = fc.record({
    who: fc.constantFrom(...POOL),
    state: fc.constantFrom(...STATES),
    fresh: fc.boolean(),
  });

  it('(b) a new reviewer approving the head commit never turns a pass into a fail', () => {
    let passesBefore = 0;
    fc.assert(
      fc.property(
        reviewsPolicy,
        fc.uniqueArray(countedFile, { selector: (f) => f.path, maxLength: 6 }),
        fc.array(review, { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        (p, files, given, labelled, newcomerIsBot) => {
          const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 9, i)).toISOString();
          const reviews: Review[] = given.map((r, i) => ({
            author: { login: r.who, bot: r.who.endsWith('[bot]') },
            state: r.state,
            commitSha: r.fresh ? HEAD_SHA : OLD_SHA,
            submittedAt: at(i),
          }));
          const base = makeFacts({ files, reviews, labels: labelled ? ['mechanical'] : [], diff: [] });
          const newcomer: Review = {
            author: { login: newcomerIsBot ? 'newcomer[bot]' : 'newcomer', bot: newcomerIsBot },
            state: 'APPROVED',
            commitSha: HEAD_SHA,
            submittedAt: at(given.length),
          };
          const more = makeFacts({ ...base, reviews: [...reviews, newcomer] });
          const before = reviewsRule(ctx(p, base));
          const after = reviewsRule(ctx(p, more));
          if (before.outcome === 'pass') {
            passesBefore++;
            expect(after.outcome).toBe('pass');
          }
          // The count of approvals never drops, and a person's approval always counts.
          const approvals = (reason: string) => Number(/(\d+) \/ \d+ approvals?/.exec(reason)![1]);
          const gained = newcomerIsBot && p.reviews!.ignore_bots ? 0 : 1;
          expect(approvals(after.reason)).toBe(approvals(before.reason) + gained);
        },
      ),
      { numRuns: 300 },
    );
    // The property is not vacuous: some cases passed before the extra approval.
    expect(passesBefore).toBeGreaterThan(0);
  });
});
