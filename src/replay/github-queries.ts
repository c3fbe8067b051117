// The GraphQL documents of `replay --github`: a light listing of the merged pull
// requests, then everything a replay needs of up to 50 of them in one request
// (aliases), and follow-ups for the rare connection past 100 items. Fragments
// are the app's (src/github/queries.ts), so a review or a check reads the same.
import { BLOB, CHECK_CONTEXT, DEPLOYMENT, FILE, REVIEW } from '../github/queries.js';

/** Pull requests per facts request: 50 × (4 connections of 100) stays far below GitHub's node limit. */
export const PULLS_PER_REQUEST = 50;

/**
 * Merged pull requests, most recently updated first (GitHub cannot order by
 * merge time; a merge is an update, so none merged after `updatedAt` is unseen),
 * with the repository's default branch and, when asked, the policy on it.
 */
export const MERGED_LIST_QUERY = /* GraphQL */ `
query MergeGateReplayList($owner: String!, $repo: String!, $after: String, $policy: Boolean!, $policyPath: String!) {
  repository(owner: $owner, name: $repo) {
    nameWithOwner
    defaultBranchRef { name target { ... on Commit { policy: file(path: $policyPath) @include(if: $policy) { ...MergeGateBlob } } } }
    pullRequests(states: [MERGED], orderBy: { field: UPDATED_AT, direction: DESC }, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { number baseRefName mergedAt updatedAt }
    }
  }
}
${BLOB}`;

const REPLAY_PULL = /* GraphQL */ `
fragment MergeGateReplayPull on PullRequest {
  number title url mergedAt changedFiles additions deletions
  author { __typename login }
  baseRefName baseRefOid headRefName headRefOid
  mergeCommit {
    oid
    registry: file(path: $registryPath) @include(if: $registry) { ...MergeGateBlob }
    parents(first: 1) {
      nodes {
        oid
        registry: file(path: $registryPath) @include(if: $registry) { ...MergeGateBlob }
        gitattributes: file(path: ".gitattributes") @include(if: $gitattributes) { ...MergeGateBlob }
      }
    }
  }
  timelineItems(itemTypes: [LABELED_EVENT, UNLABELED_EVENT], first: 100) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateLabelEvent } }
  reviews(first: 100) @include(if: $reviews) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateReview } }
  files(first: 100) @include(if: $files) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateFile } }
  commits(last: 1) @include(if: $checks) {
    nodes { commit { oid statusCheckRollup { contexts(first: 100) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateCheckContext } } } } }
  }
}`;

const LABEL_EVENT = /* GraphQL */ `
fragment MergeGateLabelEvent on PullRequestTimelineItems {
  __typename
  ... on LabeledEvent { createdAt label { name } }
  ... on UnlabeledEvent { createdAt label { name } }
}`;

/** The replay's facts of `count` pull requests, by number (variables n0…), in one request. */
export function pullsQuery(count: number): string {
  const numbers = Array.from({ length: count }, (_, i) => `$n${i}: Int!`).join(', ');
  const pulls = Array.from({ length: count }, (_, i) => `    p${i}: pullRequest(number: $n${i}) { ...MergeGateReplayPull }`).join('\n');
  return /* GraphQL */ `
query MergeGateReplayPulls($owner: String!, $repo: String!, ${numbers},
  $reviews: Boolean!, $files: Boolean!, $checks: Boolean!, $registry: Boolean!, $registryPath: String!, $gitattributes: Boolean!) {
  repository(owner: $owner, name: $repo) {
${pulls}
  }
}
${REPLAY_PULL}${LABEL_EVENT}${BLOB}${REVIEW}${FILE}${CHECK_CONTEXT}`;
}

/** Label events past the first 100 of one pull request. */
export const TIMELINE_MORE_QUERY = /* GraphQL */ `
query MergeGateReplayTimeline($owner: String!, $repo: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $number) {
      timelineItems(itemTypes: [LABELED_EVENT, UNLABELED_EVENT], first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateLabelEvent } }
    }
  }
}
${LABEL_EVENT}`;

/** The environment's deployments, newest first, each with its statuses (the `trunk` rule as of an instant). */
export const DEPLOYMENT_HISTORY_QUERY = /* GraphQL */ `
query MergeGateReplayDeployments($owner: String!, $repo: String!, $environment: String!, $after: String) {
  repository(owner: $owner, name: $repo) {
    deployments(environments: [$environment], orderBy: { field: CREATED_AT, direction: DESC }, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...MergeGateDeployment statuses(first: 100) { pageInfo { hasNextPage } nodes { state description createdAt logUrl environmentUrl } } }
    }
  }
}
${DEPLOYMENT}`;
