// What `replay --github` has gathered, kept in the state folder so an
// interrupted replay picks up where it stopped and asks GitHub nothing it has:
// one JSON line per pull request (and one per diff read), appended as they
// arrive. A line cut short by a kill is skipped; lines gathered for other facts
// (another policy's needs) are ignored, and those pull requests read again.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeDirs } from '../dirs.js';

/** `--state`, else $XDG_CACHE_HOME/merge-gate, else ~/.cache/merge-gate. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'merge-gate');
}

/** The cache file of one repository on one GitHub (api host). */
export function replayCacheFile(stateDir: string, apiUrl: string, owner: string, repo: string): string {
  const host = new URL(apiUrl).host.replace(/[^A-Za-z0-9.-]/g, '_');
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(stateDir, 'replay', host, safe(owner), `${safe(repo)}.jsonl`);
}

export class ReplayCache<T extends { number: number }, D> {
  private readonly pulls = new Map<number, T>();
  private readonly diffs = new Map<number, D>();
  /** The file ends in a line cut short: the next append starts a new line. */
  private cut = false;

  /** `signature`: what was gathered (the policy's needs); lines of another signature are not used. */
  constructor(private readonly file: string, private readonly signature: string) {
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    this.cut = text !== '' && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      let entry: { sig?: string; pull?: T; diff?: { number: number; value: D } };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // empty, or cut short by an interruption
      }
      if (entry.sig !== signature) continue;
      if (entry.pull) this.pulls.set(entry.pull.number, entry.pull);
      if (entry.diff) this.diffs.set(entry.diff.number, entry.diff.value);
    }
  }

  get size(): number {
    return this.pulls.size;
  }

  pull(number: number): T | undefined {
    return this.pulls.get(number);
  }

  diff(number: number): D | undefined {
    return this.diffs.get(number);
  }

  addPulls(pulls: readonly T[]): void {
    for (const p of pulls) this.pulls.set(p.number, p);
    this.append(pulls.map((pull) => ({ sig: this.signature, pull })));
  }

  addDiff(number: number, value: D): void {
    this.diffs.set(number, value);
    this.append([{ sig: this.signature, diff: { number, value } }]);
  }

  private append(entries: unknown[]): void {
    if (entries.length === 0) return;
    makeDirs(dirname(this.file));
    // One write per batch: a kill leaves at most its last line unfinished.
    appendFileSync(this.file, (this.cut ? '\n' : '') + entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.cut = false;
  }
}
