// The diff parser: examples, a property test against parse-diff (the parser it
// replaced) on generated diffs, and real `git diff` output with the names and
// files git treats specially (quoted paths, renames, binary files, a last line
// without a newline).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import parseDiff from 'parse-diff';
import { parseUnifiedDiff, unquotePath } from '../../src/facts/diff.js';
import type { DiffLine, FileDiff } from '../../src/facts/types.js';
import { makeRepo, type TempRepo } from '../helpers/git-repo.js';

/** What parse-diff gives, in our shape (the adapter the app used before). */
function viaParseDiff(text: string): FileDiff[] {
  return parseDiff(text).map((file) => {
    const path = (file.to && file.to !== '/dev/null' ? file.to : file.from) ?? '';
    const previousPath = file.from && file.from !== '/dev/null' && file.from !== path ? file.from : undefined;
    const lines: DiffLine[] = [];
    for (const chunk of file.chunks) {
      for (const change of chunk.changes) {
        if (change.content.startsWith('\\')) continue;
        const content = change.content.slice(1);
        if (change.type === 'add') lines.push({ type: 'add', content, newLine: change.ln });
        else if (change.type === 'del') lines.push({ type: 'del', content, oldLine: change.ln });
        else lines.push({ type: 'normal', content, oldLine: change.ln1, newLine: change.ln2 });
      }
    }
    return previousPath ? { path, previousPath, lines } : { path, lines };
  });
}

describe('examples', () => {
  test('context, deletions, additions and the no-newline marker', () => {
    expect(parseUnifiedDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n')).toEqual([
      {
        path: 'x',
        lines: [
          { type: 'normal', content: 'a', oldLine: 1, newLine: 1 },
          { type: 'del', content: 'b', oldLine: 2 },
          { type: 'add', content: 'c', newLine: 2 },
        ],
      },
    ]);
  });

  test('a changed line that looks like a header stays a line (the hunk counts decide)', () => {
    const [file] = parseUnifiedDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n---- a/y\n-diff --git a/y b/y\n++++ b/y\n+@@ -1 +1 @@\n');
    expect(file.path).toBe('x');
    expect(file.lines.map((l) => `${l.type}:${l.content}`)).toEqual(['del:--- a/y', 'del:diff --git a/y b/y', 'add:+++ b/y', 'add:@@ -1 +1 @@']);
  });

  test('added, deleted, renamed and binary files; quoted names; names with spaces', () => {
    const text = [
      'diff --git "a/t\\tb" "b/t\\tb"',
      'new file mode 100644',
      '--- /dev/null',
      '+++ "b/t\\tb"',
      '@@ -0,0 +1 @@',
      '+hi',
      'diff --git a/gone b/gone',
      'deleted file mode 100644',
      '--- a/gone',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      'diff --git a/old name b/new name',
      'similarity index 100%',
      'rename from old name',
      'rename to new name',
      'diff --git a/img.png b/img.png',
      'Binary files a/img.png and b/img.png differ',
      'diff --git "a/caf\\303\\251" "b/caf\\303\\251"',
      '--- "a/caf\\303\\251"',
      '+++ "b/caf\\303\\251"',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/with space b/with space',
      '--- a/with space\t',
      '+++ b/with space\t',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      '',
    ].join('\n');
    expect(parseUnifiedDiff(text).map((f) => ({ path: f.path, previousPath: f.previousPath, lines: f.lines.length }))).toEqual([
      { path: 't\tb', previousPath: undefined, lines: 1 },
      { path: 'gone', previousPath: undefined, lines: 1 },
      { path: 'new name', previousPath: 'old name', lines: 0 },
      { path: 'img.png', previousPath: undefined, lines: 0 },
      { path: 'café', previousPath: undefined, lines: 2 },
      { path: 'with space', previousPath: undefined, lines: 2 },
    ]);
    expect(parseUnifiedDiff(text)[1].lines[0]).toEqual({ type: 'del', content: 'bye', oldLine: 1 });
  });

  test('git quoting undone: escapes, octal bytes, quotes and backslashes', () => {
    expect(unquotePath('"a\\\\b\\"c\\nd\\te"')).toBe('a\\b"c\nd\te');
    expect(unquotePath('"\\346\\227\\245\\346\\234\\254"')).toBe('日本');
    expect(unquotePath('plain name')).toBe('plain name');
  });

  test('nothing, or text that is not a diff, is no files', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
    expect(parseUnifiedDiff('hello\nworld\n')).toEqual([]);
  });

  test('a CRLF at the very end is not part of the last line', () => {
    expect(parseUnifiedDiff('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\r')[0].lines.at(-1)).toEqual({ type: 'add', content: 'b', newLine: 1 });
  });
});

/** A generated file diff: hunks of context, deletions and additions with consistent headers. */
const safeName = fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,8}(\/[a-z0-9_][a-z0-9_.-]{0,8}){0,2}$/);
const lineText = fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n') && !s.includes('\r') && !/^\s*$/.test(s));
const hunk = fc.array(fc.tuple(fc.constantFrom(' ', '+', '-'), lineText), { minLength: 1, maxLength: 8 });
const fileDiff = fc.record({
  name: safeName,
  renamedFrom: fc.option(safeName, { nil: undefined }),
  kind: fc.constantFrom('modified', 'added', 'deleted'),
  hunks: fc.array(hunk, { minLength: 1, maxLength: 3 }),
  noNewline: fc.boolean(),
});

function render(files: Array<typeof fileDiff extends fc.Arbitrary<infer T> ? T : never>): string {
  const out: string[] = [];
  for (const f of files) {
    const from = f.kind === 'modified' && f.renamedFrom && f.renamedFrom !== f.name ? f.renamedFrom : f.name;
    out.push(`diff --git a/${from} b/${f.name}`);
    if (from !== f.name) out.push('similarity index 90%', `rename from ${from}`, `rename to ${f.name}`);
    out.push(`--- ${f.kind === 'added' ? '/dev/null' : `a/${from}`}`, `+++ ${f.kind === 'deleted' ? '/dev/null' : `b/${f.name}`}`);
    let oldAt = 1;
    let newAt = 1;
    for (const h of f.hunks) {
      const ops = f.kind === 'added' ? h.map(([, t]) => ['+', t] as const) : f.kind === 'deleted' ? h.map(([, t]) => ['-', t] as const) : h;
      const olds = ops.filter(([op]) => op !== '+').length;
      const news = ops.filter(([op]) => op !== '-').length;
      out.push(`@@ -${olds ? oldAt : oldAt - 1},${olds} +${news ? newAt : newAt - 1},${news} @@`);
      for (const [op, t] of ops) out.push(`${op}${t}`);
      oldAt += olds + 3;
      newAt += news + 3;
    }
    if (f.noNewline) out.push('\\ No newline at end of file');
  }
  return `${out.join('\n')}\n`;
}

test('property: on generated diffs, the same files, paths and lines as parse-diff', () => {
  fc.assert(
    fc.property(fc.array(fileDiff, { maxLength: 4 }), (files) => {
      const text = render(files);
      expect(parseUnifiedDiff(text)).toEqual(viaParseDiff(text));
    }),
    { numRuns: 300 },
  );
});

describe('real git output', () => {
  let repo: TempRepo;
  let diff: FileDiff[];
  const names = {
    tab: 'dir/tab\there.txt',
    newline: 'new\nline.txt',
    quote: 'say "hi".txt',
    backslash: 'back\\slash.txt',
    accent: 'résumé café.txt',
    space: 'with space.txt',
    markdown: '[link](x) *b*.md',
  };
  beforeAll(() => {
    repo = makeRepo();
    const base: Record<string, string> = { 'moved/old.txt': 'one\ntwo\nthree\nfour\nfive\n', 'last.txt': 'a\nb', 'gone.txt': 'x\n' };
    for (const n of Object.values(names)) base[n] = 'first\nsecond\n';
    repo.commit('base', base);
    repo.git('mv', 'moved/old.txt', 'moved/new name.txt');
    repo.git('rm', '-q', 'gone.txt');
    const head: Record<string, string> = { 'moved/new name.txt': 'one\ntwo\nthree\nfour\nfive\nsix\n', 'last.txt': 'a\nc', 'added.txt': 'new\n' };
    for (const n of Object.values(names)) head[n] = 'first\nchanged\n';
    repo.write(head);
    repo.write({ 'image.bin': '\u0000\u0001\u0002binary' });
    repo.commit('head');
    diff = parseUnifiedDiff(repo.git('diff', '--find-renames', '--no-ext-diff', 'HEAD~1', 'HEAD'));
  });
  afterAll(() => repo.remove());

  test('every path as git knows it, quoted or not', () => {
    const listed = repo.git('diff', '--name-only', '-z', '--find-renames', 'HEAD~1', 'HEAD').split('\0').filter(Boolean);
    expect(diff.map((d) => d.path).sort()).toEqual([...listed].sort());
    for (const n of Object.values(names)) expect(diff.find((d) => d.path === n)?.lines.map((l) => `${l.type}:${l.content}`)).toEqual(['normal:first', 'del:second', 'add:changed']);
  });

  test('a rename keeps its previous path; binary files have no lines; the no-newline marker is not a line', () => {
    expect(diff.find((d) => d.path === 'moved/new name.txt')).toMatchObject({ previousPath: 'moved/old.txt' });
    expect(diff.find((d) => d.path === 'image.bin')?.lines).toEqual([]);
    expect(diff.find((d) => d.path === 'last.txt')?.lines.map((l) => `${l.type}:${l.content}`)).toEqual(['normal:a', 'del:b', 'add:c']);
    expect(diff.find((d) => d.path === 'gone.txt')?.lines).toEqual([{ type: 'del', content: 'x', oldLine: 1 }]);
  });

  test('added and deleted line counts agree with git --numstat', () => {
    const numstat = repo.git('diff', '--numstat', '-z', '--find-renames', 'HEAD~1', 'HEAD');
    // -z: "adds\tdels\tpath\0", or for a rename "adds\tdels\t\0from\0to\0"; binary files show "-".
    const counts = new Map<string, [number, number]>();
    const parts = numstat.split('\0');
    for (let i = 0; i < parts.length - 1; i++) {
      const [adds, dels, ...rest] = parts[i].split('\t');
      const path = rest.join('\t'); // a name may hold tabs
      if (adds === '-') continue;
      const name = path === '' ? parts[(i += 2)] : path;
      counts.set(name, [Number(adds), Number(dels)]);
    }
    expect(counts.size).toBeGreaterThan(8);
    for (const [name, [adds, dels]] of counts) {
      const file = diff.find((d) => d.path === name);
      if (!file) throw new Error(`no ${JSON.stringify(name)} in ${JSON.stringify(diff.map((d) => d.path))}`);
      expect([name, file.lines.filter((l) => l.type === 'add').length, file.lines.filter((l) => l.type === 'del').length]).toEqual([name, adds, dels]);
    }
  });
});
