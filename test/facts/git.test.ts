import { afterEach, describe, expect, it } from '@jest/globals';
import { gitFactsSource, parseChangedFiles } from '../../src/facts/git.js';
import { parseUnifiedDiff } from '../../src/facts/diff.js';
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.remove());

const ALL = { reviews: true, files: true, checks: true, registryPath: 'flags.yml', gitattributes: true };

describe('facts from a local git repository', () => {
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
