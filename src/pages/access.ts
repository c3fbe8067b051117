// Which repositories a signed-in person may read (SPEC §7): asked of GitHub
// with their own token (`GET /repos/{owner}/{repo}` answering 200), a few at a
// time, and remembered per (person, repository) for `accessTtlMs` — never
// longer, so a revoked permission shows within minutes. Bounded: the oldest
// answers are dropped past `maxEntries`. Fails closed: an answer other than
// 200, 403, 404 or 401 makes the repository unreadable this time, unremembered.
import type { Clock } from '../clock.js';
import type { GitHubRequest } from './oauth.js';
import type { RepoAccess, Session } from './types.js';

export interface AccessOptions {
  request: GitHubRequest;
  clock: Clock;
  accessTtlMs: number;
  /** Answers remembered at most (least recently used dropped first). */
  maxEntries?: number;
  /** Requests to GitHub at once for one page view. */
  concurrency?: number;
  /** Told of every request made (the pages' metrics). */
  onRequest?: () => void;
}

type Asked = 'readable' | 'unreadable' | 'signed-out' | 'unknown';

export class GitHubRepoAccess implements RepoAccess {
  /** Requests made to GitHub since start: what a page view costs (the bench's and e2e's figure). */
  requests = 0;
  private readonly remembered = new Map<string, { readable: boolean; at: number }>();
  private readonly maxEntries: number;
  private readonly concurrency: number;

  constructor(private readonly options: AccessOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  async readable(session: Session, repositories: readonly string[]): Promise<Set<string> | 'signed-out'> {
    const readable = new Set<string>();
    const toAsk: string[] = [];
    const now = this.options.clock.now().getTime();
    for (const repository of new Set(repositories)) {
      const key = `${session.userId}\u0000${repository.toLowerCase()}`;
      const hit = this.remembered.get(key);
      if (hit && now - hit.at < this.options.accessTtlMs && now >= hit.at) {
        this.remembered.delete(key); // most recently used last
        this.remembered.set(key, hit);
        if (hit.readable) readable.add(repository);
      } else {
        this.remembered.delete(key);
        toAsk.push(repository);
      }
    }
    let signedOut = false;
    const queue = [...toAsk];
    const worker = async () => {
      for (let repository = queue.shift(); repository !== undefined && !signedOut; repository = queue.shift()) {
        const asked = await this.ask(session.token, repository);
        if (asked === 'signed-out') signedOut = true;
        if (asked === 'readable') readable.add(repository);
        if (asked === 'readable' || asked === 'unreadable') this.remember(`${session.userId}\u0000${repository.toLowerCase()}`, asked === 'readable', now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    return signedOut ? 'signed-out' : readable;
  }

  private async ask(token: string, repository: string): Promise<Asked> {
    const slash = repository.indexOf('/');
    if (slash <= 0 || slash === repository.length - 1) return 'unreadable';
    this.requests++;
    this.options.onRequest?.();
    try {
      await this.options.request('GET /repos/{owner}/{repo}', { owner: repository.slice(0, slash), repo: repository.slice(slash + 1), headers: { authorization: `token ${token}` } });
      return 'readable';
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401) return 'signed-out';
      // A rate limit says nothing about the repository: not readable now, asked again next time.
      if (status === 403 && /rate limit/i.test((err as Error).message ?? '')) return 'unknown';
      return status === 403 || status === 404 ? 'unreadable' : 'unknown';
    }
  }

  private remember(key: string, readable: boolean, at: number): void {
    this.remembered.set(key, { readable, at });
    while (this.remembered.size > this.maxEntries) this.remembered.delete(this.remembered.keys().next().value as string);
  }

  /** Answers remembered now (for tests of the bound). */
  get size(): number {
    return this.remembered.size;
  }
}
