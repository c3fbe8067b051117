// The fake GitHub's git: just enough of commits, trees and refs for the merge
// queue (SPEC §4a) — the merges API, creating, moving and deleting refs,
// matching refs, a branch's head — and a three-way merge that every merge the
// fake makes goes through (staging merges and the merge call's squash, rebase
// and merge alike), so a staging branch that merged A then B has the very
// tree a base that squashed A then B ends with.
//
// The model: a commit has parents and a tree (`repo.trees`: path → content).
// A pull request's head lists the files it sets (`addPull`'s `headFiles`):
// its changes are those that differ from the merge base. Merging `theirs`
// into `ours` takes ours and lays their changes over it; a file both changed,
// differently, is a conflict. The merges API always makes a merge commit (even
// when the branch could fast-forward to the head), 204 when the head is in it.
//
// No jest here (like github-fake.ts).
import { fakeSha, type FakeCheckRun, type FakeGitHub, type FakeRepo, type FakeStatus } from './github-fake.js';

/** The app id CI check runs come from by default (GitHub Actions'). */
export const CI_APP_ID = 15368;

type Answer = [number, unknown, Record<string, string>];
type Json = (status: number, data: unknown, headers?: Record<string, string>) => Answer;

/** The merged files (theirs over ours where both changed) and the files both changed differently. */
export interface MergeOutcome {
  files: Map<string, string>;
  conflicts: string[];
}

/** A call of the merges API as the fake saw it. */
export interface FakeStagingMerge {
  repo: string;
  base: string;
  head: string;
  status: number;
}

export class FakeGit {
  /** Merges-API calls, in order. */
  readonly stagingMerges: FakeStagingMerge[] = [];
  /** Ref moves over PATCH (fast-forwards and forced resets), in order. */
  readonly refUpdates: Array<{ repo: string; branch: string; from: string; to: string; force: boolean }> = [];
  /** Refs per page of GET …/git/matching-refs (GitHub does not document one; tests lower it to see paging). */
  matchingRefsPageSize = 100;
  /**
   * Called after every branch change the fake makes — over the API (staging branches created, merged into,
   * forced, deleted; a base fast-forwarded or merged into by the merge call) and by `pushByHand` — as GitHub
   * sends a `push` for each (`pushWebhook` builds it; null: created or deleted).
   */
  onRefChange: ((repo: FakeRepo, branch: string, move: { before: string | null; after: string | null }) => void) | null = null;
  /** Commit → its longest distance from a root + 1: the best common ancestor is the common one with the highest. */
  private readonly generations = new Map<string, number>();

  constructor(private readonly fake: FakeGitHub) {}

  private generation(sha: string): number {
    const known = this.generations.get(sha);
    if (known !== undefined) return known;
    // Iterative: a long history must not overflow the stack.
    const stack = [sha];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const parents = this.fake.parents.get(top) ?? [];
      const missing = parents.filter((p) => !this.generations.has(p));
      if (missing.length > 0) stack.push(...missing);
      else {
        stack.pop();
        this.generations.set(top, 1 + Math.max(0, ...parents.map((p) => this.generations.get(p)!)));
      }
    }
    return this.generations.get(sha)!;
  }

  /** The best common ancestor of two commits (null: none). */
  mergeBase(a: string, b: string): string | null {
    const fromB = this.fake.ancestors(b);
    let best: string | null = null;
    for (const c of this.fake.ancestors(a)) if (fromB.has(c) && (best === null || this.generation(c) > this.generation(best))) best = c;
    return best;
  }

  /** Three-way merge of `theirs` into `ours`. */
  threeWay(repo: FakeRepo, ours: string, theirs: string): MergeOutcome {
    const base = this.mergeBase(ours, theirs);
    const baseFiles = (base !== null ? repo.trees.get(base) : undefined) ?? new Map<string, string>();
    const ourFiles = repo.trees.get(ours) ?? new Map<string, string>();
    const files = new Map(ourFiles);
    const conflicts: string[] = [];
    for (const [path, content] of repo.trees.get(theirs) ?? []) {
      if (content === baseFiles.get(path)) continue; // not their change
      const mine = ourFiles.get(path);
      if (mine !== baseFiles.get(path) && mine !== content) conflicts.push(path);
      files.set(path, content);
    }
    return { files, conflicts: conflicts.sort() };
  }

  /** Move (null: delete) a branch, and say so. */
  moveRef(repo: FakeRepo, branch: string, after: string | null): void {
    const before = repo.branches.get(branch) ?? null;
    if (after === null) repo.branches.delete(branch);
    else repo.branches.set(branch, after);
    this.onRefChange?.(repo, branch, { before, after });
  }

  /** A new commit with these parents and files. */
  commit(repo: FakeRepo, parents: string[], files: Map<string, string>, sha = fakeSha()): string {
    repo.trees.set(sha, files);
    this.fake.parents.set(sha, parents);
    return sha;
  }

  /** A push to `branch` "by hand" (not through the app): a commit setting (null: deleting) these files. */
  pushByHand(repo: FakeRepo, branch: string, files: Record<string, string | null>): { before: string; after: string } {
    const before = repo.branches.get(branch);
    if (before === undefined) throw new Error(`no branch ${branch}`);
    const tree = new Map(repo.trees.get(before) ?? []);
    for (const [path, text] of Object.entries(files)) {
      if (text === null) tree.delete(path);
      else tree.set(path, text);
    }
    const after = this.commit(repo, [before], tree);
    this.moveRef(repo, branch, after);
    return { before, after };
  }

  /** A CI check run on `sha` (a staging head or any commit): `conclusion` null is still in progress. Deliver `checkRunWebhook` for it. */
  ciCheckRun(repo: FakeRepo, sha: string, name: string, conclusion: string | null, more: { url?: string; appId?: number } = {}): FakeCheckRun {
    const at = new Date(this.fake.now()).toISOString();
    return this.fake.addCheckRun(repo, {
      appId: more.appId ?? CI_APP_ID,
      name,
      headSha: sha,
      status: conclusion === null ? 'in_progress' : 'completed',
      conclusion,
      detailsUrl: more.url ?? null,
      startedAt: at,
      completedAt: conclusion === null ? null : at,
    });
  }

  /** A commit status on `sha`. Deliver `statusWebhook` for it. */
  ciStatus(repo: FakeRepo, sha: string, context: string, state: FakeStatus['state'], url: string | null = null): FakeStatus {
    const status: FakeStatus = { sha, context, state, createdAt: new Date(this.fake.now()).toISOString(), targetUrl: url };
    repo.statuses.push(status);
    return status;
  }

  /** GitHub refuses an app without the `workflows` permission a write that changes a workflow file (as for the merge call). */
  private workflowRefusal(json: Json, from: Map<string, string>, to: Map<string, string>): Answer | null {
    if (this.fake.workflowsPermission) return null;
    const changed = [...new Set([...from.keys(), ...to.keys()])].sort().find((p) => p.startsWith('.github/workflows/') && from.get(p) !== to.get(p));
    return changed === undefined ? null : json(403, { message: `refusing to allow a GitHub App to create or update workflow \`${changed}\` without \`workflows\` permission` });
  }

  /** The head of an open pull request reached its base branch (GitHub marks it merged, as for a push of its commits). */
  private markReached(repo: FakeRepo, branch: string, tip: string): void {
    const reachable = this.fake.ancestors(tip);
    for (const pull of repo.pulls.values()) {
      if (pull.state !== 'OPEN' || pull.baseRef !== branch || !reachable.has(pull.headSha)) continue;
      pull.state = 'MERGED';
      // The merge commit that brought its head in (a staging merge), else the new tip.
      pull.mergeCommit = [...reachable].find((c) => (this.fake.parents.get(c) ?? [])[1] === pull.headSha) ?? tip;
      pull.mergedAt = new Date(this.fake.now()).toISOString();
      pull.mergedBy = { login: `${this.fake.appSlug}[bot]`, bot: true };
    }
  }

  private resolve(repo: FakeRepo, name: string): string | undefined {
    return repo.branches.get(name) ?? (this.fake.parents.has(name) ? name : undefined);
  }

  /** The queue's endpoints; null: not one of them. */
  rest(repo: FakeRepo, method: string, rest: string, query: URLSearchParams, body: unknown, json: Json): Answer | null {
    const full = `${repo.owner}/${repo.name}`;
    const refNode = (branch: string, sha: string) => ({
      ref: `refs/heads/${branch}`,
      node_id: `REF_${fakeSha(branch).slice(0, 8)}`,
      url: `${this.fake.baseUrl}/repos/${full}/git/refs/heads/${encodeURIComponent(branch)}`,
      object: { sha, type: 'commit', url: `${this.fake.baseUrl}/repos/${full}/git/commits/${sha}` },
    });
    let m: RegExpExecArray | null;
    if (rest === 'merges' && method === 'POST') {
      const input = body as { base: string; head: string; commit_message?: string };
      const record = (status: number) => this.stagingMerges.push({ repo: full, base: input.base, head: input.head, status });
      const tip = repo.branches.get(input.base);
      const head = this.resolve(repo, input.head);
      if (tip === undefined || head === undefined) {
        record(404);
        return json(404, { message: tip === undefined ? 'Base does not exist' : 'Head does not exist' });
      }
      if (this.fake.ancestors(tip).has(head)) {
        record(204);
        return [204, '', {}];
      }
      const merged = this.threeWay(repo, tip, head);
      if (merged.conflicts.length > 0) {
        record(409);
        return json(409, { message: 'Merge conflict' });
      }
      const refused = this.workflowRefusal(json, repo.trees.get(tip) ?? new Map(), merged.files);
      if (refused) {
        record(403);
        return refused;
      }
      const sha = this.commit(repo, [tip, head], merged.files);
      this.moveRef(repo, input.base, sha);
      record(201);
      const tree = this.fake.treeOid(repo, sha);
      return json(201, {
        sha,
        node_id: `C_${sha.slice(0, 8)}`,
        url: `${this.fake.baseUrl}/repos/${full}/commits/${sha}`,
        html_url: `https://github.com/${full}/commit/${sha}`,
        commit: { message: input.commit_message ?? `Merge ${input.head} into ${input.base}`, tree: { sha: tree, url: '' } },
        parents: [tip, head].map((p) => ({ sha: p, url: '' })),
      });
    }
    if (rest === 'git/refs' && method === 'POST') {
      const input = body as { ref: string; sha: string };
      if (!input.ref.startsWith('refs/heads/')) return json(422, { message: 'Reference name must be a branch (the fake knows no other)' });
      const branch = input.ref.slice('refs/heads/'.length);
      if (repo.branches.has(branch)) return json(422, { message: 'Reference already exists' });
      // Git keeps refs as paths: `a/b` cannot exist beside `a/b/c`.
      if ([...repo.branches.keys()].some((b) => b.startsWith(`${branch}/`) || branch.startsWith(`${b}/`))) return json(422, { message: `Reference refs/heads/${branch} cannot be created` });
      if (!this.fake.parents.has(input.sha)) return json(422, { message: 'Object does not exist' });
      this.moveRef(repo, branch, input.sha);
      return json(201, refNode(branch, input.sha));
    }
    if ((m = /^git\/refs\/(.+)$/.exec(rest)) && method === 'PATCH') {
      const ref = decodeURIComponent(m[1]);
      const branch = ref.replace(/^heads\//, '');
      const input = body as { sha: string; force?: boolean };
      const from = repo.branches.get(branch);
      if (!ref.startsWith('heads/') || from === undefined) return json(422, { message: 'Reference does not exist' });
      if (!this.fake.parents.has(input.sha)) return json(422, { message: 'Object does not exist' });
      if (!input.force && !this.fake.ancestors(input.sha).has(from)) return json(422, { message: 'Update is not a fast forward' });
      const refused = this.workflowRefusal(json, repo.trees.get(from) ?? new Map(), repo.trees.get(input.sha) ?? new Map());
      if (refused) return refused;
      this.refUpdates.push({ repo: full, branch, from, to: input.sha, force: Boolean(input.force) });
      this.markReached(repo, branch, input.sha);
      this.moveRef(repo, branch, input.sha);
      return json(200, refNode(branch, input.sha));
    }
    if ((m = /^git\/matching-refs\/(.*)$/.exec(rest)) && method === 'GET') {
      const prefix = decodeURIComponent(m[1]);
      const all = [...repo.branches]
        .filter(([branch]) => `heads/${branch}`.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([branch, sha]) => refNode(branch, sha));
      const size = this.matchingRefsPageSize;
      const page = Number(query.get('page') ?? 1);
      const headers: Record<string, string> = {};
      if (page * size < all.length) headers.link = `<${this.fake.baseUrl}/repos/${full}/git/matching-refs/${m[1]}?page=${page + 1}>; rel="next"`;
      return json(200, all.slice((page - 1) * size, page * size), headers);
    }
    if ((m = /^branches\/(.+)$/.exec(rest)) && method === 'GET') {
      const branch = decodeURIComponent(m[1]);
      const sha = repo.branches.get(branch);
      if (sha === undefined) return json(404, { message: 'Branch not found' });
      return json(200, {
        name: branch,
        commit: { sha, commit: { tree: { sha: this.fake.treeOid(repo, sha), url: '' } }, parents: (this.fake.parents.get(sha) ?? []).map((p) => ({ sha: p, url: '' })) },
        protected: false,
      });
    }
    return null;
  }
}
