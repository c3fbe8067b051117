import { DateTime } from 'luxon';
import type { FileDiff, PullRequestFacts } from '../../src/facts/types.js';
import type { Policy, SizePolicy } from '../../src/policy/schema.js';
import type { RuleContext } from '../../src/rules/context.js';
import { countSize, mechanicalCheck, needsHunksForSize, sizeRule } from '../../src/rules/size.js';
import { changed, changedFromHunks, hunks, makeFacts } from '../helpers/facts.js';
import { validPolicy as policy } from '../helpers/policy.js';

const ctx = (p: Policy, facts: PullRequestFacts): RuleContext => ({ policy: p, facts, now: DateTime.fromISO('2026-03-04T12:00:00Z') });

const SIZE_YAML = `
preset: none
size:
  max_lines: 500
  exclude: ["**/package-lock.json", "vendor/**", "**/*.snap"]
  linguist_generated: true
  mechanical: { label: mechanical, required: 1 }
`;
const P = policy(SIZE_YAML);
const SIZE = P.size as SizePolicy;
const GITATTRIBUTES = '*.pb.go linguist-generated\ndocs/api/** linguist-generated=true\n';

describe('countSize', () => {
  const files = [
    changed('src/a.ts', 100, 20),
    changed('package-lock.json', 5000, 4000),
    changed('web/package-lock.json', 300, 300),
    changed('vendor/lib/x.go', 800, 0, { status: 'added' }),
    changed('api/v1/api.pb.go', 1200, 1100),
    changed('docs/api/index.html', 50, 50),
    changed('.storybook/__snapshots__/button.snap', 40, 40),
    changed('src/b.ts', 80, 12),
  ];

  it('excludes lockfiles, vendored, snapshot and linguist-generated paths and counts the rest', () => {
    const count = countSize(SIZE, makeFacts({ files, gitattributes: GITATTRIBUTES }));
    expect(count.lines).toBe(212);
    expect(count.files).toBe(2);
    expect(count.counted.map((f) => f.path)).toEqual(['src/a.ts', 'src/b.ts']);
    expect(count.excluded).toEqual([
      'package-lock.json',
      'web/package-lock.json',
      'vendor/lib/x.go',
      'api/v1/api.pb.go',
      'docs/api/index.html',
      '.storybook/__snapshots__/button.snap',
    ]);
  });

  it.each([
    ['a lockfile at the root', changed('package-lock.json', 900, 0), true],
    ['a nested lockfile', changed('apps/web/package-lock.json', 900, 0), true],
    ['a linguist-generated path', changed('rpc/svc.pb.go', 900, 0), true],
    ['a file in a dot directory matching **', changed('.jest/__snapshots__/x.snap', 900, 0), true],
    ['an ordinary source file', changed('src/rpc/svc.go', 900, 0), false],
    ['a file that only looks like a lockfile', changed('src/package-lock.json.ts', 900, 0), false],
  ])('%s', (_name, file, excluded) => {
    const count = countSize(SIZE, makeFacts({ files: [changed('src/x.ts', 10, 0), file], gitattributes: GITATTRIBUTES }));
    expect(count.lines).toBe(excluded ? 10 : 910);
    expect(count.excluded.includes(file.path)).toBe(excluded);
  });

  it('counts linguist-generated paths when linguist_generated is false', () => {
    const p = policy('preset: none\nsize: { max_lines: 500, linguist_generated: false }');
    const count = countSize(p.size, makeFacts({ files: [changed('rpc/svc.pb.go', 30, 3)], gitattributes: GITATTRIBUTES }));
    expect(count).toMatchObject({ lines: 33, files: 1, excluded: [] });
  });

  it('excludes nothing without a size policy', () => {
    const count = countSize(undefined, makeFacts({ files, gitattributes: GITATTRIBUTES }));
    expect(count.excluded).toEqual([]);
    expect(count.files).toBe(files.length);
    expect(count.lines).toBe(files.reduce((n, f) => n + f.additions + f.deletions, 0));
  });

  it('fails closed when .gitattributes was not gathered but is needed', () => {
    expect(() => countSize(SIZE, makeFacts({ files, gitattributes: undefined }))).toThrow(/\.gitattributes/);
  });

  it('fails closed when the changed files were not gathered', () => {
    expect(() => countSize(SIZE, makeFacts({ files: undefined }))).toThrow(/changed files/);
  });
});

describe('mechanicalCheck', () => {
  const reindent = hunks('src/indent.ts', [' function f() {', '-  return 1;', '+    return 1;', ' }']);
  const reflow = hunks('src/reflow.ts', [' x', '-call(a, b, c);', '+call(', '+  a,', '+  b,', '+  c', '+);', ' y']);
  const reflowComma = hunks('src/comma.ts', [' x', '-call(a, b, c);', '+call(', '+  a,', '+  b,', '+  c,', '+);', ' y']);
  const joined = hunks('src/joined.ts', [' a', '-return x;', '+returnx;', ' b']);
  const trailing = hunks('src/trailing.ts', ['-let a = 1;   ', '-\t', '+let a = 1;', ' end']);
  const contentEdit = hunks('src/edit.ts', [' a', '-return 1;', '+return 2;', ' b']);
  const moved = hunks('src/moved.ts', ['-first();', ' second();', '+first();']);
  const movedAcrossHunks = hunks('src/far.ts', [' a', '-x();', ' b', '@@ 40 39', ' c', '+x();', ' d']);
  const renamedEdited = hunks('src/new-name.ts', [' a', '-old();', '+new();', ' b']);
  const renamedReindented = hunks('src/new-indent.ts', [' a', '-  x();', '+\tx();', ' b']);
  const added = hunks('src/added.ts', ['+export const x = 1;']);
  const generatedEdit = hunks('api/v1/api.pb.go', ['-a', '+b']);
  // Words in every script: joining them is not whitespace; spacing around punctuation is.
  const joinedCyrillic = hunks('src/ru.ts', [' a', '-log("Привет мир");', '+log("Приветмир");', ' b']);
  const joinedAccent = hunks('src/fr.ts', [' a', '-typeof é', '+typeofé', ' b']);
  const joinedCombining = hunks('src/nfd.ts', [' a', '-const a\u0301 b;', '+const a\u0301b;', ' b']); // á as a + U+0301
  const joinedDigits = hunks('src/digits.ts', [' a', '-x ٣', '+x٣', ' b']);
  const reflowCyrillic = hunks('src/ru-reflow.ts', [' a', '-вызов( привет , мир );', '+вызов(привет, мир);', ' b']);

  type Case = [string, { files: PullRequestFacts['files']; diff?: FileDiff[]; labels?: string[] }, { claimed: boolean; verified: boolean; offenders: string[] }];
  const label = ['mechanical'];
  const cases: Case[] = [
    ['pure rename', { labels: label, files: [changed('src/new.ts', 0, 0, { status: 'renamed', previousPath: 'src/old.ts' })], diff: [] }, { claimed: true, verified: true, offenders: [] }],
    ['rename with edits (not pure)', { labels: label, files: [changedFromHunks(renamedEdited, { status: 'renamed', previousPath: 'src/old-name.ts' })], diff: [renamedEdited] }, { claimed: true, verified: false, offenders: ['src/new-name.ts'] }],
    ['rename with whitespace-only edits', { labels: label, files: [changedFromHunks(renamedReindented, { status: 'renamed', previousPath: 'src/old.ts' })], diff: [renamedReindented] }, { claimed: true, verified: true, offenders: [] }],
    ['whitespace-only change: re-indentation', { labels: label, files: [changedFromHunks(reindent)], diff: [reindent] }, { claimed: true, verified: true, offenders: [] }],
    ['whitespace-only change: a line split over several', { labels: label, files: [changedFromHunks(reflow)], diff: [reflow] }, { claimed: true, verified: true, offenders: [] }],
    ['whitespace-only change: trailing blanks and a blank line removed', { labels: label, files: [changedFromHunks(trailing)], diff: [trailing] }, { claimed: true, verified: true, offenders: [] }],
    ['joining two words is not whitespace-only', { labels: label, files: [changedFromHunks(joined)], diff: [joined] }, { claimed: true, verified: false, offenders: ['src/joined.ts'] }],
    ['joining two Cyrillic words is not whitespace-only', { labels: label, files: [changedFromHunks(joinedCyrillic)], diff: [joinedCyrillic] }, { claimed: true, verified: false, offenders: ['src/ru.ts'] }],
    ['joining a word and an accented letter is not whitespace-only', { labels: label, files: [changedFromHunks(joinedAccent)], diff: [joinedAccent] }, { claimed: true, verified: false, offenders: ['src/fr.ts'] }],
    ['joining a word and a letter with a combining accent is not whitespace-only', { labels: label, files: [changedFromHunks(joinedCombining)], diff: [joinedCombining] }, { claimed: true, verified: false, offenders: ['src/nfd.ts'] }],
    ['joining a word and an Arabic-Indic digit is not whitespace-only', { labels: label, files: [changedFromHunks(joinedDigits)], diff: [joinedDigits] }, { claimed: true, verified: false, offenders: ['src/digits.ts'] }],
    ['spacing around punctuation between Cyrillic words is whitespace-only', { labels: label, files: [changedFromHunks(reflowCyrillic)], diff: [reflowCyrillic] }, { claimed: true, verified: true, offenders: [] }],
    ['a reflow that adds a trailing comma is not whitespace-only', { labels: label, files: [changedFromHunks(reflowComma)], diff: [reflowComma] }, { claimed: true, verified: false, offenders: ['src/comma.ts'] }],
    ['content change', { labels: label, files: [changedFromHunks(contentEdit)], diff: [contentEdit] }, { claimed: true, verified: false, offenders: ['src/edit.ts'] }],
    ['a line moved past another line is not whitespace', { labels: label, files: [changedFromHunks(moved)], diff: [moved] }, { claimed: true, verified: false, offenders: ['src/moved.ts'] }],
    ['a line moved to another hunk is not whitespace', { labels: label, files: [changedFromHunks(movedAcrossHunks)], diff: [movedAcrossHunks] }, { claimed: true, verified: false, offenders: ['src/far.ts'] }],
    ['a new file is not mechanical', { labels: label, files: [changedFromHunks(added, { status: 'added' })], diff: [added] }, { claimed: true, verified: false, offenders: ['src/added.ts'] }],
    ['a binary or mode-only change cannot be verified', { labels: label, files: [changed('img/logo.png', 0, 0)], diff: [{ path: 'img/logo.png', lines: [] }] }, { claimed: true, verified: false, offenders: ['img/logo.png'] }],
    ['a copy is not mechanical', { labels: label, files: [changed('src/copy.ts', 0, 0, { status: 'copied', previousPath: 'src/orig.ts' })], diff: [] }, { claimed: true, verified: false, offenders: ['src/copy.ts'] }],
    ['a file without hunks cannot be verified', { labels: label, files: [changed('src/huge.ts', 3, 3)], diff: [] }, { claimed: true, verified: false, offenders: ['src/huge.ts'] }],
    ['hunks that miss counted lines (truncated patch) cannot be verified', { labels: label, files: [changed('src/indent.ts', 40, 40)], diff: [reindent] }, { claimed: true, verified: false, offenders: ['src/indent.ts'] }],
    ['an excluded lockfile may change freely', { labels: label, files: [changed('package-lock.json', 900, 800), changed('src/new.ts', 0, 0, { status: 'renamed', previousPath: 'src/old.ts' })], diff: [] }, { claimed: true, verified: true, offenders: [] }],
    ['a linguist-generated file may change freely', { labels: label, files: [changedFromHunks(generatedEdit)], diff: [generatedEdit] }, { claimed: true, verified: true, offenders: [] }],
    ['the label is matched case-insensitively, as GitHub does', { labels: ['Mechanical'], files: [changedFromHunks(reindent)], diff: [reindent] }, { claimed: true, verified: true, offenders: [] }],
    ['without the label nothing is claimed or verified', { labels: ['refactor'], files: [changedFromHunks(reindent)], diff: [reindent] }, { claimed: false, verified: false, offenders: [] }],
    ['offenders are listed in file order, mechanical files skipped', {
      labels: label,
      files: [changedFromHunks(contentEdit), changedFromHunks(reindent), changedFromHunks(added, { status: 'added' })],
      diff: [contentEdit, reindent, added],
    }, { claimed: true, verified: false, offenders: ['src/edit.ts', 'src/added.ts'] }],
  ];

  it.each(cases)('%s', (_name, input, expected) => {
    const facts = makeFacts({ labels: input.labels ?? [], files: input.files, diff: input.diff, gitattributes: GITATTRIBUTES });
    expect(mechanicalCheck(SIZE, facts)).toEqual(expected);
  });

  it('claims nothing when size.mechanical is not configured', () => {
    const p = policy('preset: none\nsize: { max_lines: 10 }');
    const facts = makeFacts({ labels: ['mechanical'], files: [changed('src/new.ts', 0, 0, { status: 'renamed' })] });
    expect(mechanicalCheck(p.size, facts).claimed).toBe(false);
    expect(mechanicalCheck(undefined, facts).claimed).toBe(false);
  });

  it('uses the configured label', () => {
    const p = policy('preset: none\nsize: { mechanical: { label: chore/rename } }');
    const files = [changed('src/new.ts', 0, 0, { status: 'renamed' })];
    expect(mechanicalCheck(p.size, makeFacts({ labels: ['mechanical'], files })).claimed).toBe(false);
    expect(mechanicalCheck(p.size, makeFacts({ labels: ['chore/rename'], files }))).toEqual({ claimed: true, verified: true, offenders: [] });
  });

  it('fails closed when hunks are needed but were not gathered', () => {
    const facts = makeFacts({ labels: ['mechanical'], files: [changedFromHunks(reindent)], diff: undefined, gitattributes: null });
    expect(() => mechanicalCheck(SIZE, facts)).toThrow(/diff/);
  });

  it('does not need hunks when every counted change is a pure rename', () => {
    const facts = makeFacts({ labels: ['mechanical'], files: [changed('src/new.ts', 0, 0, { status: 'renamed' })], diff: undefined });
    expect(mechanicalCheck(SIZE, facts).verified).toBe(true);
  });
});

describe('needsHunksForSize', () => {
  it.each([
    ['the mechanical label is on the pull request', SIZE, ['mechanical'], true],
    ['the label differs only in case', SIZE, ['MECHANICAL'], true],
    ['no mechanical label', SIZE, ['feature'], false],
    ['size.mechanical not configured', policy('preset: none\nsize: { max_lines: 5 }').size, ['mechanical'], false],
    ['size not configured', undefined, ['mechanical'], false],
  ])('%s', (_name, size, labels, expected) => {
    expect(needsHunksForSize(size, makeFacts({ labels }))).toBe(expected);
  });
});

describe('sizeRule', () => {
  const lines = (n: number, path = 'src/main.ts') => changed(path, n, 0);
  const lock = (i: number) => changed(`pkg${i}/package-lock.json`, 1000, 1000);
  const rename = (i: number) => changed(`src/moved/f${i}.ts`, 0, 0, { status: 'renamed', previousPath: `src/f${i}.ts` });

  type Case = [string, string, Partial<PullRequestFacts>, { outcome: string; reason: string | RegExp; actionRequired?: boolean }];
  const cases: Case[] = [
    ['within limits, with exclusions', SIZE_YAML, { files: [lines(200), lines(12, 'src/b.ts'), lock(1), lock(2)] }, { outcome: 'pass', reason: '212 / 500 lines, 2 files excluded' }],
    ['within limits, nothing excluded', SIZE_YAML, { files: [lines(212)] }, { outcome: 'pass', reason: '212 / 500 lines' }],
    ['one file excluded is singular', SIZE_YAML, { files: [lines(1), lock(1)] }, { outcome: 'pass', reason: '1 / 500 lines, 1 file excluded' }],
    ['exactly at the limit passes', SIZE_YAML, { files: [lines(500)] }, { outcome: 'pass', reason: '500 / 500 lines' }],
    ['one line over the limit fails', SIZE_YAML, { files: [lines(501)] }, { outcome: 'fail', reason: '501 / 500 lines' }],
    ['over the limit, with exclusions', SIZE_YAML, { files: [lines(600), lines(12, 'src/b.ts'), lock(1), lock(2), lock(3)] }, { outcome: 'fail', reason: '612 / 500 lines, 3 files excluded' }],
    ['excluded lines do not push it over', SIZE_YAML, { files: [lines(400), lock(1)] }, { outcome: 'pass', reason: '400 / 500 lines, 1 file excluded' }],
    ['over max_files', 'preset: none\nsize: { max_lines: 100000, max_files: 100 }', { files: Array.from({ length: 120 }, (_, i) => lines(1, `src/f${i}.ts`)) }, { outcome: 'fail', reason: '120 / 100000 lines, 120 / 100 files' }],
    ['at max_files', 'preset: none\nsize: { max_files: 100 }', { files: Array.from({ length: 100 }, (_, i) => lines(1, `src/f${i}.ts`)) }, { outcome: 'pass', reason: '100 lines, 100 / 100 files' }],
    ['excluded files do not count toward max_files', 'preset: none\nsize: { max_files: 2, exclude: ["**/package-lock.json"] }', { files: [lines(1), lock(1), lock(2), lock(3)] }, { outcome: 'pass', reason: '1 line, 1 / 2 files, 3 files excluded' }],
    ['no maximum at all: pass with the figure', 'preset: none\nsize: { exclude: ["**/package-lock.json"] }', { files: [lines(1234), lock(1)] }, { outcome: 'pass', reason: '1234 lines, 1 file excluded' }],
    ['over the limit, claimed and verified mechanical', SIZE_YAML, { labels: ['mechanical'], files: [...Array.from({ length: 600 }, (_, i) => rename(i)), lock(1)], diff: [] }, { outcome: 'pass', reason: /^0 \/ 500 lines, 1 file excluded; verified mechanical$/ }],
    ['within limits, claimed and verified mechanical', SIZE_YAML, { labels: ['mechanical'], files: [rename(1)], diff: [] }, { outcome: 'pass', reason: /verified mechanical/ }],
    ['within limits, claimed but not mechanical: names the offender', SIZE_YAML, { labels: ['mechanical'], files: [rename(1), lines(30, 'src/logic.ts')], diff: [] }, { outcome: 'fail', reason: 'labelled mechanical but not mechanical: src/logic.ts (30 / 500 lines)', actionRequired: true }],
    ['over the limit, claimed but not mechanical: first five offenders named', SIZE_YAML, { labels: ['mechanical'], files: Array.from({ length: 7 }, (_, i) => lines(100, `src/o${i}.ts`)), diff: [] }, { outcome: 'fail', reason: 'labelled mechanical but not mechanical: src/o0.ts, src/o1.ts, src/o2.ts, src/o3.ts, src/o4.ts and 2 more (700 / 500 lines)', actionRequired: false }],
  ];

  it.each(cases)('%s', (_name, yaml, facts, expected) => {
    const result = sizeRule(ctx(policy(yaml), makeFacts({ gitattributes: GITATTRIBUTES, ...facts })));
    expect(result.rule).toBe('size');
    expect(result.outcome).toBe(expected.outcome);
    if (typeof expected.reason === 'string') expect(result.reason).toBe(expected.reason);
    else expect(result.reason).toMatch(expected.reason);
    if (expected.actionRequired !== undefined) expect(Boolean(result.actionRequired)).toBe(expected.actionRequired);
  });

  it('is skipped when size is not configured', () => {
    const result = sizeRule(ctx(policy('preset: none\nreviews: { required: 1 }'), makeFacts({ files: [lines(5000)] })));
    expect(result).toEqual({ rule: 'size', outcome: 'skip', reason: 'not configured', details: [] });
  });

  it('names every offender in the details, with its path for an annotation', () => {
    const facts = makeFacts({ labels: ['mechanical'], files: [lines(5, 'src/a.ts'), rename(1), lines(5, 'src/b.ts')], diff: [] });
    const result = sizeRule(ctx(P, facts));
    expect(result.details.filter((d) => d.path).map((d) => d.path)).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('points at the biggest counted files when over the limit', () => {
    const facts = makeFacts({ files: [lines(10, 'src/small.ts'), lines(700, 'src/big.ts'), lock(1)] });
    const result = sizeRule(ctx(P, facts));
    expect(result.outcome).toBe('fail');
    expect(result.details.find((d) => d.path)?.path).toBe('src/big.ts');
    expect(result.details.some((d) => d.message.includes('mechanical'))).toBe(true);
  });

  it('evaluates 3,000 files / 100,000 lines, mechanical claim included, correctly (its speed is in bench/)', () => {
    const files = [];
    const diff: FileDiff[] = [];
    for (let i = 0; i < 3000; i++) {
      const dir = `src/module${i % 97}/sub${i % 13}`;
      if (i % 10 === 0) {
        files.push(changed(`${dir}/package-lock.json`, 20, 13));
      } else if (i % 3 === 0) {
        files.push(changed(`${dir}/moved${i}.ts`, 0, 0, { status: 'renamed', previousPath: `${dir}/f${i}.ts` }));
      } else {
        const body: string[] = [];
        for (let j = 0; j < 26; j++) body.push(`-    line(${i}, ${j});`, `+\tline(${i},${j});`);
        const d = hunks(`${dir}/f${i}.ts`, body);
        diff.push(d);
        files.push(changedFromHunks(d));
      }
    }
    const total = files.reduce((n, f) => n + f.additions + f.deletions, 0);
    expect(total).toBeGreaterThanOrEqual(100_000);
    const gitattributes = Array.from({ length: 50 }, (_, i) => `gen${i}/** linguist-generated\n*.gen${i}.ts linguist-generated`).join('\n');
    const facts = makeFacts({ labels: ['mechanical'], files, diff, gitattributes });
    // Latency is measured in bench/, not asserted here.
    const result = sizeRule(ctx(P, facts));
    expect(result.outcome).toBe('pass');
    expect(result.reason).toMatch(/verified mechanical/);
  });
});
