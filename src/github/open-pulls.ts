// The open pull requests of a repository, for the scans that re-evaluate a whole repository or installation.
import type { Octokit } from '../octokit/types.js';
import { newestRun, type Connection } from './nodes.js';
import { OPEN_PULLS_QUERY } from './queries.js';

export interface OpenPull {
  number: number;
  headSha: string;
  /** Our check run on the head, when asked for. */
  check?: { status: string; conclusion: string | null; externalId: string | null } | null;
}

/** Every open pull request of a repository (100 a request), optionally with our check run on each head. */
export async function listOpenPulls(
  octokit: Octokit,
  params: { owner: string; repo: string; appId: number; checkName: string; withCheck: boolean },
  pace?: (rate: { remaining: number; resetAt: string }) => Promise<void>,
): Promise<OpenPull[]> {
  const out: OpenPull[] = [];
  let after: string | null = null;
  for (;;) {
    const data: {
      rateLimit: { remaining: number; resetAt: string } | null;
      repository: {
        pullRequests: Connection<{
          number: number;
          headRefOid: string;
          commits?: { nodes: Array<{ commit: { oid: string; checkSuites: { nodes: Array<{ checkRuns: { nodes: Array<{ databaseId: number; status: string; conclusion: string | null; externalId: string | null }> } }> } } }> };
        }>;
      } | null;
    } = await octokit.graphql(OPEN_PULLS_QUERY, { ...params, after });
    if (!data.repository) return out;
    for (const pr of data.repository.pullRequests.nodes) {
      const item: OpenPull = { number: pr.number, headSha: pr.headRefOid };
      if (params.withCheck) {
        const commit = pr.commits?.nodes[0]?.commit;
        const run = commit && commit.oid === pr.headRefOid ? newestRun(commit.checkSuites.nodes) : undefined;
        item.check = run ? { status: run.status.toLowerCase(), conclusion: run.conclusion?.toLowerCase() ?? null, externalId: run.externalId } : null;
      }
      out.push(item);
    }
    // Paced after every page, the last one too: the next query may be another repository's.
    if (pace && data.rateLimit) await pace(data.rateLimit);
    const { hasNextPage, endCursor } = data.repository.pullRequests.pageInfo;
    if (!hasNextPage) return out;
    after = endCursor;
  }
}
