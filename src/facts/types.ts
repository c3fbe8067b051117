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
}

/** Which facts an evaluation needs, derived from the policy alone. */
export interface FactNeeds {
  reviews: boolean;
  files: boolean;
  checks: boolean;
  /** Path of the flag registry to read at base and head, when `flags` is configured. */
  registryPath: string | null;
  gitattributes: boolean;
}

/**
 * Where facts come from. `load` reads what `needs` asks for in as few requests
 * as the source allows; `diff` is asked only when a rule needs hunks.
 */
export interface FactsSource {
  load(needs: FactNeeds): Promise<PullRequestFacts>;
  diff(facts: PullRequestFacts): Promise<FileDiff[]>;
}
