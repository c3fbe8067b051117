// Which pull request, in which installation: the key every queue, journal and lock uses.

export interface PullRef {
  installationId: number;
  owner: string;
  repo: string;
  number: number;
}

/** One spelling per pull request (GitHub's names are case-insensitive). */
export function pullKey(ref: PullRef): string {
  return `${ref.installationId}:${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase();
}
