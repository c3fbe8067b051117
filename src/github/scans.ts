// Requests that reach pull requests through their repository: every open pull
// request of a repository (its policy changed) or of an installation (the
// organisation's policy changed), and the open pull requests whose head is a
// SHA (a check or status event). Each is a job of the gate's queue under a
// key of its own, recorded in the request ledger until done.
import type { Octokit } from '../octokit/types.js';
import type { PullRef } from './pull-ref.js';
import { listOpenPulls } from './open-pulls.js';
import type { HeadsIndex } from './heads.js';
import type { KeyedQueue } from './queue.js';
import type { RequestLedger } from './request-ledger.js';

export interface ScanDeps {
  queue: KeyedQueue;
  requests: RequestLedger;
  heads: HeadsIndex;
  installationOctokit(installationId: number): Promise<Octokit>;
  appId(): Promise<number>;
  checkName: string;
  /** Evaluate a pull request found; leftover: look for a check of ours even without a policy; cause: what asked (its history). */
  evaluate(ref: PullRef, leftover: boolean, cause: string | undefined): void;
}

export class RepositoryScans {
  /** Head SHAs waiting for their repository's lookup, by lookup key, each with what asked for it. */
  private readonly pendingHeads = new Map<string, Map<string, string | undefined>>();

  constructor(private readonly deps: ScanDeps) {}

  /** Re-evaluate every open pull request of a repository (its policy changed). */
  repository(installationId: number, owner: string, repo: string, cause?: string): void {
    const { queue, requests } = this.deps;
    const key = `${installationId}:repo:${owner}/${repo}`.toLowerCase();
    requests.note(key, { kind: 'repository', installationId, owner, repo });
    queue.enqueue(key, async () => {
      const seen = requests.seen(key);
      const pulls = await this.listOpenPulls(installationId, owner, repo);
      for (const p of pulls) this.deps.evaluate({ installationId, owner, repo, number: p.number }, true, cause);
      requests.done(key, seen);
    });
  }

  /** Re-evaluate every repository of an installation (the organisation-wide policy changed). */
  installation(installationId: number): void {
    const { queue, requests } = this.deps;
    const key = `${installationId}:installation`;
    requests.note(key, { kind: 'installation', installationId });
    queue.enqueue(key, async () => {
      const seen = requests.seen(key);
      const octokit = await this.deps.installationOctokit(installationId);
      const repos = await octokit.paginate('GET /installation/repositories', { per_page: 100 });
      for (const r of repos) if (!r.archived) this.repository(installationId, r.owner.login, r.name, 'policy changed');
      requests.done(key, seen);
    });
  }

  /**
   * Re-evaluate the open pull requests whose head is `sha` (a check or status
   * event). Lists the repository's open pull requests and matches their head
   * SHA, which reaches fork pull requests too. Lookups coalesce per repository:
   * one listing serves every SHA that arrived while it was due.
   */
  headSha(installationId: number, owner: string, repo: string, sha: string, cause?: string): void {
    const { queue, requests, heads } = this.deps;
    // Known heads go straight to their pull requests, so a status joins their other events' coalescing.
    const numbers = heads.pullsWithHead(installationId, owner, repo, sha);
    if (numbers.length > 0) {
      for (const number of numbers) this.deps.evaluate({ installationId, owner, repo, number }, false, cause);
      return;
    }
    const key = `${installationId}:heads:${owner}/${repo}`.toLowerCase();
    /** Each SHA is its own pending request: one lookup serves several. */
    const shaKey = (s: string) => `${installationId}:head:${owner}/${repo}@${s}`.toLowerCase();
    requests.note(shaKey(sha), { kind: 'head', installationId, owner, repo, sha });
    // The first lookup of a repository goes at once: it builds the index that spares the following ones.
    const delayMs = heads.knows(installationId, owner, repo) ? undefined : 0;
    this.want(key, [[sha, cause]]);
    queue.enqueue(key, async () => {
      const wanted = this.pendingHeads.get(key);
      this.pendingHeads.delete(key);
      if (!wanted?.size) return;
      try {
        const seen = [...wanted.keys()].map((s) => [shaKey(s), requests.seen(shaKey(s))] as const);
        const pulls = await this.listOpenPulls(installationId, owner, repo);
        for (const p of pulls) if (wanted.has(p.headSha)) this.deps.evaluate({ installationId, owner, repo, number: p.number }, false, wanted.get(p.headSha));
        for (const [k, n] of seen) requests.done(k, n);
      } catch (error) {
        this.want(key, wanted); // put them back for the retry
        throw error;
      }
    }, delayMs);
  }

  private want(key: string, shas: Iterable<readonly [string, string | undefined]>): void {
    const map = this.pendingHeads.get(key) ?? new Map<string, string | undefined>();
    for (const [s, cause] of shas) map.set(s, cause ?? map.get(s));
    this.pendingHeads.set(key, map);
  }

  /** The repository's open pull requests, their heads indexed on the way. */
  private async listOpenPulls(installationId: number, owner: string, repo: string) {
    const octokit = await this.deps.installationOctokit(installationId);
    const pulls = await listOpenPulls(octokit, { owner, repo, appId: await this.deps.appId(), checkName: this.deps.checkName, withCheck: false });
    this.deps.heads.index(installationId, owner, repo, pulls);
    return pulls;
  }
}
