// The GraphQL document the merge queue sends (validated against GitHub's schema
// in test/github/contract.test.ts, like the gate's).
import { CHECK_CONTEXT } from '../github/queries.js';

/** The check runs and statuses on a commit (a staging head), a page at a time: the same contexts the gate's checks rule reads. */
export const QUEUE_CHECKS_QUERY = /* GraphQL */ `
query MergeGateQueueChecks($owner: String!, $repo: String!, $oid: GitObjectID!, $after: String) {
  repository(owner: $owner, name: $repo) {
    object(oid: $oid) {
      ... on Commit {
        statusCheckRollup {
          contexts(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateCheckContext } }
        }
      }
    }
  }
}
${CHECK_CONTEXT}`;

export const QUEUE_QUERIES = { QUEUE_CHECKS_QUERY };
