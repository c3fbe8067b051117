// Pull-request facts from GitHub, in as few requests as GitHub allows:
//   - one GraphQL query for the pull request, labels, reviews, files, the head
//     commit's check runs and statuses, the flag registry at the head,
//     .gitattributes at the base (a pull request must not be able to mark its
//     own lines generated), and our own `merge-gate` check run on the head (so
//     the check-run writer needs no request of its own); follow-up queries only
//     for connections past 100 items, all connections paged together;
//   - team membership (`reviews.owners`) in one more query (`teams`, which
//     gatherFacts asks only for the teams of groups that apply), cached per
//     installation (teams.ts);
//   - the diff (one REST request, diff media type) only when a rule needs hunks,
//     with per-file patches (REST, paginated) when GitHub will not produce the
//     whole diff (406: more than 300 files or 20,000 lines).
// The flag registry "at the base" is the registry at the merge base, as in the
// local-git source: when the pull request does not touch the registry it is the
// head's text; when it does, the head's text with the pull request's hunks for
// that file undone (the diff is needed by the flags rule anyway).
import type {
  Actor,
  ChangedFile,
  CheckResult,
  CheckState,
  DeploymentFacts,
  DeploymentState,
  FactNeeds,
  FactsSource,
  FileDiff,
  PullRequestFacts,
  TeamMembership,
} from '../facts/types.js';
import { parseUnifiedDiff } from '../facts/diff.js';
import type { Octokit } from '../octokit/types.js';
import { classifyError, ExplainedError, PullGoneError, StaleReadError } from './errors.js';
import { FACTS_QUERY, HEAD_COMMIT_QUERY, MORE_QUERY } from './queries.js';
import { FactsCache } from './facts-cache.js';
import {
  actor,
  contextResults,
  deploymentFacts,
  fileFacts,
  newestRun,
  restChangedFile,
  reviewFacts,
  take,
  type BlobEntry,
  type Connection,
  type ContextNode,
  type DeploymentNode,
  type ExistingCheckRun,
  type FileNode,
  type HeadCommitNode,
  type LandingExtras,
  type PageInfo,
  type PullNode,
  type ReviewNode,
} from './nodes.js';
import { findRevert, type RevertCandidate } from '../trunk/marker.js';
import { readTeams, type TeamsCache } from './teams.js';
import { CODEOWNERS_PATHS } from '../rules/codeowners.js';


/** GitHub will not render a pull request diff past these (it answers 406). */
export const DIFF_MAX_FILES = 300;
export const DIFF_MAX_LINES = 20_000;

export interface PullRequestSourceOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  number: number;
  appId: number;
  checkName: string;
  /** Paths whose per-file patch may be missing (too large) without failing: those the policy never counts. */
  patchOptional?: (path: string) => boolean;
  cache?: FactsCache;
  /** Where team members (`reviews.owners`) are kept, and for which installation; absent: read every time. */
  teamsCache?: { store: TeamsCache; installationId: number };
  /** Read the diff of a merged or closed pull request too (a replay judges merged ones). */
  anyState?: boolean;
}

/** Undo a file's hunks on its head text: the text at the merge base. Throws StaleReadError when they do not fit. */
export function reverseApply(headText: string | null, diff: FileDiff): string {
  const trailing = headText === null || headText === '' || headText.endsWith('\n');
  const head = headText === null || headText === '' ? [] : (trailing ? headText.slice(0, -1) : headText).split('\n');
  const out: string[] = [];
  let i = 0; // next head line (0-based)
  const mismatch = () => new StaleReadError(`the diff of ${diff.path} does not fit its text at the head`);
  for (const line of diff.lines) {
    if (line.type === 'del') {
      while (out.length < (line.oldLine ?? 1) - 1) {
        if (i >= head.length) throw mismatch();
        out.push(head[i++]);
      }
      out.push(line.content);
      continue;
    }
    const at = (line.newLine ?? 0) - 1;
    if (at < i || at >= head.length) throw mismatch();
    while (i < at) out.push(head[i++]);
    if (head[i] !== line.content) throw mismatch();
    i++;
    if (line.type === 'normal') {
      if (line.oldLine !== undefined && line.oldLine !== out.length + 1) throw mismatch();
      out.push(line.content);
    }
  }
  while (i < head.length) out.push(head[i++]);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** Needs of a load that reads the pull request alone (its state, head, and our check on it). */
export const NO_NEEDS: FactNeeds = { reviews: false, files: false, checks: false, registryPath: null, gitattributes: false };

/** The pull request on GitHub, as a FactsSource. */
export class GitHubPullRequestSource implements FactsSource {
  /** Our check run on the head commit, after `load`. */
  existingCheckRun: ExistingCheckRun | null = null;
  /** After `load(needs, { landing: true })`: what landing reads besides the facts. */
  landing: LandingExtras | null = null;
  /** The facts after `load` (the head SHA is what a failure check is written on). */
  facts: PullRequestFacts | null = null;
  private pull: PullNode | null = null;
  private diffPromise: Promise<FileDiff[]> | null = null;
  /** Every changed file (read whenever the registry is, to tell whether the pull request touches it). */
  private changedFiles: ChangedFile[] = [];

  constructor(private readonly options: PullRequestSourceOptions) {}

  private get repoParams() {
    return { owner: this.options.owner, repo: this.options.repo };
  }

  async load(needs: FactNeeds, options: { landing?: boolean } = {}): Promise<PullRequestFacts> {
    const { octokit, owner, repo, number, appId, checkName } = this.options;
    const headVars = {
      registry: needs.registryPath !== null,
      registryPath: needs.registryPath ?? '',
      checks: needs.checks,
      appId,
      checkName,
    };
    // Files tell whether the pull request touches the registry, and which owners groups apply.
    const wantFiles = needs.files || needs.registryPath !== null || Boolean(needs.owners);
    const data = await octokit.graphql<{
      repository: {
        nameWithOwner: string;
        pullRequest: PullNode | null;
        deployments?: { nodes: DeploymentNode[] };
        reverts?: { nodes: RevertCandidate[] };
        defaultBranchRef?: { name: string } | null;
      } | null;
    }>(FACTS_QUERY, {
      owner,
      repo,
      number,
      reviews: needs.reviews,
      files: wantFiles,
      gitattributes: needs.gitattributes,
      codeowners: Boolean(needs.owners?.codeowners),
      trunk: Boolean(needs.trunk),
      environment: needs.trunk?.environment ?? '',
      reverts: Boolean(needs.trunk?.revertLabel),
      revertLabel: needs.trunk?.revertLabel ?? '',
      landing: Boolean(options.landing),
      ...headVars,
    });
    const pull = data.repository?.pullRequest;
    if (!pull) throw new PullGoneError(`pull request ${owner}/${repo}#${number} was not found`);
    this.pull = pull;
    if (options.landing) {
      const merge = pull.potentialMergeCommit;
      this.landing = {
        mergeable: pull.mergeable === 'MERGEABLE' ? true : pull.mergeable === 'CONFLICTING' ? false : null,
        headRepo: pull.headRepository?.nameWithOwner ?? null,
        defaultBranch: data.repository!.defaultBranchRef?.name ?? 'main',
        testMerge: merge ? { sha: merge.oid, tree: merge.tree.oid, parents: merge.parents.nodes.map((p) => p.oid) } : null,
      };
    }

    let head: HeadCommitNode | null | undefined = pull.commits.nodes[0]?.commit;
    if (!head || head.oid !== pull.headRefOid) {
      const more = await octokit.graphql<{ repository: { object: HeadCommitNode | null } }>(HEAD_COMMIT_QUERY, {
        owner,
        repo,
        oid: pull.headRefOid,
        ...headVars,
      });
      head = more.repository.object;
      if (!head || !head.oid) throw new StaleReadError(`head commit ${pull.headRefOid} is not readable yet`);
    }

    // Past the first 100 files, the rest may be known already: from an earlier evaluation of the
    // same base and head, or from the per-file listing the diff of a very large pull request needs anyway.
    const cacheKey = FactsCache.key({ repository: data.repository!.nameWithOwner, number: pull.number, base: { sha: pull.baseRefOid }, head: { sha: pull.headRefOid } });
    const cachedFiles = this.options.cache?.get(cacheKey)?.files;
    let filesFrom: 'graphql' | 'cache' | 'listing' = 'graphql';
    if (pull.files?.pageInfo.hasNextPage) {
      if (cachedFiles) filesFrom = 'cache';
      else if (needs.registryPath !== null && this.diffTooLarge(pull)) filesFrom = 'listing';
      if (filesFrom !== 'graphql') pull.files = { ...pull.files, pageInfo: { hasNextPage: false, endCursor: null } };
    }

    const labels = [...pull.labels.nodes];
    const reviews = pull.reviews ? [...pull.reviews.nodes] : undefined;
    const files = pull.files ? [...pull.files.nodes] : undefined;
    const contexts = head.statusCheckRollup ? [...head.statusCheckRollup.contexts.nodes] : needs.checks ? [] : undefined;
    await this.paginate(pull, head, { labels, reviews, files, contexts });

    const ownRun = newestRun(head.checkSuites.nodes);
    this.existingCheckRun = ownRun
      ? {
          id: ownRun.databaseId,
          status: ownRun.status.toLowerCase(),
          conclusion: ownRun.conclusion ? ownRun.conclusion.toLowerCase() : null,
          title: ownRun.title,
          summary: ownRun.summary,
          text: ownRun.text,
          externalId: ownRun.externalId,
        }
      : null;

    const facts: PullRequestFacts = {
      repository: data.repository!.nameWithOwner,
      number: pull.number,
      title: pull.title,
      url: pull.url,
      author: actor(pull.author),
      base: { ref: pull.baseRefName, sha: pull.baseRefOid },
      head: { ref: pull.headRefName, sha: pull.headRefOid },
      labels: labels.map((l) => l.name),
      draft: pull.isDraft,
      state: pull.state === 'OPEN' ? 'open' : pull.state === 'MERGED' ? 'merged' : 'closed',
    };
    if (reviews && needs.reviews) {
      facts.reviews = reviewFacts(reviews);
    }
    if (files && wantFiles) {
      let changed: ChangedFile[];
      if (filesFrom === 'cache') changed = cachedFiles!;
      else if (filesFrom === 'listing') changed = (await this.listFiles(pull.number)).map(restChangedFile);
      else changed = fileFacts(files);
      if (changed.length > 100) this.options.cache?.update(cacheKey, { files: changed });
      if (needs.files || needs.owners) facts.files = changed;
      this.changedFiles = changed;
    }
    if (contexts && needs.checks) {
      facts.checks = contextResults(contexts, appId);
    }
    if (needs.trunk) {
      const newest = data.repository!.deployments?.nodes[0];
      facts.deployment = newest ? deploymentFacts(newest, needs.trunk.environment) : null;
      if (facts.deployment && needs.trunk.revertLabel) {
        const revert = findRevert(data.repository!.reverts?.nodes ?? [], facts.deployment.sha);
        facts.deployment.revert = revert ? { number: revert.number, url: revert.url } : null;
      }
    }
    // Known from here on: what a failure check is written on, should a file below not be readable.
    this.facts = facts;
    if (needs.gitattributes) {
      // At the base, never the head: the pull request does not choose what is left out of its own count.
      const base = pull.baseRef?.target;
      facts.gitattributes = base?.oid ? await this.blobText(base.gitattributes ?? null, '.gitattributes', base.oid) : null;
    }
    if (needs.registryPath !== null) {
      const headText = await this.blobText(head.registry ?? null, needs.registryPath, pull.headRefOid);
      facts.registry = { base: await this.registryAtBase(facts, needs.registryPath, headText), head: headText };
    }
    if (needs.owners?.codeowners) facts.codeowners = await this.codeownersAtBase(pull);
    return facts;
  }

  /** Members of these teams (`@org/team`), in one query, from the cache when known (see teams.ts). */
  teams(names: string[]): Promise<Record<string, TeamMembership>> {
    return readTeams(this.options.octokit, names, this.options.teamsCache);
  }

  /** CODEOWNERS at the base (never the head: a pull request does not choose its own owners), where GitHub looks first. */
  private async codeownersAtBase(pull: PullNode): Promise<{ path: string; text: string } | null> {
    const base = pull.codeownersBase?.target;
    if (!base?.oid) return null;
    for (const [i, path] of CODEOWNERS_PATHS.entries()) {
      const text = await this.blobText(base[`c${i}`] ?? null, path, base.oid);
      if (text !== null) return { path, text };
    }
    return null;
  }

  /** Follow-up pages for every connection past its first 100, one request per round. */
  private async paginate(
    pull: PullNode,
    head: HeadCommitNode,
    into: { labels: PullNode['labels']['nodes']; reviews?: ReviewNode[]; files?: FileNode[]; contexts?: ContextNode[] },
  ): Promise<void> {
    let labels = pull.labels.pageInfo;
    let reviews = pull.reviews?.pageInfo;
    let files = pull.files?.pageInfo;
    let contexts = head.statusCheckRollup?.contexts.pageInfo;
    const more = (p: PageInfo | undefined) => Boolean(p?.hasNextPage);
    while (more(labels) || more(reviews) || more(files) || more(contexts)) {
      const data = await this.options.octokit.graphql<{
        repository: {
          pullRequest: { headRefOid: string; labels?: PullNode['labels']; reviews?: Connection<ReviewNode>; files?: Connection<FileNode> };
          object?: { statusCheckRollup: { contexts: Connection<ContextNode> } | null } | null;
        };
      }>(MORE_QUERY, {
        ...this.repoParams,
        number: pull.number,
        oid: head.oid,
        labels: more(labels),
        labelsAfter: labels.endCursor,
        reviews: more(reviews),
        reviewsAfter: reviews?.endCursor ?? null,
        files: more(files),
        filesAfter: files?.endCursor ?? null,
        contexts: more(contexts),
        contextsAfter: contexts?.endCursor ?? null,
      });
      const page = data.repository.pullRequest;
      // Pages of two different heads would mix two states of the pull request.
      if (page.headRefOid !== pull.headRefOid) throw new StaleReadError('the pull request changed while it was read');
      if (more(labels)) ({ pageInfo: labels } = take(page.labels, into.labels));
      if (more(reviews)) ({ pageInfo: reviews } = take(page.reviews, into.reviews!));
      if (more(files)) ({ pageInfo: files } = take(page.files, into.files!));
      if (more(contexts)) ({ pageInfo: contexts } = take(data.repository.object?.statusCheckRollup?.contexts, into.contexts!));
    }
  }

  /**
   * A file's text from a GraphQL blob, with REST for a truncated one; null when
   * it does not exist. A file that cannot be read as text is explained, naming it.
   */
  private async blobText(entry: BlobEntry | null, path: string, ref: string): Promise<string | null> {
    const object = entry?.object;
    if (!object || object.__typename !== 'Blob') return null;
    if (object.isBinary) throw new ExplainedError(`${path} could not be read: it is a binary file at ${ref.slice(0, 7)}; merge-gate reads it as text`);
    if (!object.isTruncated && typeof object.text === 'string') return object.text;
    try {
      return await this.rawFile(path, ref);
    } catch (err) {
      const cls = classifyError(err);
      if (cls.retryable) throw err;
      throw new ExplainedError(`${path} could not be read at ${ref.slice(0, 7)} (too large for GitHub's GraphQL API, and the contents API refused it): ${cls.explanation ?? (err as Error).message}`);
    }
  }

  private async rawFile(path: string, ref: string): Promise<string | null> {
    try {
      const res = await this.options.octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
        ...this.repoParams,
        path,
        ref,
        mediaType: { format: 'raw' },
      });
      return String(res.data);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return null;
      throw err;
    }
  }

  /** The registry at the merge base (see the top of this file). */
  private async registryAtBase(facts: PullRequestFacts, path: string, headText: string | null): Promise<string | null> {
    const touched = this.changedFiles.find((f) => f.path === path);
    const renames = this.changedFiles.some((f) => f.status === 'renamed');
    if (!touched && (headText !== null || !renames)) return headText; // not touched (a rename away would leave no head text)
    if (touched?.status === 'added') return null;
    const diff = await this.diff(facts);
    const own = diff.find((d) => d.path === path);
    if (own && own.lines.length > 0) return reverseApply(headText, own);
    if (!own && !diff.some((d) => d.previousPath === path)) return headText;
    return this.mergeBaseFile(facts, path); // renamed away, or its patch is missing
  }

  /** Two REST requests, for the rare case the diff cannot give the base text. */
  private async mergeBaseFile(facts: PullRequestFacts, path: string): Promise<string | null> {
    const { data } = await this.options.octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
      ...this.repoParams,
      basehead: `${facts.base.sha}...${facts.head.sha}`,
      per_page: 1,
    });
    return this.rawFile(path, data.merge_base_commit.sha);
  }

  async diff(facts: PullRequestFacts): Promise<FileDiff[]> {
    if (facts.state !== 'open' && !this.options.anyState) return []; // nothing is decided for a closed pull request
    this.diffPromise ??= this.fetchDiff(facts);
    return this.diffPromise;
  }

  /** GitHub will answer 406 for the whole diff: go straight to per-file patches. */
  private diffTooLarge(pull: PullNode | null): boolean {
    return pull !== null && (pull.changedFiles > DIFF_MAX_FILES || pull.additions + pull.deletions > DIFF_MAX_LINES);
  }

  private async fetchDiff(facts: PullRequestFacts): Promise<FileDiff[]> {
    const key = FactsCache.key(facts);
    const cached = this.options.cache?.get(key)?.diff;
    if (cached) return cached;
    let diff: FileDiff[] | null = null;
    if (!this.diffTooLarge(this.pull)) {
      try {
        const res = await this.options.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
          ...this.repoParams,
          pull_number: facts.number,
          mediaType: { format: 'diff' },
          // Probot's retry plugin would retry a 406 three times (sleeping 1 + 4 + 9 s); it is final. A 5xx is retried by the queue.
          request: { retries: 0 },
        });
        diff = parseUnifiedDiff(String(res.data));
      } catch (err) {
        if ((err as { status?: number }).status !== 406) throw err;
      }
    }
    diff ??= await this.perFileDiff(facts);
    this.options.cache?.update(key, { diff });
    return diff;
  }

  private listing: ReturnType<GitHubPullRequestSource['fetchListing']> | null = null;

  /** GET …/pulls/{n}/files, 100 a page (up to GitHub's 3,000 files), read once per source. */
  private listFiles(number: number) {
    this.listing ??= this.fetchListing(number);
    return this.listing;
  }

  private fetchListing(number: number) {
    return this.options.octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { ...this.repoParams, pull_number: number, per_page: 100 });
  }

  /** The diff from per-file patches. */
  private async perFileDiff(facts: PullRequestFacts): Promise<FileDiff[]> {
    const files = await this.listFiles(facts.number);
    const out: FileDiff[] = [];
    const missing: string[] = [];
    for (const f of files) {
      const previous = f.previous_filename;
      if (f.patch) {
        const from = f.status === 'added' ? '/dev/null' : `a/${previous ?? f.filename}`;
        const to = f.status === 'removed' ? '/dev/null' : `b/${f.filename}`;
        const text = `diff --git a/${previous ?? f.filename} b/${f.filename}\n--- ${from}\n+++ ${to}\n${f.patch}\n`;
        const parsed = parseUnifiedDiff(text)[0];
        out.push(parsed ? { ...parsed, path: f.filename, ...(previous ? { previousPath: previous } : {}) } : { path: f.filename, lines: [] });
      } else {
        // No patch: binary (no lines counted) or too large for GitHub to render.
        if (f.additions + f.deletions > 0 && !this.options.patchOptional?.(f.filename)) missing.push(f.filename);
        out.push(previous ? { path: f.filename, previousPath: previous, lines: [] } : { path: f.filename, lines: [] });
      }
    }
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).join(', ');
      throw new ExplainedError(
        `GitHub does not show the diff of ${missing.length} file${missing.length === 1 ? '' : 's'} (too large): ${shown}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}; merge-gate cannot check ${missing.length === 1 ? 'it' : 'them'}`,
      );
    }
    return out;
  }
}
