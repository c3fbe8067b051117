// `replay --github`: a repository's merged pull requests, each with its facts as
// they stood when it merged (src/replay/as-of.ts). Requests: one listing page
// per 100 merged pull requests, one facts request per 50 (aliases: reviews,
// label events, files, the head's checks, the registry and .gitattributes at the
// merge commit and its parent), the deployment history once when `trunk` is
// configured, and one diff per pull request only when a rule needs hunks.
// Everything gathered goes to the cache first, so a replay resumes.
import type { Actor, ChangedFile, FactNeeds, FactsSource, FileDiff, PullRequestFacts, Review } from '../facts/types.js';
import { GitHubPullRequestSource } from '../github/facts.js';
import { MORE_QUERY } from '../github/queries.js';
import { actor, fileFacts, reviewFacts, take, type BlobEntry, type Connection, type ContextNode, type FileNode, type PageInfo, type ReviewNode } from '../github/nodes.js';
import type { Octokit } from '../octokit/types.js';
import type { Policy } from '../policy/schema.js';
import { checksAt, deploymentAt, labelsAt, newestDeploymentAt, reviewsAt, type DeploymentHistoryNode, type LabelEvent } from './as-of.js';
import type { ReplayCache } from './cache.js';
import { DEPLOYMENT_HISTORY_QUERY, MERGED_LIST_QUERY, PULLS_PER_REQUEST, pullsQuery, TIMELINE_MORE_QUERY } from './github-queries.js';
import type { ReplayChange, ReplayRule, ReplaySource } from './types.js';

export interface MergedPull {
  number: number;
  mergedAt: string;
}

export interface MergedList {
  repository: string;
  defaultBranch: string;
  /** The policy file on the default branch (null: none), when asked for. */
  policy?: string | null;
  /** Merged into the branch, newest merge first. */
  pulls: MergedPull[];
}

interface ListNode {
  number: number;
  baseRefName: string;
  mergedAt: string | null;
  updatedAt: string;
}

/** A file's text from a GraphQL blob; undefined when GitHub gives no text (binary, or too large for GraphQL). */
export function blobText(entry: BlobEntry | null | undefined): string | null | undefined {
  const object = entry?.object;
  if (!object || object.__typename !== 'Blob') return null;
  return object.isBinary || object.isTruncated || typeof object.text !== 'string' ? undefined : object.text;
}

/**
 * The pull requests merged into `branch` (default: the default branch), newest
 * merge first: the last `last`, or those merged at or after `since`. Pages of
 * 100, most recently updated first, stop once no unseen one can qualify.
 */
export async function listMergedPulls(
  octokit: Octokit,
  options: { owner: string; repo: string; branch: string | null; last: number | null; since: string | null; policyPath: string | null; say: (line: string) => void },
): Promise<MergedList> {
  const { owner, repo } = options;
  const since = options.since === null ? -Infinity : Date.parse(options.since);
  const found: MergedPull[] = [];
  let after: string | null = null;
  let head: Omit<MergedList, 'pulls'> | null = null;
  for (;;) {
    const data: {
      repository: {
        nameWithOwner: string;
        defaultBranchRef: { name: string; target: { policy?: BlobEntry | null } | null } | null;
        pullRequests: { pageInfo: PageInfo; nodes: ListNode[] };
      } | null;
    } = await octokit.graphql(MERGED_LIST_QUERY, { owner, repo, after, policy: options.policyPath !== null, policyPath: options.policyPath ?? '' });
    const r = data.repository;
    if (!r) throw new Error(`${owner}/${repo} was not found (or the token cannot read it)`);
    if (!head) {
      const defaultBranch = r.defaultBranchRef?.name ?? 'main';
      head = { repository: r.nameWithOwner, defaultBranch };
      if (options.policyPath !== null) {
        const text = blobText(r.defaultBranchRef?.target?.policy);
        if (text === undefined) throw new Error(`${options.policyPath} on ${defaultBranch} is not readable as text through GitHub's API`);
        head.policy = text;
      }
    }
    const branch = options.branch ?? head.defaultBranch;
    for (const p of r.pullRequests.nodes) {
      if (p.mergedAt && p.baseRefName === branch && Date.parse(p.mergedAt) >= since) found.push({ number: p.number, mergedAt: p.mergedAt });
    }
    found.sort((a, b) => b.mergedAt.localeCompare(a.mergedAt) || b.number - a.number);
    const oldestUpdate = Date.parse(r.pullRequests.nodes.at(-1)?.updatedAt ?? '');
    // Nothing unseen was updated (so merged) after `oldestUpdate`.
    const enough = options.last !== null && found.length >= options.last && oldestUpdate < Date.parse(found[options.last - 1].mergedAt);
    if (!r.pullRequests.pageInfo.hasNextPage || enough || oldestUpdate < since) break;
    after = r.pullRequests.pageInfo.endCursor;
    options.say(`replay: listing merged pull requests: ${found.length} so far`);
  }
  return { ...head!, pulls: options.last === null ? found : found.slice(0, options.last) };
}

/** One merged pull request as gathered (and cached): everything GitHub held, before choosing what stood at its merge. */
export interface GatheredPull {
  number: number;
  title: string;
  url: string;
  mergedAt: string;
  author: Actor;
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  /** The commit it made on the branch (its head when GitHub names none). */
  mergeSha: string;
  labelEvents: LabelEvent[];
  reviews?: Review[];
  files?: ChangedFile[];
  /** The head commit's check runs and statuses. */
  contexts?: ContextNode[];
  registry?: { base: string | null; head: string | null };
  gitattributes?: string | null;
  /** Rules whose facts GitHub could not give for this one (a head past 250 commits, a registry GraphQL will not show). */
  unknown: ReplayRule[];
}

interface ReplayPullNode {
  number: number;
  title: string;
  url: string;
  mergedAt: string | null;
  author: { __typename: string; login: string } | null;
  baseRefName: string;
  baseRefOid: string;
  headRefName: string;
  headRefOid: string;
  mergeCommit: { oid: string; registry?: BlobEntry | null; parents: { nodes: Array<{ oid: string; registry?: BlobEntry | null; gitattributes?: BlobEntry | null }> } } | null;
  timelineItems: Connection<LabelEventNode>;
  reviews?: Connection<ReviewNode>;
  files?: Connection<FileNode>;
  commits?: { nodes: Array<{ commit: { oid: string; statusCheckRollup: { contexts: Connection<ContextNode> } | null } }> };
}

type LabelEventNode = { __typename: 'LabeledEvent' | 'UnlabeledEvent'; createdAt: string; label: { name: string } } | { __typename: string };

function labelEvents(nodes: readonly LabelEventNode[]): LabelEvent[] {
  return nodes.flatMap((n) => ('label' in n ? [{ name: n.label.name, added: n.__typename === 'LabeledEvent', at: n.createdAt }] : []));
}

/** What identifies the facts a cache line holds: lines gathered for other needs are read again. */
export function needsSignature(needs: FactNeeds): string {
  return JSON.stringify({ v: 1, r: needs.reviews, f: needs.files, c: needs.checks, g: needs.registryPath, a: needs.gitattributes });
}

export interface GitHubReplayOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  list: MergedList;
  policy: Policy;
  needs: FactNeeds;
  cache: ReplayCache<GatheredPull, FileDiff[]>;
  say: (line: string) => void;
}

export function githubReplaySource(options: GitHubReplayOptions): ReplaySource {
  const { octokit, owner, repo, list, needs, cache, say } = options;
  const requiredChecks = new Set(options.policy.checks?.required ?? []);
  const gone = new Set<number>();
  let deployments: Promise<DeploymentHistoryNode[]> | null = null;

  const fetchBatch = async (numbers: number[]): Promise<void> => {
    const variables: Record<string, unknown> = {
      owner,
      repo,
      reviews: needs.reviews,
      files: needs.files,
      checks: needs.checks,
      registry: needs.registryPath !== null,
      registryPath: needs.registryPath ?? '',
      gitattributes: needs.gitattributes,
    };
    numbers.forEach((n, i) => (variables[`n${i}`] = n));
    const data = await octokit.graphql<{ repository: Record<string, ReplayPullNode | null> }>(pullsQuery(numbers.length), variables);
    const gathered: GatheredPull[] = [];
    for (let i = 0; i < numbers.length; i++) {
      const node = data.repository[`p${i}`];
      if (!node || !node.mergedAt) {
        gone.add(numbers[i]);
        continue;
      }
      gathered.push(await gather(node));
    }
    cache.addPulls(gathered);
  };

  /** Translate one pull request, following any connection past its first 100. */
  const gather = async (node: ReplayPullNode): Promise<GatheredPull> => {
    const unknown: ReplayRule[] = [];
    const events = [...node.timelineItems.nodes];
    for (let page = node.timelineItems.pageInfo; page.hasNextPage; ) {
      const more = await octokit.graphql<{ repository: { pullRequest: { timelineItems: Connection<LabelEventNode> } } }>(TIMELINE_MORE_QUERY, { owner, repo, number: node.number, after: page.endCursor });
      ({ pageInfo: page } = take(more.repository.pullRequest.timelineItems, events));
    }
    const head = node.commits?.nodes[0]?.commit;
    const headListed = head?.oid === node.headRefOid;
    if (needs.checks && !headListed) unknown.push('checks'); // past 250 commits, commits(last: 1) is not the head
    const reviews = node.reviews ? [...node.reviews.nodes] : undefined;
    const files = node.files ? [...node.files.nodes] : undefined;
    const contexts = headListed && head.statusCheckRollup ? [...head.statusCheckRollup.contexts.nodes] : [];
    let r = node.reviews?.pageInfo;
    let f = node.files?.pageInfo;
    let c = headListed ? head.statusCheckRollup?.contexts.pageInfo : undefined;
    const more = (p: PageInfo | undefined) => Boolean(p?.hasNextPage);
    while (more(r) || more(f) || more(c)) {
      const page = await octokit.graphql<{
        repository: { pullRequest: { reviews?: Connection<ReviewNode>; files?: Connection<FileNode> }; object?: { statusCheckRollup: { contexts: Connection<ContextNode> } | null } | null };
      }>(MORE_QUERY, {
        owner, repo, number: node.number, oid: node.headRefOid,
        labels: false, labelsAfter: null,
        reviews: more(r), reviewsAfter: r?.endCursor ?? null,
        files: more(f), filesAfter: f?.endCursor ?? null,
        contexts: more(c), contextsAfter: c?.endCursor ?? null,
      });
      if (more(r)) ({ pageInfo: r } = take(page.repository.pullRequest.reviews, reviews!));
      if (more(f)) ({ pageInfo: f } = take(page.repository.pullRequest.files, files!));
      if (more(c)) ({ pageInfo: c } = take(page.repository.object?.statusCheckRollup?.contexts, contexts));
    }
    const parent = node.mergeCommit?.parents.nodes[0];
    const pull: GatheredPull = {
      number: node.number,
      title: node.title,
      url: node.url,
      mergedAt: node.mergedAt!,
      author: actor(node.author),
      base: { ref: node.baseRefName, sha: parent?.oid ?? node.baseRefOid },
      head: { ref: node.headRefName, sha: node.headRefOid },
      mergeSha: node.mergeCommit?.oid ?? node.headRefOid,
      labelEvents: labelEvents(events),
      unknown,
    };
    if (reviews) pull.reviews = reviewFacts(reviews);
    if (files) pull.files = fileFacts(files);
    if (needs.checks) pull.contexts = contexts;
    if (needs.registryPath !== null) {
      // What landed: the registry at the merge commit, against its first parent (as local replay reads it).
      const [base, landed] = [blobText(parent?.registry), blobText(node.mergeCommit?.registry)];
      if (!node.mergeCommit || base === undefined || landed === undefined) unknown.push('flags');
      else pull.registry = { base, head: landed };
    }
    if (needs.gitattributes) {
      const text = blobText(parent?.gitattributes);
      if (text === undefined || !parent) unknown.push('size');
      else pull.gitattributes = text;
    }
    return pull;
  };

  const deploymentHistory = (environment: string): Promise<DeploymentHistoryNode[]> =>
    (deployments ??= (async () => {
      const oldest = Date.parse(list.pulls.at(-1)?.mergedAt ?? '');
      const all: DeploymentHistoryNode[] = [];
      for (let after: string | null = null; ; ) {
        const data: { repository: { deployments: Connection<DeploymentHistoryNode> } } = await octokit.graphql(DEPLOYMENT_HISTORY_QUERY, { owner, repo, environment, after });
        all.push(...data.repository.deployments.nodes);
        const page = data.repository.deployments.pageInfo;
        // Newest first: once one older than the oldest merge is read, every merge's newest deployment is known.
        if (!page.hasNextPage || Date.parse(all.at(-1)?.createdAt ?? '') < oldest) return all;
        after = page.endCursor;
      }
    })());

  const factsOf = (pull: GatheredPull): FactsSource => ({
    async load(wanted: FactNeeds): Promise<PullRequestFacts> {
      const facts: PullRequestFacts = {
        repository: list.repository,
        number: pull.number,
        title: pull.title,
        url: pull.url,
        author: pull.author,
        base: pull.base,
        head: pull.head,
        labels: labelsAt(pull.labelEvents, pull.mergedAt),
        draft: false,
        state: 'merged',
      };
      if (wanted.reviews) facts.reviews = reviewsAt(pull.reviews ?? [], pull.mergedAt);
      if (wanted.files) facts.files = pull.files ?? [];
      if (wanted.checks) facts.checks = checksAt(pull.contexts ?? [], pull.mergedAt).checks;
      if (wanted.registryPath !== null) facts.registry = pull.registry ?? { base: null, head: null };
      if (wanted.gitattributes) facts.gitattributes = pull.gitattributes ?? null;
      if (wanted.trunk) {
        facts.deployment = deploymentAt(await deploymentHistory(wanted.trunk.environment), wanted.trunk.environment, pull.mergedAt);
        if (facts.deployment && wanted.trunk.revertLabel) facts.deployment.revert = null; // the revert a bot proposed is not a fact of the merge
      }
      return facts;
    },
    async diff(facts: PullRequestFacts): Promise<FileDiff[]> {
      const cached = cache.diff(pull.number);
      if (cached) return cached;
      const source = new GitHubPullRequestSource({ octokit, owner, repo, number: pull.number, appId: 0, checkName: '', anyState: true });
      const diff = await source.diff(facts);
      cache.addDiff(pull.number, diff);
      return diff;
    },
  });

  /** Rules this pull request's facts cannot decide. */
  const unknownOf = async (pull: GatheredPull): Promise<ReplayRule[]> => {
    const unknown = [...pull.unknown];
    if (needs.checks && checksAt(pull.contexts ?? [], pull.mergedAt).unreadable.some((name) => requiredChecks.has(name))) unknown.push('checks');
    // A deployment with more than 100 statuses: which one stood then is not known for sure.
    if (needs.trunk && newestDeploymentAt(await deploymentHistory(needs.trunk.environment), pull.mergedAt)?.statuses.pageInfo?.hasNextPage) unknown.push('trunk');
    return unknown;
  };

  return {
    unknown: [],
    labelsKnown: true,
    async *changes() {
      const pulls = list.pulls;
      let fromCache = 0;
      let read = 0;
      for (let i = 0; i < pulls.length; i++) {
        const { number } = pulls[i];
        if (!cache.pull(number) && !gone.has(number)) {
          const batch = pulls.slice(i).filter((p) => !cache.pull(p.number) && !gone.has(p.number)).slice(0, PULLS_PER_REQUEST).map((p) => p.number);
          await fetchBatch(batch);
          read += batch.length;
          say(`replay: ${i + batch.length} of ${pulls.length} pull requests (${read} read from GitHub, ${fromCache} from the cache)`);
        } else if (cache.pull(number)) fromCache++;
        const pull = cache.pull(number);
        if (!pull) {
          say(`replay: #${number} could not be read (deleted, or not merged): left out`);
          continue;
        }
        const change: ReplayChange = { sha: pull.mergeSha, pullRequest: pull.number, url: pull.url, title: pull.title, at: new Date(pull.mergedAt).toISOString().replace('.000Z', 'Z') };
        yield { change, facts: factsOf(pull), unknown: await unknownOf(pull) };
      }
    },
    close: () => {},
  };
}
