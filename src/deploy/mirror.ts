// The trigger's local git mirror of each trunk: `git ls-remote` for the head,
// `git fetch` into a bare mirror, and one directory per revision laid out with
// `git archive` (no .git inside: a revision's tree, nothing more).
import { execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../dirs.js';
import { promisify } from 'node:util';
import type { Ancestry } from './core.js';

const run = promisify(execFile);
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };

export class Mirror {
  constructor(
    readonly dir: string,
    readonly remote: string,
    readonly branch: string,
  ) {}

  private git(...args: string[]) {
    return run('git', ['--git-dir', this.dir, ...args], { env: GIT_ENV, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  }

  private async init(): Promise<void> {
    if (existsSync(join(this.dir, 'HEAD'))) return;
    makeDirs(this.dir);
    await run('git', ['init', '--quiet', '--bare', this.dir], { env: GIT_ENV });
  }

  /** The trunk head on the remote (`git ls-remote`), or null when the branch does not exist. */
  async remoteHead(): Promise<string | null> {
    const { stdout } = await run('git', ['ls-remote', '--', this.remote, `refs/heads/${this.branch}`], { env: GIT_ENV, timeout: 60_000 });
    const sha = stdout.split('\t')[0]?.trim() ?? '';
    return SHA.test(sha) ? sha : null;
  }

  /** Fetch the branch; returns the head it now points at. */
  async fetch(): Promise<string | null> {
    await this.init();
    await this.git('fetch', '--quiet', '--no-tags', '--', this.remote, `+refs/heads/${this.branch}:refs/heads/${this.branch}`);
    return this.localHead();
  }

  async localHead(): Promise<string | null> {
    try {
      const { stdout } = await this.git('rev-parse', '--verify', '--quiet', `refs/heads/${this.branch}^{commit}`);
      return stdout.trim() || null;
    } catch {
      return null;
    }
  }

  /** Is `sha` a commit the mirror has? (`sha` must already be a full hex SHA.) */
  async has(sha: string): Promise<boolean> {
    if (!SHA.test(sha)) return false;
    try {
      await this.git('cat-file', '-e', `${sha}^{commit}`);
      return true;
    } catch {
      return false;
    }
  }

  /** How `candidate` relates to `current` in the trunk's history. */
  async relation(current: string, candidate: string): Promise<Ancestry> {
    if (current === candidate) return 'same';
    const isAncestor = async (a: string, b: string) => {
      try {
        await this.git('merge-base', '--is-ancestor', a, b);
        return true;
      } catch {
        return false;
      }
    };
    if (await isAncestor(current, candidate)) return 'newer';
    if (await isAncestor(candidate, current)) return 'older';
    return 'unrelated';
  }

  /** The first line of the commit's message (the author's text: show it escaped). */
  async subject(sha: string): Promise<string | null> {
    if (!SHA.test(sha)) return null;
    const { stdout } = await this.git('log', '-1', '--format=%s', sha, '--');
    return stdout.trim().slice(0, 300) || null;
  }

  /** Lay out the tree of `sha` in `target` (emptied first). */
  async checkout(sha: string, target: string): Promise<void> {
    if (!SHA.test(sha)) throw new Error(`not a revision: ${JSON.stringify(sha)}`);
    rmSync(target, { recursive: true, force: true });
    makeDirs(target);
    await new Promise<void>((resolve, reject) => {
      const archive = spawn('git', ['--git-dir', this.dir, 'archive', '--format=tar', sha], { env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      const tar = spawn('tar', ['-x', '-C', target], { stdio: ['pipe', 'ignore', 'pipe'] });
      let errors = '';
      archive.stderr.on('data', (c: Buffer) => (errors += c.toString()));
      tar.stderr.on('data', (c: Buffer) => (errors += c.toString()));
      archive.stdout.pipe(tar.stdin);
      let pending = 2;
      let failed = false;
      const done = (what: string) => (code: number | null) => {
        if (code !== 0 && !failed) {
          failed = true;
          reject(new Error(`${what} failed for ${sha}: ${errors.trim() || `exit ${code}`}`));
        }
        if (--pending === 0 && !failed) resolve();
      };
      archive.once('close', done('git archive'));
      tar.once('close', done('tar'));
    });
  }
}

export function isSha(text: string): boolean {
  return SHA.test(text);
}
