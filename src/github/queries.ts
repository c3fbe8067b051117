// The GraphQL documents the app sends. Tests validate every one of them against
// GitHub's published schema (@octokit/graphql-schema).
import { CODEOWNERS_PATHS } from '../rules/codeowners.js';

/** A file's text at a commit (null object: the file does not exist). */
export const BLOB = /* GraphQL */ `
fragment MergeGateBlob on TreeEntry {
  object { __typename ... on Blob { text isBinary isTruncated } }
}`;

/** A check run or commit status on a commit (the links: what a failed check in the merge queue points at). */
export const CHECK_CONTEXT = /* GraphQL */ `
fragment MergeGateCheckContext on StatusCheckRollupContext {
  __typename
  ... on CheckRun { name status conclusion startedAt completedAt detailsUrl checkSuite { app { databaseId } } }
  ... on StatusContext { context state createdAt targetUrl }
}`;

const HEAD_COMMIT = /* GraphQL */ `
fragment MergeGateHeadCommit on Commit {
  oid
  registry: file(path: $registryPath) @include(if: $registry) { ...MergeGateBlob }
  statusCheckRollup @include(if: $checks) {
    contexts(first: 100) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateCheckContext } }
  }
  checkSuites(first: 5, filterBy: { appId: $appId }) {
    nodes {
      checkRuns(first: 1, filterBy: { checkName: $checkName, checkType: LATEST }) {
        # Newest of each suite; the app picks the highest databaseId over the suites.
        nodes { databaseId status conclusion title summary text externalId }
      }
    }
  }
}`;

export const REVIEW = /* GraphQL */ `
fragment MergeGateReview on PullRequestReview {
  author { __typename login }
  state
  submittedAt
  commit { oid }
}`;

export const FILE = /* GraphQL */ `
fragment MergeGateFile on PullRequestChangedFile { path additions deletions changeType }`;

/** A deployment and its latest status (the `trunk` rule). */
export const DEPLOYMENT = /* GraphQL */ `
fragment MergeGateDeployment on Deployment {
  databaseId commitOid createdAt environment
  latestStatus { state description createdAt logUrl environmentUrl }
}`;

/**
 * What landing reads besides the facts, in the same query, right before the
 * merge call (src/land/recheck.ts): whether GitHub can merge it, where the head
 * lives, and GitHub's test merge of head and base (its tree is what bringing
 * the branch up to date must give).
 */
const LANDING = /* GraphQL */ `
fragment MergeGateLanding on PullRequest {
  mergeable
  headRepository { nameWithOwner }
  potentialMergeCommit { oid tree { oid } parents(first: 2) { nodes { oid } } }
}`;

/** CODEOWNERS at each place GitHub looks, aliased `c0`, `c1`, … in its order (constant paths, never input). */
const CODEOWNERS_FIELDS = CODEOWNERS_PATHS.map((path, i) => `c${i}: file(path: ${JSON.stringify(path)}) { ...MergeGateBlob }`).join(' ');

const HEAD_VARIABLES = '$registry: Boolean!, $registryPath: String!, $checks: Boolean!, $appId: Int!, $checkName: String!';

/**
 * Everything one evaluation needs, in one request: the pull request, labels,
 * reviews, files, the head commit's checks and statuses, the flag registry at
 * the head and `.gitattributes` at the base when asked, the newest deployment
 * to the `trunk` environment and the open reverts merge-gate proposed when
 * asked, and our own check run on the head. `.gitattributes` decides what the size rule leaves out, so it is
 * read from the base branch like the policy: a pull request cannot weaken the
 * rules it is judged by. CODEOWNERS likewise (`reviews.owners`), at the three
 * places GitHub looks, in its order: .github/, the root, docs/.
 */
export const FACTS_QUERY = /* GraphQL */ `
query MergeGateFacts($owner: String!, $repo: String!, $number: Int!, $reviews: Boolean!, $files: Boolean!, $gitattributes: Boolean!, $codeowners: Boolean!,
  $trunk: Boolean!, $environment: String!, $reverts: Boolean!, $revertLabel: String!, $landing: Boolean!, ${HEAD_VARIABLES}) {
  repository(owner: $owner, name: $repo) {
    nameWithOwner
    defaultBranchRef @include(if: $landing) { name }
    deployments(environments: [$environment], orderBy: { field: CREATED_AT, direction: DESC }, first: 1) @include(if: $trunk) {
      nodes { ...MergeGateDeployment }
    }
    reverts: pullRequests(labels: [$revertLabel], states: [OPEN], orderBy: { field: CREATED_AT, direction: DESC }, first: 10) @include(if: $reverts) {
      nodes { number url body viewerDidAuthor }
    }
    pullRequest(number: $number) {
      number title url state isDraft changedFiles additions deletions
      author { __typename login }
      baseRefName baseRefOid headRefName headRefOid
      baseRef @include(if: $gitattributes) {
        target { ... on Commit { oid gitattributes: file(path: ".gitattributes") { ...MergeGateBlob } } }
      }
      codeownersBase: baseRef @include(if: $codeowners) {
        target { ... on Commit { oid ${CODEOWNERS_FIELDS} } }
      }
      labels(first: 100) { pageInfo { hasNextPage endCursor } nodes { name } }
      reviews(first: 100) @include(if: $reviews) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateReview } }
      files(first: 100) @include(if: $files) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateFile } }
      commits(last: 1) { nodes { commit { ...MergeGateHeadCommit } } }
      ...MergeGateLanding @include(if: $landing)
    }
  }
}
${HEAD_COMMIT}${BLOB}${CHECK_CONTEXT}${REVIEW}${FILE}${DEPLOYMENT}${LANDING}`;

/** The head commit by its SHA, when `commits(last: 1)` did not reach it (pull requests of more than 250 commits). */
export const HEAD_COMMIT_QUERY = /* GraphQL */ `
query MergeGateHeadCommit($owner: String!, $repo: String!, $oid: GitObjectID!, ${HEAD_VARIABLES}) {
  repository(owner: $owner, name: $repo) {
    object(oid: $oid) { ... on Commit { ...MergeGateHeadCommit } }
  }
}
${HEAD_COMMIT}${BLOB}${CHECK_CONTEXT}`;

/** Follow-up pages of every connection that has more than 100 items, all in one request per round. */
export const MORE_QUERY = /* GraphQL */ `
query MergeGateMore($owner: String!, $repo: String!, $number: Int!, $oid: GitObjectID!,
  $labels: Boolean!, $labelsAfter: String, $reviews: Boolean!, $reviewsAfter: String,
  $files: Boolean!, $filesAfter: String, $contexts: Boolean!, $contextsAfter: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $number) {
      headRefOid
      labels(first: 100, after: $labelsAfter) @include(if: $labels) { pageInfo { hasNextPage endCursor } nodes { name } }
      reviews(first: 100, after: $reviewsAfter) @include(if: $reviews) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateReview } }
      files(first: 100, after: $filesAfter) @include(if: $files) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateFile } }
    }
    object(oid: $oid) @include(if: $contexts) {
      ... on Commit {
        statusCheckRollup {
          contexts(first: 100, after: $contextsAfter) { pageInfo { hasNextPage endCursor } nodes { ...MergeGateCheckContext } }
        }
      }
    }
  }
}
${CHECK_CONTEXT}${REVIEW}${FILE}`;

/**
 * A repository's open pull requests with their head SHA (and, for the restart
 * scan, our check run on it). Used to map a check or status event to its pull
 * requests (fork pull requests included) and to re-evaluate a repository.
 */
export const OPEN_PULLS_QUERY = /* GraphQL */ `
query MergeGateOpenPulls($owner: String!, $repo: String!, $after: String, $withCheck: Boolean!, $appId: Int!, $checkName: String!) {
  rateLimit { remaining resetAt }
  repository(owner: $owner, name: $repo) {
    pullRequests(states: OPEN, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number
        headRefOid
        commits(last: 1) @include(if: $withCheck) {
          nodes {
            commit {
              oid
              checkSuites(first: 5, filterBy: { appId: $appId }) {
                nodes { checkRuns(first: 1, filterBy: { checkName: $checkName, checkType: LATEST }) { nodes { databaseId status conclusion externalId } } }
              }
            }
          }
        }
      }
    }
  }
}`;

export const ALL_QUERIES = { FACTS_QUERY, HEAD_COMMIT_QUERY, MORE_QUERY, OPEN_PULLS_QUERY };
