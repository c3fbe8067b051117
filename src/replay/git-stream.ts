// Many changes' facts from a few git processes: one `git log` stream serves
// every change's file list (or hunks), one `git cat-file --batch` process every
// blob. A process per change per fact would cap a replay at a few changes a second.
import { spawn } from 'node:child_process';
import { git, GitError } from '../facts/git.js';

/** Each commit's section of a `git log` stream starts with this byte, then its SHA. */
export const MARK = '\x01';

/**
 * Splits `git log -z --format=%x01%H --name-status` (or `--numstat`) output
 * into each commit's part, as `git diff -z` would print it. Walked field by
 * field: a file name may contain the marker byte, but a field that starts an
 * entry (a status letter, a line count) never does.
 */
export function splitZStream(text: string, kind: 'name-status' | 'numstat'): Map<string, string> {
  const out = new Map<string, string>();
  const fields = text.split('\0');
  let sha: string | null = null;
  let start = 0; // index of the current commit's first entry field
  const close = (end: number) => {
    if (sha !== null) out.set(sha, fields.slice(start, end).filter((f) => f !== '').map((f) => `${f}\0`).join(''));
  };
  for (let i = 0; i < fields.length; ) {
    // git puts a newline between a commit's header and its first entry: not part of the entry.
    if (fields[i].startsWith('\n')) fields[i] = fields[i].slice(1);
    const field = fields[i];
    if (field.startsWith(MARK)) {
      close(i);
      sha = field.slice(1);
      start = ++i;
    } else if (field === '') {
      i++;
    } else if (kind === 'name-status') {
      i += /^[RC]/.test(field) ? 3 : 2;
    } else {
      i += field.endsWith('\t') ? 3 : 1; // a rename's numstat: "a\td\t" then the old and the new path
    }
  }
  close(fields.length);
  return out;
}

/** Splits `git log -p --format=%x01%H` output into each commit's unified diff. */
export function splitPatchStream(text: string): Map<string, string> {
  const out = new Map<string, string>();
  // The marker opens a line; diff lines open with +, -, space, \ or a header word, and paths with controls are quoted.
  for (const part of text.split(`\n${MARK}`)) {
    const body = part.startsWith(MARK) ? part.slice(1) : part;
    const eol = body.indexOf('\n');
    const sha = (eol < 0 ? body : body.slice(0, eol)).trim();
    if (/^[0-9a-f]{40,64}$/.test(sha)) out.set(sha, eol < 0 ? '' : body.slice(eol + 1));
  }
  return out;
}

/** `git log` over exactly these commits (newest first), each diffed against its first parent. */
export function logOf(cwd: string, shas: readonly string[], args: string[]): Promise<string> {
  return gitWithInput(cwd, ['log', '--no-walk=unsorted', '--stdin', '--root', '--diff-merges=first-parent', `--format=${'%x01'}%H`, ...args], `${shas.join('\n')}\n`);
}

function gitWithInput(cwd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new GitError(`git ${args[0]} failed: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new GitError(`git ${args.slice(0, 2).join(' ')} failed: ${Buffer.concat(err).toString('utf8').trim() || `exit ${code}`}`));
    });
    child.stdin.end(input);
  });
}

/**
 * Blobs by `rev:path` from one `git cat-file --batch` process. null: nothing
 * at that path; a path that is not a file is a GitError (fail closed, as gitShow).
 */
export class BlobReader {
  private child: ReturnType<typeof spawn> | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Array<{ spec: string; resolve: (v: string | null) => void; reject: (e: Error) => void }> = [];
  private failed: Error | null = null;

  constructor(private readonly cwd: string) {}

  read(rev: string, path: string): Promise<string | null> {
    if (/[\n\r]/.test(path)) return Promise.reject(new GitError(`cannot read a path with a line break: ${JSON.stringify(path)}`));
    if (this.failed) return Promise.reject(this.failed);
    const child = this.start();
    const spec = `${rev}:${path}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ spec, resolve, reject });
      child.stdin!.write(`${spec}\n`);
    });
  }

  close(): void {
    this.child?.stdin?.end();
    this.child = null;
  }

  private start(): ReturnType<typeof spawn> {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, b]) : b;
      this.drain();
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    child.on('error', (e) => fail(new GitError(`git cat-file failed: ${e.message}`)));
    child.on('close', (code) => {
      if (this.waiting.length) fail(new GitError(`git cat-file stopped (exit ${code}) with ${this.waiting.length} reads pending`));
    });
    this.child = child;
    return child;
  }

  private drain(): void {
    for (;;) {
      const next = this.waiting[0];
      if (!next) return;
      const eol = this.buffer.indexOf(10);
      if (eol < 0) return;
      const header = this.buffer.subarray(0, eol).toString('utf8');
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buffer = this.buffer.subarray(eol + 1);
        this.waiting.shift();
        if (header.endsWith(' missing')) next.resolve(null);
        else next.reject(new GitError(`${next.spec}: ambiguous`));
        continue;
      }
      const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
      if (!m) {
        this.waiting.shift();
        next.reject(new GitError(`git cat-file said ${JSON.stringify(header)} for ${next.spec}`));
        this.buffer = this.buffer.subarray(eol + 1);
        continue;
      }
      const size = Number(m[2]);
      if (this.buffer.length < eol + 1 + size + 1) return;
      const content = this.buffer.subarray(eol + 1, eol + 1 + size).toString('utf8');
      this.buffer = this.buffer.subarray(eol + 1 + size + 1);
      this.waiting.shift();
      if (m[1] === 'blob') next.resolve(content);
      else next.reject(new GitError(`${next.spec.slice(next.spec.indexOf(':') + 1)} at ${next.spec.slice(0, 12)} is not a file`));
    }
  }
}
