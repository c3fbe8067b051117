// The streams that serve every change of a replay at once give each change
// exactly what `git diff` against its first parent gives it, whatever its
// files are called (file names are author data).
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';
import { DIFF_OPTIONS, GitError, parseChangedFiles } from '../../src/facts/git.js';
import { localReplaySource } from '../../src/replay/local.js';
import type { FactNeeds } from '../../src/facts/types.js';

const NEEDS: FactNeeds = { reviews: false, files: true, checks: false, registryPath: 'flags.yml', gitattributes: true };

let repo: TempRepo;
beforeAll(() => {
  repo = makeRepo();
  repo.commit('root', { 'plain.txt': linesOf(3), '.gitattributes': 'gen/** linguist-generated\n' });
  // Names that look like the stream's own markers and separators.
  repo.commit('hostile names', { '\u0001evil': linesOf(2), 'new\nline.txt': 'x\n', '\u00011234\tR100': 'y\n', 'flags.yml': 'flags: {}\n' });
  repo.git('mv', 'plain.txt', '\u0001moved');
  repo.commit('rename and edit', { 'other.txt': linesOf(4), 'flags.yml': 'flags:\n  a-flag: { default: false, lifecycle: experimental }\n' });
  repo.commit('empty');
  repo.git('rm', '-q', 'flags.yml');
  repo.commit('registry becomes a folder', { 'flags.yml/x': 'no\n' });
});
afterAll(() => repo.remove());

test('each change gets the files git diff gives it against its first parent', async () => {
  const source = await localReplaySource({ cwd: repo.dir, rev: 'main', branch: 'main', last: 4, since: null, allHunks: false });
  try {
    const seen: string[] = [];
    for await (const { change, facts } of source.changes()) {
      seen.push(change.title);
      if (change.title === 'registry becomes a folder') continue;
      const loaded = await facts.load({ ...NEEDS, registryPath: null });
      const parent = repo.git('rev-parse', `${change.sha}^`).trim();
      const expected = parseChangedFiles(
        repo.git('diff', '--name-status', '-z', ...DIFF_OPTIONS, parent, change.sha),
        repo.git('diff', '--numstat', '-z', ...DIFF_OPTIONS, parent, change.sha),
      );
      expect(loaded.files).toEqual(expected);
    }
    expect(seen).toEqual(['registry becomes a folder', 'empty', 'rename and edit', 'hostile names']);
  } finally {
    source.close();
  }
});

test('the registry at the parent and at the change; .gitattributes at the parent; a folder is an error, not an absent file', async () => {
  const source = await localReplaySource({ cwd: repo.dir, rev: 'main', branch: 'main', last: null, since: null, allHunks: false });
  try {
    const byTitle = new Map<string, Awaited<ReturnType<typeof load>>>();
    async function load(f: { load(n: FactNeeds): Promise<unknown> }) {
      return f.load(NEEDS).then((v) => v, (e: unknown) => e);
    }
    for await (const { change, facts } of source.changes()) byTitle.set(change.title, await load(facts));
    expect(byTitle.get('hostile names')).toMatchObject({ registry: { base: null, head: 'flags: {}\n' }, gitattributes: 'gen/** linguist-generated\n' });
    expect(byTitle.get('rename and edit')).toMatchObject({ registry: { base: 'flags: {}\n' } });
    expect(byTitle.get('root')).toMatchObject({ registry: { base: null, head: null }, gitattributes: null, base: { sha: '' } });
    const folder = byTitle.get('registry becomes a folder');
    expect(folder).toBeInstanceOf(GitError);
    expect((folder as Error).message).toMatch(/flags\.yml at [0-9a-f]{12} is not a file/);
  } finally {
    source.close();
  }
});
