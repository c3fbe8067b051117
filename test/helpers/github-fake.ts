// A fake GitHub behind nock: repositories, pull requests, commits, check runs
// and statuses held in memory, served over the REST and GraphQL endpoints the
// app uses. GraphQL queries are validated against GitHub's published schema
// (@octokit/graphql-schema) and then executed against that very schema with
// resolvers over the fake state, so a query that asks for a field GitHub does
// not have fails here as it would there. Every REST request body is validated
// against GitHub's OpenAPI description. Every request is recorded.
//
// No jest here: tests assert on what was recorded, and bench/github.ts reuses it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { buildClientSchema, graphqlSync, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { schema as published, validate as validateQuery } from '@octokit/graphql-schema';
import { operationOf, restRequestProblems } from './github-openapi.js';
import { FakeGraphQLError, FakeOrgs } from './github-fake-orgs.js';
import { FakeGit } from './github-fake-git.js';
import { FakeOAuth } from './github-fake-oauth.js';
import { deploymentStatuses, timelineItems, updatedAt, type FakeLabelEvent } from './github-fake-history.js';

export interface FakeFile {
  path: string;
  additions: number;
  deletions: number;
  status: 'added' | 'modified' | 'removed' | 'renamed' | 'copied';
  previousPath?: string;
  /** Unified-diff hunks (without the file header); absent: GitHub shows no patch (binary or too large). */
  patch?: string;
}

export interface FakeReview {
  login: string;
  bot?: boolean;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'DISMISSED' | 'COMMENTED' | 'PENDING';
  submittedAt: string;
  commit: string;
}

export interface FakePull {
  number: number;
  title: string;
  author: string;
  state: 'OPEN' | 'CLOSED' | 'MERGED';
  draft: boolean;
  baseRef: string;
  headRef: string;
  headSha: string;
  labels: string[];
  reviews: FakeReview[];
  files: FakeFile[];
  /** A pull request from a fork: check suites on its head list no pull requests. */
  fork: boolean;
  /** What `commits(last: 1)` answers, when not the head (GitHub stops at 250 commits). */
  lastListedCommit?: string;
  body?: string;
  /** Opened by our app (its installation token): GraphQL `viewerDidAuthor`. */
  byApp?: boolean;
  /** Review requested from (POST …/requested_reviewers): users, and team slugs. */
  requestedReviewers?: string[];
  requestedTeams?: string[];
  /** For a merged pull request: the commit it made on the base branch, and who merged it. */
  mergeCommit?: string;
  mergedBy?: { login: string; bot: boolean };
  mergedAt?: string;
  /** Label events, for the timeline (a replay reads what it carried when it merged); labels added without one have none. */
  labelEvents?: FakeLabelEvent[];
  /** GraphQL `updatedAt` (default: mergedAt, else a fixed instant). */
  updatedAt?: string;
  // ------------------------------------------------------------ landing
  /** What REST `mergeable` answers, one read at a time (null: still computing); then `mergeable`. */
  mergeableSeq?: Array<boolean | null>;
  /** REST `mergeable` once `mergeableSeq` is used up (default true). */
  mergeable?: boolean | null;
  /** The merge API refuses (branch protection, a ruleset): status and GitHub's message. */
  mergeRefusal?: { status: number; message: string };
  /** update-branch meets a conflict. */
  updateConflict?: boolean;
  /** Commits a rebase merge puts on the base (default 1). */
  commitCount?: number;
}

export interface FakeDeploymentStatus {
  state: 'PENDING' | 'QUEUED' | 'IN_PROGRESS' | 'WAITING' | 'SUCCESS' | 'FAILURE' | 'ERROR' | 'INACTIVE';
  description: string | null;
  createdAt: string;
  logUrl?: string | null;
  environmentUrl?: string | null;
}

export interface FakeDeployment {
  id: number;
  sha: string;
  environment: string;
  createdAt: string;
  /** Oldest first; the last one is the latest status. */
  statuses: FakeDeploymentStatus[];
}

/** A merge call as the fake saw it. */
export interface FakeMerge {
  repo: string;
  number: number;
  sha: string;
  method: string;
  /** What the fake did: merged (answered or not), or refused with this status. */
  status: number;
  merged: boolean;
}

/** How the fake answers a merge call (landing's failure injection). */
export type MergeFault = 'none' | 'fail-before' | 'fail-after' | 'hang-before' | 'hang-after';

/** Returned by the router for a request the listening server never answers (a hung GitHub). */
export const HANG = Symbol('hang');

/**
 * A fault the listening server injects into one request (`FakeGitHub.chaos`):
 * an answer GitHub gives instead of doing the work (a 502, a secondary rate
 * limit); the connection dropped, before GitHub did anything or after (the
 * work done, its answer lost); or the answer delayed.
 */
export type ChaosFault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'reset'; after: boolean }
  | { kind: 'slow'; ms: number }
  /** Answered at once (the work done then), the answer arriving `ms` later: a stale answer. */
  | { kind: 'late'; ms: number }
  /** Never answered, nothing done: the connection stays open until the client gives up (a hung GitHub). */
  | { kind: 'hang' };

export interface FakeCheckRun {
  id: number;
  appId: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  annotations: unknown[];
  startedAt: string;
  completedAt: string | null;
  /**
   * Which of its app's check suites on the head the run belongs to (default 0).
   * GitHub can hold several suites of one app on a commit; each answers its
   * own latest run, listed in the order the suites were created.
   */
  suite?: number;
}

export interface FakeStatus {
  sha: string;
  context: string;
  state: 'SUCCESS' | 'PENDING' | 'FAILURE' | 'ERROR' | 'EXPECTED';
  createdAt: string;
  targetUrl?: string | null;
}

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  /** Branch name → tip SHA. */
  branches: Map<string, string>;
  /** Commit SHA → path → text. */
  trees: Map<string, Map<string, string>>;
  pulls: Map<number, FakePull>;
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  archived: boolean;
  deployments: FakeDeployment[];
}

export interface RecordedRequest {
  method: string;
  /** Path without the API prefix and query. */
  path: string;
  query: URLSearchParams;
  accept: string;
  body: unknown;
  kind: 'rest' | 'graphql' | 'auth';
  /** OpenAPI operation (REST) or GraphQL operation name. */
  operation: string | null;
  variables?: Record<string, unknown>;
  /** When it arrived (performance.now() of this process): what the production bench times. */
  at: number;
  /** The status answered (304: a conditional request GitHub does not count). */
  status?: number;
}

export interface Failure {
  method?: string;
  /** Matches the request path (REST) or the GraphQL operation name. */
  match: RegExp;
  status: number;
  times: number;
  headers?: Record<string, string>;
  body?: unknown;
}

let schemaCache: GraphQLSchema | null = null;
function githubSchema(): GraphQLSchema {
  schemaCache ??= buildClientSchema((published.json as { data?: IntrospectionQuery }).data ?? (published.json as IntrospectionQuery), { assumeValid: true });
  return schemaCache;
}

function connection<T>(items: T[], args: { first?: number | null; after?: string | null; last?: number | null }) {
  let start = args.after ? Number(args.after) + 1 : 0;
  let end = items.length;
  if (args.first != null) end = Math.min(end, start + args.first);
  if (args.last != null) start = Math.max(start, end - args.last);
  const nodes = items.slice(start, end);
  return {
    totalCount: items.length,
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: String(start + i) })),
    pageInfo: { hasNextPage: end < items.length, hasPreviousPage: start > 0, endCursor: nodes.length ? String(end - 1) : null, startCursor: nodes.length ? String(start) : null },
  };
}

let shaCounter = 0;
export function fakeSha(seed = `sha${++shaCounter}`): string {
  let h = 0x811c9dc5;
  let out = '';
  for (let round = 0; out.length < 40; round++) {
    for (const ch of `${seed}:${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 40);
}

/** A patch that adds `lines` lines to a new file. */
export function addedPatch(lines: string[]): string {
  return [`@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`)].join('\n');
}

export class FakeGitHub {
  readonly appId: number;
  readonly installationId: number;
  readonly origin: string;
  readonly prefix: string;
  readonly graphqlPath: string;
  readonly repos = new Map<string, FakeRepo>();
  /** Organisations, their teams and members; review requests (github-fake-orgs.ts). */
  readonly orgs = new FakeOrgs();
  readonly requests: RecordedRequest[] = [];
  /** Schema violations and unexpected requests; a test ends by asserting this is empty. */
  readonly problems: string[] = [];
  readonly failures: Failure[] = [];
  /** Paths GraphQL reports as truncated blobs (text null), as it does for large files. */
  readonly truncatedBlobs = new Set<string>();
  /** Paths GraphQL reports as binary blobs (text null, isBinary true). */
  readonly binaryBlobs = new Set<string>();
  /** The diff endpoint answers 406 for these pull requests, whatever their size. */
  readonly diffTooLarge = new Set<number>();
  private nextCheckRunId = 1000;
  private nextDeploymentId = 500;
  /** Tokens of a deploy trigger (not the app): its requests are checked against the trigger's operations. */
  readonly deployTriggerTokens = new Set<string>();
  /** Our app's slug (`GET /app`); its bot account is `<slug>[bot]`. */
  readonly appSlug = 'merge-gate';
  private scopes: nock.Scope[] = [];
  /** GraphQL points left, as `rateLimit` reports them. */
  rateRemaining = 5000;
  /** Headers added to every answer of the listening server (a test's rate-limit figures). */
  responseHeaders: (() => Record<string, string>) | null = null;
  /** The fake's notion of now (token expiry, rate-limit reset); tests point it at their clock. */
  now: () => number = () => Date.now();
  /** Commits, trees and refs for the merge queue (github-fake-git.ts). */
  readonly git = new FakeGit(this);
  /** "Sign in with GitHub": the web flow at the origin, GET /user and GET /repos/{owner}/{repo} with a person's token (github-fake-oauth.ts). */
  readonly oauth = new FakeOAuth();

  constructor(options: { baseUrl?: string; appId?: number; installationId?: number } = {}) {
    const base = new URL(options.baseUrl ?? 'https://api.github.com');
    this.origin = base.origin;
    this.prefix = base.pathname.replace(/\/$/, '');
    // GitHub Enterprise: REST under /api/v3, GraphQL at /api/graphql (what octokit derives).
    this.graphqlPath = this.prefix.endsWith('/api/v3') ? `${this.prefix.slice(0, -3)}/graphql` : `${this.prefix}/graphql`;
    this.appId = options.appId ?? 4242;
    this.installationId = options.installationId ?? 1;
  }

  get baseUrl(): string {
    return `${this.origin}${this.prefix}`;
  }

  addRepo(owner: string, name: string, options: { id?: number; defaultBranch?: string; files?: Record<string, string> } = {}): FakeRepo {
    const repo: FakeRepo = {
      id: options.id ?? 1000 + this.repos.size,
      owner,
      name,
      defaultBranch: options.defaultBranch ?? 'main',
      branches: new Map(),
      trees: new Map(),
      pulls: new Map(),
      checkRuns: [],
      statuses: [],
      archived: false,
      deployments: [],
    };
    const tip = fakeSha(`${owner}/${name}@tip`);
    repo.branches.set(repo.defaultBranch, tip);
    repo.trees.set(tip, new Map(Object.entries(options.files ?? {})));
    this.parents.set(tip, []);
    this.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return repo;
  }

  repo(owner: string, name: string): FakeRepo {
    const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new Error(`no fake repository ${owner}/${name}`);
    return repo;
  }

  /** Set a file on the default branch (a new tip commit). */
  setDefaultFile(repo: FakeRepo, path: string, text: string | null): void {
    const old = repo.trees.get(repo.branches.get(repo.defaultBranch)!)!;
    const tree = new Map(old);
    if (text === null) tree.delete(path);
    else tree.set(path, text);
    const tip = fakeSha();
    repo.trees.set(tip, tree);
    this.parents.set(tip, [repo.branches.get(repo.defaultBranch)!]);
    repo.branches.set(repo.defaultBranch, tip);
  }

  addPull(repo: FakeRepo, pull: Partial<FakePull> & { number: number }, headFiles: Record<string, string> = {}): FakePull {
    const full: FakePull = {
      title: `Pull request ${pull.number}`,
      author: 'alice',
      state: 'OPEN',
      draft: false,
      baseRef: repo.defaultBranch,
      headRef: `topic-${pull.number}`,
      headSha: fakeSha(`${repo.name}#${pull.number}`),
      labels: [],
      reviews: [],
      files: [],
      fork: false,
      ...pull,
    };
    repo.pulls.set(full.number, full);
    repo.trees.set(full.headSha, new Map(Object.entries(headFiles)));
    if (!this.parents.has(full.headSha)) this.parents.set(full.headSha, [repo.branches.get(full.baseRef) ?? fakeSha(full.baseRef)]);
    return full;
  }

  /** Move a pull request's head (a push). */
  push(repo: FakeRepo, pull: FakePull, headFiles?: Record<string, string>): string {
    const previous = repo.trees.get(pull.headSha) ?? new Map();
    const old = pull.headSha;
    pull.headSha = fakeSha();
    this.parents.set(pull.headSha, [old]);
    repo.trees.set(pull.headSha, headFiles ? new Map(Object.entries(headFiles)) : new Map(previous));
    return pull.headSha;
  }

  addCheckRun(repo: FakeRepo, run: Partial<FakeCheckRun> & { name: string; headSha: string; appId: number }): FakeCheckRun {
    const full: FakeCheckRun = {
      id: this.nextCheckRunId++,
      status: 'completed',
      conclusion: 'success',
      title: null,
      summary: null,
      text: null,
      externalId: null,
      detailsUrl: null,
      annotations: [],
      startedAt: '2026-11-20T10:00:00Z',
      completedAt: '2026-11-20T10:05:00Z',
      ...run,
    };
    repo.checkRuns.push(full);
    return full;
  }

  /** A deployment of `sha` to `environment` (production by default), with no status yet. */
  addDeployment(repo: FakeRepo, deployment: Partial<FakeDeployment> & { sha: string }): FakeDeployment {
    const full: FakeDeployment = { id: this.nextDeploymentId++, environment: 'production', createdAt: new Date(this.now()).toISOString(), statuses: [], ...deployment };
    repo.deployments.push(full);
    return full;
  }

  /** Post a deployment status (it becomes the deployment's latest). */
  addDeploymentStatus(deployment: FakeDeployment, state: FakeDeploymentStatus['state'], more: Partial<FakeDeploymentStatus> = {}): FakeDeploymentStatus {
    const status: FakeDeploymentStatus = { state, description: null, createdAt: new Date(this.now()).toISOString(), logUrl: null, environmentUrl: null, ...more };
    deployment.statuses.push(status);
    return status;
  }

  /** Mark `pull` merged by our app, as a squash commit `sha` on its base branch (the new tip). */
  landByApp(repo: FakeRepo, pull: FakePull, sha = fakeSha()): string {
    pull.state = 'MERGED';
    pull.mergeCommit = sha;
    pull.mergedBy = { login: this.appSlug, bot: true };
    pull.mergedAt = new Date(this.now()).toISOString();
    const before = repo.branches.get(pull.baseRef) ?? '';
    const tree = new Map(repo.trees.get(before) ?? []);
    repo.trees.set(sha, tree);
    this.parents.set(sha, [before]);
    repo.branches.set(pull.baseRef, sha);
    return sha;
  }

  /** Our app's check runs on a commit. */
  ourRuns(repo: FakeRepo, sha?: string): FakeCheckRun[] {
    return repo.checkRuns.filter((r) => r.appId === this.appId && (sha === undefined || r.headSha === sha));
  }

  fail(failure: Omit<Failure, 'times'> & { times?: number }): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** Requests other than authentication (tokens are cached for an hour; they are not per evaluation). */
  apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.kind !== 'auth');
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** Asked for every request the listening server takes: a fault to inject, or null (random faults; see ChaosFault). */
  chaos: ((request: { method: string; path: string }) => ChaosFault | null) | null = null;
  /** The faults the listening server injected, in order. */
  readonly chaosLog: Array<{ method: string; path: string; fault: ChaosFault }> = [];

  /** Called with every request as it arrives (the production bench waits on these). */
  onRequest: ((request: RecordedRequest) => void) | null = null;

  private record(request: RecordedRequest): void {
    this.requests.push(request);
    this.onRequest?.(request);
  }

  /** Requests as GitHub counts them: a conditional request answered 304 is not counted. */
  count(): { rest: number; graphql: number; total: number; writes: number } {
    const api = this.apiRequests().filter((r) => r.status !== 304);
    const rest = api.filter((r) => r.kind === 'rest').length;
    const graphql = api.filter((r) => r.kind === 'graphql').length;
    const writes = api.filter((r) => r.method !== 'GET' && r.kind === 'rest').length;
    return { rest, graphql, total: rest + graphql, writes };
  }

  install(): this {
    const scope = nock(this.origin).persist();
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const fake = this;
      scope.intercept(/.*/, method).reply(function (uri, body) {
        try {
          const answer = fake.handle(method, uri, body, this.req.headers as Record<string, string | string[] | undefined>);
          // In memory, a hung request is a gateway timeout: what a client sees of one, sooner.
          const [status, data, headers] = answer === HANG ? [504, { message: 'fake GitHub: no answer (hung)' }, {}] : answer;
          // A text body without its length keeps fetch waiting for the stream's end.
          return typeof data === 'string' ? [status, data, { ...headers, 'content-length': String(Buffer.byteLength(data)) }] : [status, data, headers];
        } catch (err) {
          fake.problems.push(`fake GitHub crashed on ${method} ${uri}: ${(err as Error).stack}`);
          return [500, { message: 'fake crashed' }];
        }
      });
    }
    this.scopes.push(scope);
    return this;
  }

  /**
   * The same fake as a real HTTP server on 127.0.0.1 (for an app in another
   * process, or Probot's production Octokit over real sockets). Construct the
   * fake with `FakeGitHub.listening()`, which knows the port before the origin.
   */
  static async listening(options: { appId?: number; installationId?: number; prefix?: string } = {}): Promise<{ fake: FakeGitHub; close(): Promise<void> }> {
    let fake: FakeGitHub | undefined;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const method = req.method ?? 'GET';
        const fault = fake!.chaos?.({ method, path: new URL(req.url ?? '/', fake!.origin).pathname }) ?? null;
        if (fault) fake!.chaosLog.push({ method, path: req.url ?? '/', fault });
        if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (fault?.kind === 'reset' && !fault.after) return void req.socket.destroy();
        if (fault?.kind === 'hang') return; // closed by the client's deadline, or by close()
        let status = 500;
        let data: unknown = { message: 'fake crashed' };
        let headers: Record<string, string> = {};
        if (fault?.kind === 'status') [status, data, headers] = [fault.status, fault.body ?? { message: `fake fault ${fault.status}` }, fault.headers ?? {}];
        else {
          try {
            const answer = fake!.handle(method, req.url ?? '/', Buffer.concat(chunks).toString('utf8'), req.headers);
            if (answer === HANG) return; // never answered: the client waits until it gives up or dies
            [status, data, headers] = answer;
          } catch (err) {
            fake!.problems.push(`fake GitHub crashed on ${req.method} ${req.url}: ${(err as Error).stack}`);
          }
        }
        if (fault?.kind === 'reset') return void req.socket.destroy(); // done, and the answer lost
        if (fault?.kind === 'late') {
          // Until then, or until the client is gone (killed): a test's process does not wait out an answer no one reads.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, fault.ms);
            res.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (req.socket.destroyed) return;
        }
        const text = typeof data === 'string' ? data : JSON.stringify(data);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...fake!.responseHeaders?.(), ...headers, 'content-length': String(Buffer.byteLength(text)) });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // `prefix: '/api/v3'` serves it as GitHub Enterprise does, for an app configured with GHE_HOST.
    fake = new FakeGitHub({ ...options, baseUrl: `http://127.0.0.1:${port}${options.prefix ?? ''}` });
    return {
      fake,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  uninstall(): void {
    for (const s of this.scopes) s.persist(false);
    nock.cleanAll();
    this.scopes = [];
  }

  // ---------------------------------------------------------------- routing

  private handle(method: string, uri: string, rawBody: unknown, headers: Record<string, string | string[] | undefined>): [number, unknown, Record<string, string>] | typeof HANG {
    const url = new URL(uri, this.origin);
    const accept = String(headers.accept ?? '');
    let body: unknown = rawBody;
    if (typeof rawBody === 'string' && rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        /* keep text */
      }
    }
    const signIn = this.oauth.handle(method, url, this.prefix, body, headers);
    if (signIn) return signIn;
    if (url.pathname === this.graphqlPath && method === 'POST') return this.graphql(body as { query: string; variables?: Record<string, unknown> });
    if (!url.pathname.startsWith(`${this.prefix}/`)) {
      this.problems.push(`${method} ${url.pathname}: outside the API prefix ${this.prefix}`);
      return [404, { message: 'Not Found' }, {}];
    }
    const path = url.pathname.slice(this.prefix.length);
    const token = String(headers.authorization ?? '').replace(/^(token|bearer) /i, '');
    const client = this.deployTriggerTokens.has(token) ? 'deploy-trigger' : 'app';
    const operation = operationOf(method, path, client);
    const kind = /\/access_tokens$/.test(path) ? 'auth' : 'rest';
    const recorded: RecordedRequest = { method, path, query: url.searchParams, accept, body, kind, operation, at: performance.now() };
    this.record(recorded);
    this.problems.push(...restRequestProblems(method, path, body === '' ? undefined : body, client));

    const failure = this.failures.find((f) => f.times > 0 && (!f.method || f.method === method) && f.match.test(path));
    if (failure) {
      failure.times--;
      recorded.status = failure.status;
      return [failure.status, failure.body ?? { message: `fake failure ${failure.status}` }, failure.headers ?? {}];
    }
    const answer = this.rest(method, path, url.searchParams, accept, body, String(headers['if-none-match'] ?? ''));
    if (answer !== HANG) recorded.status = answer[0];
    return answer;
  }

  private rest(method: string, path: string, query: URLSearchParams, accept: string, body: unknown, ifNoneMatch = ''): [number, unknown, Record<string, string>] | typeof HANG {
    const json = (status: number, data: unknown, headers: Record<string, string> = {}): [number, unknown, Record<string, string>] => [
      status,
      data,
      { 'content-type': 'application/json; charset=utf-8', ...headers },
    ];
    let m: RegExpExecArray | null;
    if ((m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path)) && method === 'POST') {
      return json(201, { token: `ghs_fake${m[1]}`, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { checks: 'write' }, repository_selection: 'all' });
    }
    if (path === '/app' && method === 'GET') return json(200, { id: this.appId, slug: this.appSlug, name: this.appSlug });
    if (path === '/app/installations' && method === 'GET') return json(200, [{ id: this.installationId, account: { login: 'octo' } }]);
    if (path === '/installation/repositories' && method === 'GET') {
      const repositories = [...this.repos.values()].map((r) => ({ id: r.id, name: r.name, full_name: `${r.owner}/${r.name}`, owner: { login: r.owner }, archived: r.archived }));
      return json(200, { total_count: repositories.length, repositories });
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/(.*)$/.exec(path))) {
      const repo = this.repos.get(`${m[1]}/${m[2]}`.toLowerCase());
      if (!repo) return json(404, { message: 'Not Found' });
      return this.repoRest(repo, method, m[3], query, accept, body, json, ifNoneMatch);
    }
    return json(404, { message: 'Not Found' });
  }

  private repoRest(
    repo: FakeRepo,
    method: string,
    rest: string,
    query: URLSearchParams,
    accept: string,
    body: unknown,
    json: (status: number, data: unknown, headers?: Record<string, string>) => [number, unknown, Record<string, string>],
    ifNoneMatch = '',
  ): [number, unknown, Record<string, string>] | typeof HANG {
    const git = this.git.rest(repo, method, rest, query, body, json);
    if (git !== null) return git;
    const landing = this.landingRest(repo, method, rest, query, body, json);
    if (landing !== null) return landing;
    let m: RegExpExecArray | null;
    if (rest === 'deployments' && method === 'POST') {
      const input = body as { ref: string; environment?: string };
      const deployment = this.addDeployment(repo, { sha: repo.branches.get(input.ref) ?? input.ref, environment: input.environment ?? 'production' });
      return json(201, { id: deployment.id, sha: deployment.sha, ref: input.ref, environment: deployment.environment });
    }
    if ((m = /^deployments\/(\d+)\/statuses$/.exec(rest)) && method === 'POST') {
      const deployment = repo.deployments.find((d) => d.id === Number(m![1]));
      if (!deployment) return json(404, { message: 'Not Found' });
      const input = body as { state: string; description?: string; log_url?: string };
      this.addDeploymentStatus(deployment, input.state.toUpperCase() as FakeDeploymentStatus['state'], { description: input.description ?? null, logUrl: input.log_url ?? null });
      this.onDeploymentStatus(repo, deployment);
      return json(201, { id: deployment.statuses.length, state: input.state });
    }
    if ((m = /^contents\/(.+)$/.exec(rest)) && method === 'GET') {
      const path = decodeURIComponent(m[1]);
      const ref = query.get('ref');
      const sha = ref ? (repo.branches.get(ref) ?? ref) : repo.branches.get(repo.defaultBranch)!;
      const text = repo.trees.get(sha)?.get(path);
      if (text === undefined) return json(404, { message: 'Not Found' });
      // As GitHub: an ETag of what was answered; asked again with it, 304 and no body (not counted).
      const etag = `"${fakeSha(`${accept.includes('raw') ? 'raw' : 'json'}:${text}`)}"`;
      if (ifNoneMatch === etag) return [304, '', { etag }];
      if (!accept.includes('raw')) return json(200, { type: 'file', path, content: Buffer.from(text).toString('base64'), encoding: 'base64' }, { etag });
      return [200, text, { 'content-type': 'application/vnd.github.raw; charset=utf-8', etag }];
    }
    if ((m = /^pulls\/(\d+)$/.exec(rest)) && method === 'GET') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      if (accept.includes('diff')) {
        const lines = pull.files.reduce((n, f) => n + f.additions + f.deletions, 0);
        if (this.diffTooLarge.has(pull.number) || pull.files.length > 300 || lines > 20_000) {
          return json(406, {
            message: `Sorry, the diff exceeded the maximum number of ${pull.files.length > 300 ? 'files (300)' : 'lines (20000)'}. Consider using 'List pull requests files' API or locally cloning the repository instead.`,
            errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
          });
        }
        return [200, unifiedDiff(pull.files), { 'content-type': 'text/plain; charset=utf-8' }];
      }
      return json(200, this.restPull(repo, pull));
    }
    if ((m = /^pulls\/(\d+)\/files$/.exec(rest)) && method === 'GET') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      const perPage = Number(query.get('per_page') ?? 30);
      const page = Number(query.get('page') ?? 1);
      const slice = pull.files.slice((page - 1) * perPage, page * perPage).map((f) => ({
        sha: fakeSha(f.path),
        filename: f.path,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        changes: f.additions + f.deletions,
        ...(f.previousPath ? { previous_filename: f.previousPath } : {}),
        ...(f.patch !== undefined ? { patch: f.patch } : {}),
      }));
      const last = Math.max(1, Math.ceil(pull.files.length / perPage));
      const headers: Record<string, string> = {};
      if (page < last) {
        const link = (p: number) => `<${this.baseUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}/files?per_page=${perPage}&page=${p}>`;
        headers.link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
      }
      return json(200, slice, headers);
    }
    if ((m = /^compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)$/.exec(rest)) && method === 'GET') {
      const fromHead = this.ancestors(m[2]);
      const fromBase = this.ancestors(m[1]);
      const behind = [...fromBase].filter((s) => !fromHead.has(s)).length;
      const ahead = [...fromHead].filter((s) => !fromBase.has(s)).length;
      const status = behind === 0 ? (ahead === 0 ? 'identical' : 'ahead') : ahead === 0 ? 'behind' : 'diverged';
      return json(200, { merge_base_commit: { sha: this.mergeBases.get(`${m[1]}...${m[2]}`) ?? m[1] }, status, ahead_by: ahead, behind_by: behind, total_commits: ahead, commits: [], files: [] });
    }
    if ((m = /^issues\/(\d+)\/labels$/.exec(rest)) && method === 'POST') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      for (const label of (body as { labels: string[] }).labels) if (!pull.labels.includes(label)) pull.labels.push(label);
      return json(200, pull.labels.map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false })));
    }
    if ((m = /^pulls\/(\d+)\/requested_reviewers$/.exec(rest)) && method === 'POST') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      return json(...this.orgs.requestReviewers(repo, pull, body as { reviewers?: string[]; team_reviewers?: string[] }));
    }
    if (rest === 'check-runs' && method === 'POST') {
      const b = body as Record<string, unknown> & { output?: Record<string, unknown> };
      const run = this.addCheckRun(repo, {
        appId: this.appId,
        name: String(b.name),
        headSha: String(b.head_sha),
        status: b.conclusion ? 'completed' : String(b.status ?? 'queued'),
        conclusion: (b.conclusion as string | undefined) ?? null,
        title: (b.output?.title as string | undefined) ?? null,
        summary: (b.output?.summary as string | undefined) ?? null,
        text: (b.output?.text as string | undefined) || null,
        externalId: (b.external_id as string | undefined) || null,
        detailsUrl: (b.details_url as string | undefined) ?? null,
        annotations: [...((b.output?.annotations as unknown[] | undefined) ?? [])],
        completedAt: (b.completed_at as string | undefined) ?? null,
      });
      return json(201, { id: run.id, head_sha: run.headSha, name: run.name, status: run.status, conclusion: run.conclusion });
    }
    if ((m = /^check-runs\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const run = repo.checkRuns.find((r) => r.id === Number(m![1]));
      if (!run) return json(404, { message: 'Not Found' });
      const b = body as Record<string, unknown> & { output?: Record<string, unknown> };
      // GitHub keeps a completed run completed; moving it back is refused here so the app must not try.
      if (run.status === 'completed' && b.status !== undefined && b.status !== 'completed') {
        return json(422, { message: 'A completed check run cannot go back to ' + String(b.status) });
      }
      if (b.status !== undefined) run.status = String(b.status);
      if (b.conclusion !== undefined) {
        run.conclusion = String(b.conclusion);
        run.status = 'completed';
      } else if (b.status !== undefined && b.status !== 'completed') run.conclusion = null;
      if (b.external_id !== undefined) run.externalId = String(b.external_id) || null;
      if (b.details_url !== undefined) run.detailsUrl = String(b.details_url);
      if (b.output) {
        run.title = (b.output.title as string | undefined) ?? run.title;
        run.summary = (b.output.summary as string | undefined) ?? run.summary;
        if (b.output.text !== undefined) run.text = String(b.output.text) || null;
        run.annotations.push(...((b.output.annotations as unknown[] | undefined) ?? []));
      }
      return json(200, { id: run.id, status: run.status, conclusion: run.conclusion });
    }
    return json(404, { message: 'Not Found' });
  }

  /** Merge bases for the compare endpoint, `base...head` → SHA. */
  readonly mergeBases = new Map<string, string>();

  // ---------------------------------------------------------------- landing

  /** Commit SHA → parent SHAs (heads, tips, merges and updates the fake made). */
  readonly parents = new Map<string, string[]>();
  readonly merges: FakeMerge[] = [];
  readonly dispatches: Array<{ repo: string; body: unknown }> = [];
  readonly deletedBranches: Array<{ repo: string; branch: string }> = [];
  readonly branchUpdates: Array<{ repo: string; number: number; from: string; to: string }> = [];
  /** Decides how each merge call is answered (default: normally); `sha` is the one the call pins. */
  mergeFault: (pull: FakePull, sha: string | undefined) => MergeFault = () => 'none';
  /**
   * The SHA of a commit the merge call makes, given its files; fakeSha() unless
   * a test gives it another (an end-to-end test commits them to a real git trunk).
   */
  commitSha: (repo: FakeRepo, pull: FakePull, files: Map<string, string>) => string = () => fakeSha();
  /** Called after a deployment status is posted over REST (a test delivers GitHub's deployment_status webhook). */
  onDeploymentStatus: (repo: FakeRepo, deployment: FakeDeployment) => void = () => {};
  /** The installation was granted `workflows` (default not: merge-gate does not ask for it). */
  workflowsPermission = false;

  /** Commits reachable from `sha` (itself included). */
  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.parents.get(s) ?? []));
    }
    return seen;
  }

  /** What GitHub answers for `mergeable` now (each read takes the next of `mergeableSeq`), REST and GraphQL alike. */
  private mergeableNow(pull: FakePull): boolean | null {
    return pull.state !== 'OPEN' ? null : pull.mergeableSeq?.length ? pull.mergeableSeq.shift()! : pull.mergeable === undefined ? true : pull.mergeable;
  }

  /** The tree id of a commit: the same files, the same id. */
  treeOid(repo: FakeRepo, sha: string): string {
    return fakeSha(`tree:${JSON.stringify([...(repo.trees.get(sha) ?? new Map<string, string>())].sort(([a], [b]) => a.localeCompare(b)))}`);
  }

  /** The files of a merge of `head` into `base`: the three-way merge every merge of the fake makes (github-fake-git.ts). */
  mergedFiles(repo: FakeRepo, base: string, head: string): Map<string, string> {
    return this.git.threeWay(repo, base, head).files;
  }

  /** GitHub's test merge of an open pull request (parents: base tip, head), made on first sight. */
  testMerge(repo: FakeRepo, pull: FakePull): string | null {
    const base = repo.branches.get(pull.baseRef);
    if (pull.state !== 'OPEN' || base === undefined || pull.mergeable === false) return null;
    const sha = fakeSha(`test-merge:${base}:${pull.headSha}`);
    if (!repo.trees.has(sha)) {
      repo.trees.set(sha, this.mergedFiles(repo, base, pull.headSha));
      this.parents.set(sha, [base, pull.headSha]);
    }
    return sha;
  }

  private restPull(repo: FakeRepo, pull: FakePull) {
    const mergeable = this.mergeableNow(pull);
    const full = `${repo.owner}/${repo.name}`;
    return {
      number: pull.number,
      state: pull.state === 'OPEN' ? 'open' : 'closed',
      title: pull.title,
      html_url: `https://github.com/${full}/pull/${pull.number}`,
      user: { login: pull.author },
      draft: pull.draft,
      merged: pull.state === 'MERGED',
      merge_commit_sha: pull.mergeCommit ?? null,
      merged_at: pull.mergedAt ?? null,
      // REST names an app's bot `<slug>[bot]`.
      merged_by: pull.mergedBy ? { login: pull.mergedBy.bot && !pull.mergedBy.login.endsWith('[bot]') ? `${pull.mergedBy.login}[bot]` : pull.mergedBy.login, type: pull.mergedBy.bot ? 'Bot' : 'User' } : null,
      mergeable,
      mergeable_state: mergeable === null ? 'unknown' : mergeable ? 'clean' : 'dirty',
      head: { sha: pull.headSha, ref: pull.headRef, repo: { full_name: pull.fork ? `fork-of-${pull.author}/${repo.name}` : full } },
      base: { ref: pull.baseRef, sha: repo.branches.get(pull.baseRef) ?? fakeSha(pull.baseRef), repo: { full_name: full, default_branch: repo.defaultBranch } },
    };
  }

  /** PUT …/merge: the SHA pinned, GitHub's refusals, and the commits each method puts on the base. */
  private mergePull(repo: FakeRepo, pull: FakePull, body: { sha?: string; merge_method?: string }): [number, unknown] | typeof HANG {
    const record = (status: number, merged: boolean) => this.merges.push({ repo: `${repo.owner}/${repo.name}`, number: pull.number, sha: String(body.sha), method: String(body.merge_method ?? 'merge'), status, merged });
    // First: a fault function may also move the head (a push racing the merge).
    const fault = this.mergeFault(pull, body.sha);
    if (pull.state !== 'OPEN') {
      record(405, false);
      return [405, { message: 'Pull Request is not mergeable' }];
    }
    if (body.sha !== undefined && body.sha !== pull.headSha) {
      record(409, false);
      return [409, { message: 'Head branch was modified. Review and try the merge again.' }];
    }
    const workflow = pull.files.find((f) => f.path.startsWith('.github/workflows/'));
    if (workflow && !this.workflowsPermission) {
      record(403, false);
      return [403, { message: `refusing to allow a GitHub App to create or update workflow \`${workflow.path}\` without \`workflows\` permission` }];
    }
    if (pull.mergeRefusal) {
      record(pull.mergeRefusal.status, false);
      return [pull.mergeRefusal.status, { message: pull.mergeRefusal.message }];
    }
    if (pull.mergeable === false) {
      record(405, false);
      return [405, { message: 'Pull Request is not mergeable' }];
    }
    if (fault === 'fail-before') {
      record(502, false);
      return [502, { message: 'Server Error' }];
    }
    if (fault === 'hang-before') {
      record(0, false);
      return HANG;
    }
    this.performMerge(repo, pull, body.merge_method ?? 'merge');
    if (fault === 'fail-after') {
      record(502, true);
      return [502, { message: 'Server Error' }];
    }
    if (fault === 'hang-after') {
      record(0, true);
      return HANG;
    }
    record(200, true);
    return [200, { sha: pull.mergeCommit, merged: true, message: 'Pull Request successfully merged' }];
  }

  /** The merge GitHub makes for the merge call of our app (also: one finished a moment after GitHub answered 502). */
  performMerge(repo: FakeRepo, pull: FakePull, method: string): string {
    const before = repo.branches.get(pull.baseRef)!;
    let after = before;
    const count = method === 'rebase' ? (pull.commitCount ?? 1) : 1;
    for (let i = 0; i < count; i++) {
      // A three-way merge of the head into the base (theirs over ours, should both have changed a file): the tree staging makes.
      const files = this.mergedFiles(repo, before, pull.headSha);
      const sha = this.commitSha(repo, pull, files);
      this.parents.set(sha, method === 'merge' ? [after, pull.headSha] : [after]);
      repo.trees.set(sha, files);
      after = sha;
    }
    pull.state = 'MERGED';
    pull.mergeCommit = after;
    pull.mergedAt = new Date(this.now()).toISOString();
    pull.mergedBy = { login: 'merge-gate[bot]', bot: true }; // the merge call is the app's
    this.git.moveRef(repo, pull.baseRef, after);
    return after;
  }

  private landingRest(
    repo: FakeRepo,
    method: string,
    rest: string,
    query: URLSearchParams,
    body: unknown,
    json: (status: number, data: unknown, headers?: Record<string, string>) => [number, unknown, Record<string, string>],
  ): [number, unknown, Record<string, string>] | typeof HANG | null {
    const full = `${repo.owner}/${repo.name}`;
    let m: RegExpExecArray | null;
    if ((m = /^pulls\/(\d+)\/merge$/.exec(rest)) && method === 'PUT') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      const answer = this.mergePull(repo, pull, (body ?? {}) as { sha?: string; merge_method?: string });
      return answer === HANG ? HANG : json(answer[0], answer[1]);
    }
    if ((m = /^pulls\/(\d+)\/update-branch$/.exec(rest)) && method === 'PUT') {
      const pull = repo.pulls.get(Number(m[1]));
      if (!pull) return json(404, { message: 'Not Found' });
      const expected = (body as { expected_head_sha?: string } | undefined)?.expected_head_sha;
      if (expected !== undefined && expected !== pull.headSha) return json(422, { message: "expected head sha didn't match current head ref." });
      if (pull.updateConflict) return json(422, { message: 'merge conflict between base and head' });
      const from = pull.headSha;
      const base = repo.branches.get(pull.baseRef)!;
      pull.headSha = fakeSha();
      this.parents.set(pull.headSha, [from, base]);
      repo.trees.set(pull.headSha, this.mergedFiles(repo, base, from));
      this.branchUpdates.push({ repo: full, number: pull.number, from, to: pull.headSha });
      return json(202, { message: 'Updating pull request branch.', url: `https://github.com/${full}/pull/${pull.number}` });
    }
    if (rest === 'pulls' && method === 'GET') {
      const state = query.get('state') ?? 'open';
      const base = query.get('base');
      const pulls = [...repo.pulls.values()].filter((p) => (state === 'all' || (state === 'open') === (p.state === 'OPEN')) && (!base || p.baseRef === base));
      const perPage = Number(query.get('per_page') ?? 30);
      const page = Number(query.get('page') ?? 1);
      const slice = pulls.slice((page - 1) * perPage, page * perPage).map((p) => this.restPull(repo, p));
      const last = Math.max(1, Math.ceil(pulls.length / perPage));
      const headers: Record<string, string> = {};
      if (page < last) headers.link = `<${this.baseUrl}/repos/${full}/pulls?state=${state}&per_page=${perPage}&page=${page + 1}>; rel="next"`;
      return json(200, slice, headers);
    }
    if ((m = /^git\/ref\/(.+)$/.exec(rest)) && method === 'GET') {
      const ref = decodeURIComponent(m[1]);
      const branch = ref.replace(/^heads\//, '');
      const sha = repo.branches.get(branch);
      if (!ref.startsWith('heads/') || sha === undefined) return json(404, { message: 'Not Found' });
      return json(200, { ref: `refs/${ref}`, node_id: 'REF', url: `${this.baseUrl}/repos/${full}/git/refs/${ref}`, object: { sha, type: 'commit', url: '' } });
    }
    if ((m = /^git\/refs\/(.+)$/.exec(rest)) && method === 'DELETE') {
      const ref = decodeURIComponent(m[1]);
      const branch = ref.replace(/^heads\//, '');
      if (!repo.branches.has(branch)) return json(422, { message: 'Reference does not exist' });
      this.git.moveRef(repo, branch, null);
      this.deletedBranches.push({ repo: full, branch });
      return [204, '', {}];
    }
    if ((m = /^git\/commits\/([0-9a-f]+)$/.exec(rest)) && method === 'GET') {
      const parents = this.parents.get(m[1]);
      if (!parents) return json(404, { message: 'Not Found' });
      return json(200, { sha: m[1], tree: { sha: this.treeOid(repo, m[1]), url: '' }, parents: parents.map((sha) => ({ sha, url: '', html_url: '' })) });
    }
    if (rest === 'git/commits' && method === 'POST') {
      // A commit of a tree the fake knows (by its id: the files of a commit that has it), on these parents.
      const input = body as { message: string; tree: string; parents: string[] };
      const files = [...repo.trees.keys()].find((c) => this.treeOid(repo, c) === input.tree);
      if (files === undefined || input.parents.some((p) => !this.parents.has(p))) return json(422, { message: 'Tree or parent SHA does not exist' });
      const sha = this.git.commit(repo, input.parents, new Map(repo.trees.get(files)));
      return json(201, { sha, tree: { sha: input.tree, url: '' }, parents: input.parents.map((p) => ({ sha: p, url: '', html_url: '' })), message: input.message });
    }
    if (rest === 'pulls' && method === 'POST') {
      // A pull request of a branch of the repository (its head commit and its tree as they are), opened by the app.
      const input = body as { title: string; body?: string; head: string; base: string };
      const headSha = repo.branches.get(input.head);
      if (headSha === undefined || !repo.branches.has(input.base)) return json(422, { message: 'Validation Failed' });
      const number = Math.max(0, ...repo.pulls.keys()) + 1;
      const tree = repo.trees.get(headSha);
      const pull = this.addPull(repo, { number, title: input.title, body: input.body ?? '', author: this.appSlug, byApp: true, baseRef: input.base, headRef: input.head, headSha });
      if (tree) repo.trees.set(headSha, tree); // addPull sets a new head's files: this head is a whole commit
      return json(201, { number, html_url: `https://github.com/${full}/pull/${number}`, state: 'open', title: pull.title });
    }
    if (rest === 'dispatches' && method === 'POST') {
      this.dispatches.push({ repo: full, body });
      return [204, '', {}];
    }
    return null;
  }

  // ---------------------------------------------------------------- GraphQL

  private graphql(body: { query: string; variables?: Record<string, unknown> }): [number, unknown, Record<string, string>] {
    const name = /(?:query|mutation)\s+(\w+)/.exec(body.query)?.[1] ?? null;
    this.record({ method: 'POST', path: '/graphql', query: new URLSearchParams(), accept: '', body, kind: 'graphql', operation: name, variables: body.variables, at: performance.now() });
    const invalid = validateQuery(body.query);
    if (invalid.length > 0) {
      this.problems.push(...invalid.map((e) => `GraphQL ${name}: ${e.message}`));
      return [200, { errors: invalid.map((e) => ({ message: e.message })) }, {}];
    }
    const failure = this.failures.find((f) => f.times > 0 && (!f.method || f.method === 'POST') && name !== null && f.match.test(name));
    if (failure) {
      failure.times--;
      return [failure.status, failure.body ?? { message: `fake failure ${failure.status}` }, failure.headers ?? {}];
    }
    const result = graphqlSync({ schema: githubSchema(), source: body.query, rootValue: this.root(), variableValues: body.variables });
    // An error GitHub itself answers (NOT_FOUND, FORBIDDEN) is shaped as GitHub's, with its `type`; any other is the fake's problem.
    const answered = (e: { originalError?: unknown }) => e.originalError instanceof FakeGraphQLError;
    const unexpected = result.errors?.filter((e) => !answered(e)) ?? [];
    if (unexpected.length) {
      this.problems.push(...unexpected.map((e) => `GraphQL ${name} execution: ${e.message} at ${JSON.stringify(e.path)}`));
    }
    const errors = result.errors?.map((e) => (answered(e) ? { type: (e.originalError as FakeGraphQLError).type, path: e.path, locations: e.locations, message: e.message } : e));
    return [200, JSON.stringify(errors ? { ...result, errors } : result), { 'content-type': 'application/json; charset=utf-8' }];
  }

  private root() {
    return {
      rateLimit: () => ({ remaining: this.rateRemaining, resetAt: new Date(this.now() + 3600_000).toISOString(), cost: 1, limit: 5000, used: 5000 - this.rateRemaining, nodeCount: 1 }),
      organization: ({ login }: { login: string }) => this.orgs.organization(login),
      repository: ({ owner, name }: { owner: string; name: string }) => {
        const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
        return repo ? this.repoNode(repo) : null;
      },
      revertPullRequest: ({ input }: { input: { pullRequestId: string; title?: string; body?: string; draft?: boolean } }) => {
        const [repo, original] = this.byNodeId(input.pullRequestId);
        if (original.state !== 'MERGED') throw new Error('Only merged pull requests can be reverted');
        const number = Math.max(0, ...repo.pulls.keys()) + 1;
        const revert = this.addPull(repo, {
          number,
          title: input.title ?? `Revert "${original.title}"`,
          body: input.body ?? `Reverts ${repo.owner}/${repo.name}#${original.number}`,
          author: this.appSlug,
          byApp: true,
          draft: input.draft ?? false,
          baseRef: original.baseRef,
          headRef: `revert-${original.number}-${original.headRef}`,
        });
        return { pullRequest: this.pullNode(repo, original), revertPullRequest: this.pullNode(repo, revert) };
      },
    };
  }

  /** GraphQL node id of a pull request. */
  pullNodeId(repo: FakeRepo, pull: FakePull): string {
    return `PR_${repo.id}_${pull.number}`;
  }

  private byNodeId(id: string): [FakeRepo, FakePull] {
    const m = /^PR_(\d+)_(\d+)$/.exec(id);
    const repo = m ? [...this.repos.values()].find((r) => r.id === Number(m[1])) : undefined;
    const pull = m ? repo?.pulls.get(Number(m[2])) : undefined;
    if (!repo || !pull) throw new Error(`Could not resolve to a node with the global id of '${id}'`);
    return [repo, pull];
  }

  private repoNode(repo: FakeRepo) {
    return {
      nameWithOwner: `${repo.owner}/${repo.name}`,
      url: `https://github.com/${repo.owner}/${repo.name}`,
      defaultBranchRef: { name: repo.defaultBranch, target: () => this.commitNode(repo, repo.branches.get(repo.defaultBranch)!) },
      pullRequest: ({ number }: { number: number }) => {
        const pull = repo.pulls.get(number);
        return pull ? this.pullNode(repo, pull) : null;
      },
      pullRequests: (args: { states?: string[]; labels?: string[]; orderBy?: { field: string; direction: string }; first?: number; after?: string }) => {
        let pulls = [...repo.pulls.values()].filter((p) => (!args.states || args.states.includes(p.state)) && (!args.labels || args.labels.some((l) => p.labels.includes(l))));
        // Created in the order of their numbers.
        pulls = pulls.sort((a, b) => (args.orderBy?.field === 'UPDATED_AT' ? updatedAt(a).localeCompare(updatedAt(b)) : 0) || a.number - b.number);
        if (args.orderBy?.direction === 'DESC') pulls.reverse();
        return connection(
          pulls.map((p) => this.pullNode(repo, p)),
          args,
        );
      },
      deployments: (args: { environments?: string[]; orderBy?: { field: string; direction: string }; first?: number; after?: string }) => {
        const chosen = repo.deployments
          .filter((d) => !args.environments || args.environments.includes(d.environment))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
        if (args.orderBy?.direction === 'DESC') chosen.reverse();
        return connection(
          chosen.map((d) => this.deploymentNode(repo, d)),
          args,
        );
      },
      object: ({ oid, expression }: { oid?: string; expression?: string }) => {
        const sha = oid ?? expression ?? '';
        return repo.trees.has(sha) ? this.commitNode(repo, sha) : null;
      },
    };
  }

  private deploymentNode(repo: FakeRepo, d: FakeDeployment) {
    const latest = d.statuses.at(-1);
    return {
      databaseId: d.id,
      commitOid: d.sha,
      createdAt: d.createdAt,
      environment: d.environment,
      commit: repo.trees.has(d.sha) ? this.commitNode(repo, d.sha) : null,
      statuses: (args: { first?: number; after?: string }) => connection(deploymentStatuses(d), args),
      latestStatus: latest
        ? { state: latest.state, description: latest.description, createdAt: latest.createdAt, logUrl: latest.logUrl ?? null, environmentUrl: latest.environmentUrl ?? null }
        : null,
    };
  }

  private pullNode(repo: FakeRepo, pull: FakePull) {
    const actor = (login: string, bot = false) => ({ __typename: bot ? 'Bot' : 'User', login });
    return {
      id: this.pullNodeId(repo, pull),
      body: pull.body ?? '',
      viewerDidAuthor: Boolean(pull.byApp),
      merged: pull.state === 'MERGED',
      mergedAt: pull.mergedAt ?? null,
      updatedAt: updatedAt(pull),
      timelineItems: (args: { itemTypes?: string[]; first?: number; after?: string }) => connection(timelineItems(pull, args.itemTypes), args),
      mergeCommit: pull.mergeCommit ? this.commitNode(repo, pull.mergeCommit) : null,
      mergedBy: pull.mergedBy ? actor(pull.mergedBy.login, pull.mergedBy.bot) : null,
      number: pull.number,
      title: pull.title,
      url: `https://github.com/${repo.owner}/${repo.name}/pull/${pull.number}`,
      state: pull.state,
      isDraft: pull.draft,
      changedFiles: pull.files.length,
      additions: pull.files.reduce((n, f) => n + f.additions, 0),
      deletions: pull.files.reduce((n, f) => n + f.deletions, 0),
      author: actor(pull.author, Boolean(pull.byApp)),
      baseRefName: pull.baseRef,
      baseRefOid: repo.branches.get(pull.baseRef) ?? fakeSha(pull.baseRef),
      baseRef: () => {
        const tip = repo.branches.get(pull.baseRef);
        return tip === undefined ? null : { __typename: 'Ref', name: pull.baseRef, target: this.commitNode(repo, tip) };
      },
      headRefName: pull.headRef,
      headRefOid: pull.headSha,
      mergeable: () => ({ true: 'MERGEABLE', false: 'CONFLICTING', null: 'UNKNOWN' })[String(this.mergeableNow(pull)) as 'true' | 'false' | 'null'],
      headRepository: { nameWithOwner: pull.fork ? `fork-of-${pull.author}/${repo.name}` : `${repo.owner}/${repo.name}` },
      potentialMergeCommit: () => {
        const sha = this.testMerge(repo, pull);
        return sha === null ? null : this.commitNode(repo, sha);
      },
      labels: (args: { first?: number; after?: string }) => connection(pull.labels.map((name) => ({ name })), args),
      reviews: (args: { first?: number; after?: string }) =>
        connection(
          pull.reviews.map((r) => ({ author: actor(r.login, r.bot), state: r.state, submittedAt: r.state === 'PENDING' ? null : r.submittedAt, commit: { oid: r.commit } })),
          args,
        ),
      files: (args: { first?: number; after?: string }) =>
        connection(
          pull.files.map((f) => ({ path: f.path, additions: f.additions, deletions: f.deletions, changeType: { added: 'ADDED', modified: 'MODIFIED', removed: 'DELETED', renamed: 'RENAMED', copied: 'COPIED' }[f.status] })),
          args,
        ),
      commits: (args: { first?: number; last?: number }) => connection([{ commit: this.commitNode(repo, pull.lastListedCommit ?? pull.headSha) }], args),
    };
  }

  private commitNode(repo: FakeRepo, sha: string) {
    const runNode = (r: FakeCheckRun) => ({
      __typename: 'CheckRun',
      databaseId: r.id,
      name: r.name,
      status: r.status.toUpperCase(),
      conclusion: r.conclusion ? r.conclusion.toUpperCase() : null,
      title: r.title,
      summary: r.summary,
      text: r.text,
      externalId: r.externalId,
      startedAt: r.startedAt,
      completedAt: r.completedAt,
      detailsUrl: r.detailsUrl,
      checkSuite: { app: { databaseId: r.appId } },
    });
    const runs = repo.checkRuns.filter((r) => r.headSha === sha);
    const statuses = repo.statuses.filter((s) => s.sha === sha);
    return {
      __typename: 'Commit',
      oid: sha,
      tree: () => ({ oid: this.treeOid(repo, sha) }),
      parents: (args: { first?: number }) => connection((this.parents.get(sha) ?? []).map((oid) => ({ oid })), args),
      // The merged pull request that made this commit on its base branch; open ones whose head it is.
      associatedPullRequests: (args: { first?: number }) =>
        connection(
          [...repo.pulls.values()].filter((p) => p.mergeCommit === sha || (p.state === 'OPEN' && p.headSha === sha)).map((p) => this.pullNode(repo, p)),
          args,
        ),
      file: ({ path }: { path: string }) => {
        const text = repo.trees.get(sha)?.get(path);
        if (text === undefined) return null;
        const truncated = this.truncatedBlobs.has(path);
        const binary = this.binaryBlobs.has(path);
        return { object: { __typename: 'Blob', text: truncated || binary ? null : text, isBinary: binary, isTruncated: truncated } };
      },
      statusCheckRollup: () =>
        runs.length + statuses.length === 0
          ? null
          : {
              contexts: (args: { first?: number; after?: string }) =>
                connection(
                  [...runs.map(runNode), ...statuses.map((s) => ({ __typename: 'StatusContext', context: s.context, state: s.state, createdAt: s.createdAt, targetUrl: s.targetUrl ?? null }))],
                  args,
                ),
            },
      checkSuites: (args: { first?: number; filterBy?: { appId?: number } }) => {
        // One suite per app and `suite` number, in the order their first run was made.
        const suites = [...new Map(runs.map((r) => [`${r.appId}:${r.suite ?? 0}`, { appId: r.appId, suite: r.suite ?? 0 }])).values()].filter(
          (s) => !args.filterBy?.appId || s.appId === args.filterBy.appId,
        );
        return connection(
          suites.map(({ appId, suite }) => ({
            checkRuns: (a: { first?: number; filterBy?: { checkName?: string; checkType?: string } }) => {
              const named = runs.filter((r) => r.appId === appId && (r.suite ?? 0) === suite && (!a.filterBy?.checkName || r.name === a.filterBy.checkName));
              // checkType LATEST: only the newest run of each name.
              const shown = a.filterBy?.checkType === 'LATEST' ? named.filter((r) => !named.some((o) => o.name === r.name && o.id > r.id)) : named;
              return connection(shown.map(runNode), a);
            },
          })),
          args,
        );
      },
    };
  }
}

/** The diff media type's text for a pull request's files. */
export function unifiedDiff(files: FakeFile[]): string {
  return files
    .map((f) => {
      const from = f.previousPath ?? f.path;
      const header = [`diff --git a/${from} b/${f.path}`];
      if (f.status === 'renamed') header.push('similarity index 90%', `rename from ${from}`, `rename to ${f.path}`);
      if (f.patch === undefined) return [...header, `Binary files a/${from} and b/${f.path} differ`].join('\n');
      header.push(`--- ${f.status === 'added' ? '/dev/null' : `a/${from}`}`, `+++ ${f.status === 'removed' ? '/dev/null' : `b/${f.path}`}`);
      return [...header, f.patch].join('\n');
    })
    .join('\n')
    .concat('\n');
}
