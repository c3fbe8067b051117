// The app's own pages (SPEC §7: /queue, /pulls/<owner>/<repo>/<number>,
// /api/queue, sign-in): the contract between their parts. config.ts reads the
// settings; session.ts and oauth.ts sign people in; access.ts asks GitHub what
// they may read; src/history keeps each pull request's evaluations; views.ts
// reads the state database into the view models below; queue-page.ts and
// pull-page.ts render them (pure); routes.ts is the thin HTTP shell.
import type { Outcome, RuleResult } from '../rules/types.js';
import type { PullStatus } from '../queue/types.js';
import type { ReviewState } from '../facts/types.js';

/** The pages' settings (config.ts, from the environment). The pages are off (every path 404) unless GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and SESSION_SECRET are all set. */
export interface PagesConfig {
  clientId: string;
  clientSecret: string;
  /** SESSION_SECRET split on commas: the first seals new cookies, every one opens them (rotation). */
  sessionSecrets: string[];
  /**
   * MERGE_GATE_URL: the public address of the app's port (no trailing slash), e.g. https://merge-gate.example.com. It gives the OAuth
   * `redirect_uri` (<url>/login/callback), the check run's `details_url` (<url>/pulls/…) and the cookie's `Secure` flag (https). null:
   * GitHub uses the callback URL registered with the app, and the check links to the pull request as before.
   */
  publicUrl: string | null;
  /** Where people sign in: https://github.com, or <GHE_PROTOCOL>://<GHE_HOST>. */
  webOrigin: string;
  /** The REST API the person's token is used against: https://api.github.com, or <webOrigin>/api/v3. */
  apiBase: string;
  /** How long a session lasts (never longer than the person's token). Default 8 hours. */
  sessionTtlMs: number;
  /** How long GitHub's answer "this person may (not) read owner/repo" is remembered. Default 5 minutes; at most 10. */
  accessTtlMs: number;
}

/** A signed-in person: what the sealed session cookie carries. The token never leaves the cookie and memory: never logged, never rendered. */
export interface Session {
  login: string;
  userId: number;
  /** The person's user-to-server token, used only to ask GitHub which repositories they may read. */
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Random, per session: the CSRF token of POST /logout is derived from it. */
  nonce: string;
}

/** What the person may read, asked of GitHub with their token (`GET /repos/{owner}/{repo}` answering 200) and remembered for `accessTtlMs`. */
export interface RepoAccess {
  /**
   * Those of `repositories` (owner/repo) the person may read, spelled as given. A 404 or 403: not readable. A 401: the token is no
   * longer good ('signed-out'). Any other failure: not readable this time (fail closed), not remembered.
   */
  readable(session: Session, repositories: readonly string[]): Promise<Set<string> | 'signed-out'>;
}

/** One reviewer's standing opinion on the pull request, and whether it counted (src/history/record.ts). */
export interface ApprovalStanding {
  login: string;
  state: ReviewState;
  /** The head the review was given on. */
  commitSha: string | null;
  submittedAt: string;
  counted: boolean;
  /** Why it did not count, in words: "stale: approved abc1234, head is now def5678", "from a bot (ignore_bots)", "changes requested"; null when it counted. */
  why: string | null;
}

/** A `reviews.owners` group that applies, and who can approve (from src/rules/owners.ts' OwnersStanding). */
export interface OwnersGroupView {
  group: string;
  owners: string[];
  files: string[];
  required: number;
  approvers: string[];
  candidates: string[];
  blocked: string[];
  holds: boolean;
}

/** One evaluation of a pull request, as kept in the state database (a bounded history per pull request). */
export interface EvaluationRecord {
  /** owner/repo as GitHub spells it. */
  repository: string;
  number: number;
  /** When it was evaluated (ms); `lastAt` the latest of the identical evaluations folded into it (`seen` of them). */
  at: number;
  lastAt: number;
  seen: number;
  /** What asked for it: webhook names (`pull_request.synchronize`, `check_suite.completed`), `timer`, `restart`, `policy`, … (coalesced requests: several). */
  causes: string[];
  headSha: string;
  base: string;
  title: string;
  author: string;
  url: string;
  outcome: Outcome;
  /** The check's rows, in the same words. */
  results: RuleResult[];
  approvals: ApprovalStanding[];
  owners: OwnersGroupView[];
}

/** A pull request in a queue, as /queue shows it. */
export interface QueuePullView {
  number: number;
  /** From its latest evaluation (null: none recorded). */
  title: string | null;
  author: string | null;
  url: string | null;
  /** 1-based, in the queue's order. */
  position: number;
  /** The batch it is in (null: waiting for one). */
  batch: number | null;
  status: PullStatus;
  /** What its check says (src/queue/messages.ts), e.g. "testing in batch 12 with #41 #43 since 10:02 UTC (ci/test pending)". */
  says: string;
  joinedAt: number;
  /** Since when it is in its current state (ms). */
  since: number;
}

/** A batch that landed, with its pull requests' time in the queue. */
export interface LandingView {
  batch: number;
  sha: string | null;
  landedAt: number;
  pulls: Array<{ number: number; title: string | null; url: string | null; waitedMs: number | null }>;
}

/** One queue: a repository's base branch. */
export interface QueueView {
  installationId: number;
  repository: string;
  branch: string;
  pulls: QueuePullView[];
  /** The last landings, newest first (at most 10). */
  recent: LandingView[];
  /** The wait a pull request joining now can expect (the median time to land of the recent landings); null: no history yet. */
  expectedWaitMs: number | null;
}

/** GET /queue and /api/queue (the JSON leaves out `csrf`). */
export interface QueuePageView {
  login: string;
  generatedAt: number;
  queues: QueueView[];
  /** For the sign-out form. */
  csrf: string;
}

/** GET /pulls/<owner>/<repo>/<number>. */
export interface PullPageView {
  login: string;
  generatedAt: number;
  repository: string;
  number: number;
  /** The latest evaluation (null: none recorded yet: the page says so). */
  latest: EvaluationRecord | null;
  /** Where it is in its queue (null: not queued). */
  queue: { branch: string; pull: QueuePullView; of: number } | null;
  /** merge-gate landed it (null: not yet): as what commit, in which batch of the queue (null: on its own), when. */
  landed: { sha: string; batch: number | null; landedAt: number } | null;
  /** Newest first, each with what changed from the one before it (src/history/changes.ts). */
  history: Array<{ record: EvaluationRecord; changes: string[] }>;
  csrf: string;
}
