import { afterEach, describe, expect, it } from '@jest/globals';
import { GitError, gitFactsSource, parseChangedFiles } from '../../src/facts/git.js';
import { parseUnifiedDiff } from '../../src/facts/diff.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.remove());

const ALL = { reviews: true, files: true, checks: true, registryPath: 'flags.yml', gitattributes: true };

describe('facts from a local git repository', () => {
  it('fails closed when the registry or .gitattributes is there but cannot be read, and says so (never "absent")', async () => {
    repo = makeRepo();
    repo.commit('base', { 'flags.yml/x': 'a directory where the registry should be\n', '.gitattributes/y': 'likewise\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', { 'src/a.ts': 'a\n' });
    const source = gitFactsSource({ cwd: repo.dir, base: 'main' });
    await expect(source.load({ ...ALL, gitattributes: false })).rejects.toThrow(GitError);
    await expect(source.load({ ...ALL, gitattributes: false })).rejects.toThrow(/^flags\.yml at \S+ is not a file$/);
    await expect(source.load({ ...ALL, registryPath: null })).rejects.toThrow(/\.gitattributes at [0-9a-f]+ is not a file/);
    // Absent is still absent.
    const facts = await source.load({ ...ALL, registryPath: 'nowhere.yml', gitattributes: false });
    expect(facts.registry).toEqual({ base: null, head: null });
  });

  it('lists added, modified, removed, renamed and binary files with their line counts', async () => {
    repo = makeRepo();
    repo.commit('base', {
      'keep.txt': linesOf(10),
      'old-name.txt': linesOf(30, 'stable content'),
      'gone.txt': linesOf(4),
      'flags.yml': 'flags: {}\n',
    });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.git('mv', 'old-name.txt', 'new-name.txt');
    repo.git('rm', '-q', 'gone.txt');
    repo.commit('change', {
      'keep.txt': linesOf(10).replace('line 3\n', 'line three\n'),
      'added.ts': 'a\nb\n',
      'image.bin': Buffer.from([0, 1, 2, 3]).toString('latin1'),
      'flags.yml': 'flags:\n  x-y-z: { default: false, lifecycle: experimental }\n',
      '.gitattributes': 'gen/** linguist-generated\n',
    });
    const facts = await gitFactsSource({ cwd: repo.dir, base: 'main' }).load(ALL);
    const byPath = Object.fromEntries(facts.files!.map((f) => [f.path, f]));
    expect(byPath['keep.txt']).toMatchObject({ status: 'modified', additions: 1, deletions: 1 });
    expect(byPath['added.ts']).toMatchObject({ status: 'added', additions: 2, deletions: 0 });
    expect(byPath['gone.txt']).toMatchObject({ status: 'removed', additions: 0, deletions: 4 });
    expect(byPath['new-name.txt']).toMatchObject({ status: 'renamed', previousPath: 'old-name.txt', additions: 0, deletions: 0 });
    expect(byPath['image.bin']).toMatchObject({ status: 'added', additions: 0, deletions: 0 });
    expect(facts.registry).toEqual({ base: 'flags: {}\n', head: 'flags:\n  x-y-z: { default: false, lifecycle: experimental }\n' });
    // Added by the change itself, so it does not count: .gitattributes is read at the base.
    expect(facts.gitattributes).toBeNull();
    expect(facts.base.ref).toBe('main');
    expect(facts.head.ref).toBe('topic');
    expect(facts.author.login).toBe('alice');
  });

  it('reads the registry at the merge base, so later trunk changes are not the change\'s', async () => {
    repo = makeRepo();
    repo.commit('base', { 'flags.yml': 'flags: {}\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', { 'a.txt': 'a\n' });
    repo.git('checkout', '-q', 'main');
    repo.commit('trunk moves on', { 'flags.yml': 'flags:\n  other: { default: false, lifecycle: experimental }\n' });
    repo.git('checkout', '-q', 'topic');
    const facts = await gitFactsSource({ cwd: repo.dir, base: 'main' }).load(ALL);
    expect(facts.registry?.base).toBe('flags: {}\n');
    expect(facts.files!.map((f) => f.path)).toEqual(['a.txt']);
  });

  it('reads hunks only when asked, with new-file line numbers', async () => {
    repo = makeRepo();
    repo.commit('base', { 'src/a.ts': linesOf(5) });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', { 'src/a.ts': linesOf(5).replace('line 4\n', "line 4\nif (isEnabled('new-thing')) {}\n") });
    const source = gitFactsSource({ cwd: repo.dir, base: 'main' });
    const facts = await source.load({ ...ALL, registryPath: null, gitattributes: false });
    expect(facts.diff).toBeUndefined();
    const diff = await source.diff(facts);
    expect(diff).toHaveLength(1);
    expect(diff[0].lines.filter((l) => l.type === 'add')).toEqual([{ type: 'add', content: "if (isEnabled('new-thing')) {}", newLine: 5 }]);
  });
});

describe('parsing', () => {
  it('joins -z name-status and numstat output, renames included', () => {
    const files = parseChangedFiles('M\0a.txt\0R100\0old.txt\0new.txt\0', '3\t1\ta.txt\0' + '0\t0\t\0old.txt\0new.txt\0');
    expect(files).toEqual([
      { path: 'a.txt', status: 'modified', additions: 3, deletions: 1 },
      { path: 'new.txt', previousPath: 'old.txt', status: 'renamed', additions: 0, deletions: 0 },
    ]);
  });

  it('drops the "No newline at end of file" marker that parse-diff reports as a line', () => {
    const diff = parseUnifiedDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n');
    expect(diff[0].lines).toEqual([
      { type: 'normal', content: 'a', oldLine: 1, newLine: 1 },
      { type: 'del', content: 'b', oldLine: 2 },
      { type: 'add', content: 'c', newLine: 2 },
    ]);
  });
});

describe('file names are data, never syntax', () => {
  // Every kind of name git quotes or splits on, plus a space (which git marks with a trailing tab).
  const NAMES = ['src/tab\tname.js', 'src/new\nline.js', 'src/space name.js', 'src/quote"name.js', "src/apos'name.js", 'src/back\\slash.js', 'src/ünïcode 名前.js', 'src/**bold**|pipe.js'];

  it('keeps every name and its line count in the file list and in the hunks', async () => {
    repo = makeRepo();
    repo.commit('base', { 'src/renamed from.js': linesOf(40, 'stable'), 'README.md': 'x\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.git('mv', 'src/renamed from.js', 'src/renamed\tto "ü".js');
    repo.commit('change', Object.fromEntries(NAMES.map((n, i) => [n, linesOf(i + 1)])));
    const source = gitFactsSource({ cwd: repo.dir, base: 'main' });
    const facts = await source.load({ ...ALL, registryPath: null, gitattributes: false });
    const byPath = new Map(facts.files!.map((f) => [f.path, f]));
    NAMES.forEach((n, i) => expect([n, byPath.get(n)]).toEqual([n, expect.objectContaining({ status: 'added', additions: i + 1, deletions: 0 })]));
    expect(byPath.get('src/renamed\tto "ü".js')).toMatchObject({ status: 'renamed', previousPath: 'src/renamed from.js', additions: 0, deletions: 0 });
    expect(facts.files).toHaveLength(NAMES.length + 1);

    const diff = await source.diff(facts);
    const hunks = new Map(diff.map((d) => [d.path, d]));
    NAMES.forEach((n, i) => expect([n, hunks.get(n)?.lines.length]).toEqual([n, i + 1]));
    expect(hunks.get('src/renamed\tto "ü".js')).toMatchObject({ previousPath: 'src/renamed from.js', lines: [] });
  });

  it('counts a 20,000-line change to a file with a tab in its name against the limit (exit 1)', () => {
    repo = makeRepo();
    repo.commit('policy', { '.github/merge-gate.yml': 'preset: none\nsize: { max_lines: 500 }\n' });
    repo.git('checkout', '-q', '-b', 'topic');
    repo.commit('change', { 'src/big\tfile.js': linesOf(20_000) });
    const run = runCli(['check', '--base', 'main', '--now', '2026-11-25T10:00:00Z'], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^size\s+fail\s+20000 \/ 500 lines$/m);
  });
});

describe('parsing quoted names', () => {
  it('reads git-quoted names in ---/+++ and rename headers, octal UTF-8 included', () => {
    const text = [
      'diff --git "a/src/\\303\\274n.js" "b/src/\\303\\274n.js"',
      '--- "a/src/\\303\\274n.js"',
      '+++ "b/src/\\303\\274n.js"',
      '@@ -1 +1 @@',
      '-old',
      '+new',
      'diff --git a/x y.js b/x y.js',
      '--- a/x y.js\t',
      '+++ b/x y.js\t',
      '@@ -0,0 +1,2 @@',
      '+--- a/not a header',
      '+diff --git a/nor b/this',
      'diff --git "a/t\\tab" "b/q\\"uote"',
      'similarity index 100%',
      'rename from "t\\tab"',
      'rename to "q\\"uote"',
      'diff --git a/bin b/bin',
      'Binary files a/bin and b/bin differ',
      '',
    ].join('\n');
    expect(parseUnifiedDiff(text)).toEqual([
      { path: 'src/ün.js', lines: [{ type: 'del', content: 'old', oldLine: 1 }, { type: 'add', content: 'new', newLine: 1 }] },
      { path: 'x y.js', lines: [{ type: 'add', content: '--- a/not a header', newLine: 1 }, { type: 'add', content: 'diff --git a/nor b/this', newLine: 2 }] },
      { path: 'q"uote', previousPath: 't\tab', lines: [] },
      { path: 'bin', lines: [] },
    ]);
  });
});
