// The GraphQL documents of the trunk loop. Tests validate them against GitHub's
// published schema (@octokit/graphql-schema), as every other document.
import { DEPLOYMENT } from '../github/queries.js';

const CANDIDATE = /* GraphQL */ `
fragment MergeGateRevertCandidate on PullRequest { number url body viewerDidAuthor labels(first: 20) { nodes { name } } }`;

/**
 * One read decides the revert: the newest deployment to the environment, the
 * pull request that landed its commit (and who merged it), and the pull
 * requests a revert could already be: the newest carrying the exception label,
 * and the newest of all (one opened a moment before the app stopped, before it
 * was labelled).
 */
export const REVERT_FACTS_QUERY = /* GraphQL */ `
query MergeGateRevertFacts($owner: String!, $repo: String!, $environment: String!, $label: String!) {
  repository(owner: $owner, name: $repo) {
    url
    deployments(environments: [$environment], orderBy: { field: CREATED_AT, direction: DESC }, first: 1) {
      nodes {
        ...MergeGateDeployment
        commit {
          associatedPullRequests(first: 5) {
            nodes { id number title url merged mergeCommit { oid } mergedBy { __typename login } author { __typename login } }
          }
        }
      }
    }
    labelled: pullRequests(labels: [$label], orderBy: { field: CREATED_AT, direction: DESC }, first: 30) { nodes { ...MergeGateRevertCandidate } }
    recent: pullRequests(orderBy: { field: CREATED_AT, direction: DESC }, first: 30) { nodes { ...MergeGateRevertCandidate } }
  }
}
${DEPLOYMENT}${CANDIDATE}`;

export const REVERT_MUTATION = /* GraphQL */ `
mutation MergeGateRevertPullRequest($input: RevertPullRequestInput!) {
  revertPullRequest(input: $input) { revertPullRequest { number url } }
}`;

export const TRUNK_QUERIES = { REVERT_FACTS_QUERY, REVERT_MUTATION };
