// Real git repositories in a temp folder, for the CLI and the git facts source.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  dir: string;
  git(...args: string[]): string;
  write(files: Record<string, string>): void;
  /** `at` (ISO 8601): the author and committer date, for history that happened at a given time. */
  commit(message: string, files?: Record<string, string>, at?: string): string;
  /** git with the author and committer date set to `at`. */
  gitAt(at: string, ...args: string[]): string;
  remove(): void;
}

export function makeRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'merge-gate-repo-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'alice', GIT_AUTHOR_EMAIL: 'alice@example.com',
    GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: 'alice@example.com',
    GIT_CONFIG_NOSYSTEM: '1', HOME: dir,
  };
  const repo: TempRepo = {
    dir,
    git: (...args) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }),
    write(files) {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    },
    gitAt: (at, ...args) => execFileSync('git', args, { cwd: dir, env: { ...env, GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at }, encoding: 'utf8' }),
    commit(message, files = {}, at) {
      repo.write(files);
      repo.git('add', '-A');
      const args = ['commit', '-q', '--allow-empty', '-m', message];
      if (at) repo.gitAt(at, ...args);
      else repo.git(...args);
      return repo.git('rev-parse', 'HEAD').trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  repo.git('init', '-q', '-b', 'main');
  return repo;
}

/** `n` numbered lines of text. */
export function linesOf(n: number, prefix = 'line'): string {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join('\n') + '\n';
}
