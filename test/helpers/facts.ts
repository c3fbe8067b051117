// Builders for PullRequestFacts in tests: valid defaults, override what matters.
import type {
  Actor,
  ChangedFile,
  CheckResult,
  CheckState,
  DeploymentFacts,
  DeploymentState,
  DiffLine,
  FileDiff,
  FileStatus,
  PullRequestFacts,
  Review,
  ReviewState,
} from '../../src/facts/types.js';

export const BASE_SHA = 'b'.repeat(40);
export const HEAD_SHA = 'a'.repeat(40);
export const OLD_SHA = 'c'.repeat(40);
export const AUTHOR = 'author';

/**
 * A valid open pull request from @author against main, with no reviews, no
 * files, no hunks, no checks, no .gitattributes and no flag registry. Overrides
 * replace top-level fields as given (no deep merge).
 */
export function makeFacts(overrides: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return {
    repository: 'acme/widgets',
    number: 42,
    title: 'Make widgets faster',
    url: 'https://github.com/acme/widgets/pull/42',
    author: { login: AUTHOR, bot: false },
    base: { ref: 'main', sha: BASE_SHA },
    head: { ref: 'feature/faster-widgets', sha: HEAD_SHA },
    labels: [],
    draft: false,
    state: 'open',
    reviews: [],
    files: [],
    diff: [],
    registry: { base: null, head: null },
    gitattributes: null,
    checks: [],
    ...overrides,
  };
}

/** An actor; logins ending in `[bot]` are bots unless told otherwise. */
export function actor(login: string, bot = login.endsWith('[bot]')): Actor {
  return { login, bot };
}

let clock = 0;
/** A monotonically later ISO timestamp, for reviews and checks given in order. */
export function tick(): string {
  clock += 1;
  return new Date(Date.UTC(2026, 0, 1) + clock * 60_000).toISOString();
}

/** A review, by default on the head commit and submitted after every earlier `review()`. */
export function review(
  login: string,
  state: ReviewState,
  opts: { commitSha?: string | null; submittedAt?: string; bot?: boolean } = {},
): Review {
  return {
    author: actor(login, opts.bot),
    state,
    commitSha: opts.commitSha === undefined ? HEAD_SHA : opts.commitSha,
    submittedAt: opts.submittedAt ?? tick(),
  };
}

/** A changed file (modified unless told otherwise). */
export function changed(
  path: string,
  additions: number,
  deletions: number,
  opts: { status?: FileStatus; previousPath?: string } = {},
): ChangedFile {
  const file: ChangedFile = { path, status: opts.status ?? 'modified', additions, deletions };
  if (opts.previousPath !== undefined) file.previousPath = opts.previousPath;
  return file;
}

/**
 * Hunks for one file from unified-diff body lines ("+x", "-x", " x"), numbered
 * from `oldStart` / `newStart`. A line "@@ <old> <new>" starts a new hunk there.
 * Contents carry no marker, as src/facts/diff.ts gives them.
 */
export function hunks(path: string, body: readonly string[], start: { oldStart?: number; newStart?: number } = {}): FileDiff {
  let oldLine = start.oldStart ?? 1;
  let newLine = start.newStart ?? 1;
  const lines: DiffLine[] = [];
  for (const raw of body) {
    const header = /^@@ (\d+) (\d+)$/.exec(raw);
    if (header) {
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    const marker = raw[0];
    const content = raw.slice(1);
    if (marker === '+') lines.push({ type: 'add', content, newLine: newLine++ });
    else if (marker === '-') lines.push({ type: 'del', content, oldLine: oldLine++ });
    else if (marker === ' ') lines.push({ type: 'normal', content, oldLine: oldLine++, newLine: newLine++ });
    else throw new Error(`hunks(): line must start with "+", "-", " " or be "@@ old new": ${JSON.stringify(raw)}`);
  }
  return { path, lines };
}

/** The ChangedFile that matches `diff`'s added and deleted line counts. */
export function changedFromHunks(diff: FileDiff, opts: { status?: FileStatus; previousPath?: string } = {}): ChangedFile {
  const additions = diff.lines.filter((l) => l.type === 'add').length;
  const deletions = diff.lines.filter((l) => l.type === 'del').length;
  return changed(diff.path, additions, deletions, opts);
}

/** A check run (or status) result. */
export function check(name: string, state: CheckState, updatedAt = tick(), source: CheckResult['source'] = 'check_run'): CheckResult {
  return { name, source, state, updatedAt };
}

export const DEPLOYED_SHA = '0123456789abcdef0123456789abcdef01234567';

/** The newest deployment to production, of DEPLOYED_SHA; `state` null: no status posted yet. */
export function deploymentFacts(state: DeploymentState | null, overrides: Partial<DeploymentFacts> = {}, description: string | null = 'cut off: 3 failed health probes'): DeploymentFacts {
  return {
    environment: 'production',
    sha: DEPLOYED_SHA,
    createdAt: '2026-11-22T10:00:00Z',
    status: state === null ? null : { state, description, since: '2026-11-22T10:05:00Z', url: 'https://deploy.example/log/1' },
    ...overrides,
  };
}
