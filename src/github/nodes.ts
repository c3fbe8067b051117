// GitHub's answers as merge-gate's queries (queries.ts) shape them, and their
// translation into the facts the rules read: the reader (facts.ts) pages and
// decides what to ask; this file knows what the answers look like.
import type { Actor, ChangedFile, CheckResult, CheckState, DeploymentFacts, DeploymentState, FileStatus, Review, ReviewState } from '../facts/types.js';
import { DEPLOYMENT_STATES } from '../rules/trunk.js';
import { StaleReadError } from './errors.js';

/** Our check run on the head commit, as the facts query found it. */
export interface ExistingCheckRun {
  id: number;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  externalId: string | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface Connection<T> {
  pageInfo: PageInfo;
  nodes: T[];
}
export interface BlobEntry {
  object: { __typename: string; text?: string | null; isBinary?: boolean | null; isTruncated?: boolean } | null;
}
export type ContextNode =
  | { __typename: 'CheckRun'; name: string; status: string; conclusion: string | null; startedAt: string | null; completedAt: string | null; detailsUrl?: string | null; checkSuite: { app: { databaseId: number | null } | null } }
  | { __typename: 'StatusContext'; context: string; state: string; createdAt: string; targetUrl?: string | null };
export interface ReviewNode {
  author: { __typename: string; login: string } | null;
  state: string;
  submittedAt: string | null;
  commit: { oid: string } | null;
}
export interface FileNode {
  path: string;
  additions: number;
  deletions: number;
  changeType: string;
}
/** Our run as GraphQL names it: the REST id is its `databaseId`. */
export type OwnRunNode = Omit<ExistingCheckRun, 'id'> & { databaseId: number };
export interface HeadCommitNode {
  oid: string;
  registry?: BlobEntry | null;
  statusCheckRollup?: { contexts: Connection<ContextNode> } | null;
  checkSuites: { nodes: Array<{ checkRuns: { nodes: OwnRunNode[] } }> };
}

/**
 * Our newest run over the suites a commit has of our app: each suite answers
 * its own latest run (`checkType: LATEST`), and a commit can have several of
 * our suites; the newest run (highest id) is the one GitHub shows.
 */
export function newestRun<T extends { databaseId: number }>(suites: ReadonlyArray<{ checkRuns: { nodes: readonly T[] } }>): T | undefined {
  let newest: T | undefined;
  for (const suite of suites) for (const run of suite.checkRuns.nodes) if (!newest || run.databaseId > newest.databaseId) newest = run;
  return newest;
}
export interface PullNode {
  number: number;
  title: string;
  url: string;
  state: 'OPEN' | 'CLOSED' | 'MERGED';
  isDraft: boolean;
  changedFiles: number;
  additions: number;
  deletions: number;
  author: { __typename: string; login: string } | null;
  baseRefName: string;
  baseRefOid: string;
  headRefName: string;
  headRefOid: string;
  /** The base branch's tip, for `.gitattributes` (null: the branch is gone). */
  baseRef?: { target: { oid?: string; gitattributes?: BlobEntry | null } | null } | null;
  /** The base branch's tip again, for CODEOWNERS at the places GitHub looks (`reviews.owners`). */
  codeownersBase?: { target: ({ oid?: string } & { [alias: `c${number}`]: BlobEntry | null | undefined }) | null } | null;
  labels: Connection<{ name: string }>;
  reviews?: Connection<ReviewNode>;
  files?: Connection<FileNode>;
  commits: { nodes: Array<{ commit: HeadCommitNode }> };
  /** Landing's extras (`landing: true`). */
  mergeable?: 'MERGEABLE' | 'CONFLICTING' | 'UNKNOWN';
  headRepository?: { nameWithOwner: string } | null;
  potentialMergeCommit?: { oid: string; tree: { oid: string }; parents: { nodes: Array<{ oid: string }> } } | null;
}

/** What landing reads with the facts (`load(needs, { landing: true })`), right before a merge. */
export interface LandingExtras {
  /** null: GitHub is still computing it. */
  mergeable: boolean | null;
  /** `owner/repo` of the head branch (null: the fork is gone). */
  headRepo: string | null;
  defaultBranch: string;
  /** GitHub's test merge of the head and the base, with its tree and parents (null: none computed). */
  testMerge: { sha: string; tree: string; parents: string[] } | null;
}

/** A deployment as `MergeGateDeployment` reads it. */
export interface DeploymentNode {
  databaseId: number | null;
  commitOid: string;
  createdAt: string;
  environment: string | null;
  latestStatus: { state: string; description: string | null; createdAt: string; logUrl: string | null; environmentUrl: string | null } | null;
}

/** The rules' view of a deployment. */
export function deploymentFacts(node: DeploymentNode, environment: string): DeploymentFacts {
  const status = node.latestStatus;
  const lower = status?.state.toLowerCase() as DeploymentState | undefined;
  return {
    environment: node.environment ?? environment,
    sha: node.commitOid,
    createdAt: node.createdAt,
    status: status
      ? {
          // A state GitHub adds later is taken as an error: unknown is not healthy (fail closed).
          state: lower && DEPLOYMENT_STATES.includes(lower) ? lower : 'error',
          description: status.description,
          since: status.createdAt,
          url: status.logUrl ?? status.environmentUrl,
        }
      : null,
  };
}

export const REVIEW_STATES = new Set<ReviewState>(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED', 'COMMENTED']);

export const CHANGE_TYPES: Record<string, FileStatus> = {
  ADDED: 'added',
  DELETED: 'removed',
  RENAMED: 'renamed',
  COPIED: 'copied',
  MODIFIED: 'modified',
  CHANGED: 'modified',
};

/** Reviews with an opinion, oldest first. */
export function reviewFacts(nodes: readonly ReviewNode[]): Review[] {
  return nodes
    .filter((r) => r.submittedAt !== null && REVIEW_STATES.has(r.state as ReviewState))
    .map((r): Review => ({ author: actor(r.author), state: r.state as ReviewState, commitSha: r.commit?.oid ?? null, submittedAt: r.submittedAt! }))
    .sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));
}

export function fileFacts(nodes: readonly FileNode[]): ChangedFile[] {
  return nodes.map((f): ChangedFile => ({ path: f.path, status: CHANGE_TYPES[f.changeType] ?? 'modified', additions: f.additions, deletions: f.deletions }));
}

export function actor(node: { __typename: string; login: string } | null): Actor {
  if (!node) return { login: 'ghost', bot: false };
  return { login: node.login, bot: node.__typename === 'Bot' || node.login.endsWith('[bot]') };
}

export function checkState(node: ContextNode): CheckState {
  if (node.__typename === 'StatusContext') {
    const s = node.state.toLowerCase();
    return s === 'success' || s === 'failure' || s === 'error' ? s : 'pending'; // PENDING, EXPECTED
  }
  if (node.status !== 'COMPLETED') return 'pending';
  const c = (node.conclusion ?? '').toLowerCase();
  const known: CheckState[] = ['success', 'failure', 'neutral', 'skipped', 'cancelled', 'timed_out', 'action_required', 'stale'];
  return (known as string[]).includes(c) ? (c as CheckState) : 'failure'; // startup_failure and anything new: fail closed
}

/**
 * The check runs and statuses on a commit as results the checks rule judges,
 * leaving out our own check runs (the verdict is never an input to itself).
 */
export function contextResults(nodes: readonly ContextNode[], appId: number): CheckResult[] {
  return nodes
    .filter((c) => !(c.__typename === 'CheckRun' && c.checkSuite.app?.databaseId === appId))
    .map((c): CheckResult =>
      c.__typename === 'CheckRun'
        ? { name: c.name, source: 'check_run', state: checkState(c), updatedAt: c.completedAt ?? c.startedAt ?? '' }
        : { name: c.context, source: 'status', state: checkState(c), updatedAt: c.createdAt },
    );
}

const REST_STATUSES: Record<string, FileStatus> = { added: 'added', removed: 'removed', renamed: 'renamed', copied: 'copied' };

export function restChangedFile(f: { filename: string; previous_filename?: string; status: string; additions: number; deletions: number }): ChangedFile {
  const file: ChangedFile = { path: f.filename, status: REST_STATUSES[f.status] ?? 'modified', additions: f.additions, deletions: f.deletions };
  if (f.previous_filename) file.previousPath = f.previous_filename;
  return file;
}

export function take<T>(page: Connection<T> | undefined | null, into: T[]): { pageInfo: PageInfo } {
  if (!page) throw new StaleReadError('a page of the pull request could not be read');
  into.push(...page.nodes);
  return { pageInfo: page.pageInfo };
}
