// Open pull requests' head SHAs (number → SHA), by repository: a check or
// status on a head found here goes straight to its pull request, with no
// lookup. Only repositories listed since the start are indexed (so a
// repository's map is complete); pull-request events and evaluations keep
// them current.
import type { PullRef } from './pull-ref.js';

function repoKey(installationId: number, owner: string, repo: string): string {
  return `${installationId}:${owner}/${repo}`.toLowerCase();
}

export class HeadsIndex {
  private readonly heads = new Map<string, Map<number, string>>();

  /** The pull request's head is `sha` (a pull-request event, or facts just read); kept only for an indexed repository. */
  note(ref: PullRef, sha: string): void {
    this.heads.get(repoKey(ref.installationId, ref.owner, ref.repo))?.set(ref.number, sha);
  }

  /** A closed pull request. */
  drop(ref: PullRef): void {
    this.heads.get(repoKey(ref.installationId, ref.owner, ref.repo))?.delete(ref.number);
  }

  /** Whether the repository was listed since the start. */
  knows(installationId: number, owner: string, repo: string): boolean {
    return this.heads.has(repoKey(installationId, owner, repo));
  }

  /** The open pull requests whose head is `sha` (none for a repository not indexed). */
  pullsWithHead(installationId: number, owner: string, repo: string, sha: string): number[] {
    const known = this.heads.get(repoKey(installationId, owner, repo));
    return known ? [...known].filter(([, head]) => head === sha).map(([number]) => number) : [];
  }

  /** A listing of the repository's open pull requests: their heads (merged in, so heads noted meanwhile stay). */
  index(installationId: number, owner: string, repo: string, pulls: ReadonlyArray<{ number: number; headSha: string }>): void {
    const key = repoKey(installationId, owner, repo);
    const index = this.heads.get(key) ?? new Map<number, string>();
    for (const p of pulls) index.set(p.number, p.headSha);
    this.heads.set(key, index);
  }
}
