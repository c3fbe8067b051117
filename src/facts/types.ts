// What the rules may know about one pull request. Rules see nothing else: the
// GitHub implementation (src/github/facts.ts) and the local-git implementation
// (src/facts/git.ts) both produce exactly this.

export interface Actor {
  login: string;
  /** A bot account (GitHub App or `[bot]` user). */
  bot: boolean;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'DISMISSED' | 'COMMENTED' | 'PENDING';

export interface Review {
  author: Actor;
  state: ReviewState;
  /** The head commit the review was given on. */
  commitSha: string | null;
  /** ISO 8601. */
  submittedAt: string;
}

export type FileStatus = 'added' | 'modified' | 'removed' | 'renamed' | 'copied';

export interface ChangedFile {
  path: string;
  /** For renames and copies. */
  previousPath?: string;
  status: FileStatus;
  additions: number;
  deletions: number;
}

/** One line of a hunk; `content` without the diff's leading +, - or space. */
export interface DiffLine {
  type: 'add' | 'del' | 'normal';
  content: string;
  /** Line number in the new file, for added and context lines. */
  newLine?: number;
  /** Line number in the old file, for deleted and context lines. */
  oldLine?: number;
}

export interface FileDiff {
  path: string;
  previousPath?: string;
  lines: DiffLine[];
}

export type CheckState =
  | 'success'
  | 'failure'
  | 'pending'
  | 'neutral'
  | 'skipped'
  | 'cancelled'
  | 'timed_out'
  | 'action_required'
  | 'stale'
  | 'error';

export interface CheckResult {
  name: string;
  source: 'check_run' | 'status';
  state: CheckState;
  /** ISO 8601; the latest of several results with one name wins. */
  updatedAt: string;
}

/** A deployment status's state (GitHub's, lower-cased). */
export type DeploymentState = 'pending' | 'queued' | 'in_progress' | 'waiting' | 'success' | 'failure' | 'error' | 'inactive';

/** The newest deployment to the policy's `trunk.environment`, and its latest status. */
export interface DeploymentFacts {
  environment: string;
  /** The deployed commit. */
  sha: string;
  /** ISO 8601. */
  createdAt: string;
  /** The latest status; null while none has been posted (the deployment is still starting). */
  status: {
    state: DeploymentState;
    /** Set by whoever posted it (the deploy trigger puts the cut-off reason here): data, never markup. */
    description: string | null;
    /** ISO 8601: since when this state holds. */
    since: string;
    /** The status's log URL, else its environment URL. */
    url: string | null;
  } | null;
  /** The revert merge-gate proposed for this commit, when one is open (looked up only with `trunk.revert`). */
  revert?: { number: number; url: string } | null;
}

export interface PullRequestFacts {
  repository: string;
  number: number;
  title: string;
  url: string;
  author: Actor;
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  labels: string[];
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
  /** Every review with an opinion, oldest first. */
  reviews?: Review[];
  files?: ChangedFile[];
  /** Hunks; fetched only when a rule needs them (see `needsHunks`). */
  diff?: FileDiff[];
  /** The flag registry's text at the base and at the head (null: the file does not exist). */
  registry?: { base: string | null; head: string | null };
  /** `.gitattributes` at the base (null: none): a change cannot mark its own files generated. */
  gitattributes?: string | null;
  checks?: CheckResult[];
  /** The newest deployment to `trunk.environment` (null: none yet); gathered only when `trunk` is configured. */
  deployment?: DeploymentFacts | null;
  /** CODEOWNERS read at the base (GitHub's order: .github/, the root, docs/); null: none. Gathered only when a `reviews.owners` group has `codeowners: true`. */
  codeowners?: { path: string; text: string } | null;
  /** Members of every team `reviews.owners` names (in `from`, and in CODEOWNERS), by `@org/team` lower-cased; gathered only when an owners group applies. */
  teams?: Record<string, TeamMembership>;
}

/** A team's members (logins), or why they could not be read (the group it belongs to then blocks, saying so). */
export type TeamMembership = { members: string[] } | { error: string };

/** Which facts an evaluation needs, derived from the policy alone. */
export interface FactNeeds {
  reviews: boolean;
  files: boolean;
  checks: boolean;
  /** Path of the flag registry to read at base and head, when `flags` is configured. */
  registryPath: string | null;
  gitattributes: boolean;
  /** With `trunk` configured: the environment whose newest deployment to read, and the label a proposed revert carries (`trunk.revert`). Absent: not needed. */
  trunk?: { environment: string; revertLabel: string | null } | null;
  /** With `reviews.owners`: the teams its `from` lists name, and whether CODEOWNERS is read (its teams are read too). Absent: not needed. */
  owners?: { teams: string[]; codeowners: boolean } | null;
}

/**
 * Where facts come from. `load` reads what `needs` asks for in as few requests
 * as the source allows; `diff` is asked only when a rule needs hunks.
 */
export interface FactsSource {
  load(needs: FactNeeds): Promise<PullRequestFacts>;
  diff(facts: PullRequestFacts): Promise<FileDiff[]>;
  /**
   * Members of these teams (`@org/team` lower-cased), asked after `load` only for the teams of
   * the `reviews.owners` groups the changed files make apply and that `load` left out of
   * `facts.teams` (src/rules/owners.ts, ownersTeamsToRead): a pull request that touches no
   * group costs no membership read. Optional: a source may fill `facts.teams` in `load` instead.
   */
  teams?(teams: string[]): Promise<Record<string, TeamMembership>>;
}
