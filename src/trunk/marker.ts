// How a revert pull request merge-gate opened is recognised again: an invisible
// line in its body naming the deployed commit it reverts. Only pull requests
// merge-gate itself authored count (GraphQL `viewerDidAuthor` with the
// installation's token), so a pull request author cannot forge one.

/** The marker for the revert of deployed commit `sha`. */
export function revertMarker(sha: string): string {
  return `<!-- merge-gate:revert ${sha.toLowerCase()} -->`;
}

export interface RevertCandidate {
  number: number;
  url: string;
  body: string;
  viewerDidAuthor: boolean;
}

/** The revert merge-gate opened for `sha` among `candidates`, if any. */
export function findRevert<T extends RevertCandidate>(candidates: readonly T[], sha: string): T | undefined {
  const marker = revertMarker(sha);
  return candidates.find((c) => c.viewerDidAuthor && c.body.includes(marker));
}
