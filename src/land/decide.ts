// Landing's decisions (SPEC §4), pure: whether a passing pull request lands,
// what an answer from GitHub's merge API means, whether the head branch may be
// deleted, and whose approvals still count after merge-gate brought a branch
// up to date. No I/O here; src/land/lander.ts acts on these.
import type { PullRequestFacts } from '../facts/types.js';
import { classifyError } from '../github/errors.js';
import { evaluate } from '../rules/index.js';
import { LandSchema, type LandPolicy, type Policy } from '../policy/schema.js';

/** The policy's `land` section, the schema's defaults when it has none. */
export function landPolicy(policy: Policy): LandPolicy {
  return policy.land ?? LandSchema.parse({});
}

export type LandDecision = { land: true } | { land: false; why: 'off' | 'label' | 'draft' };

/** Verdict `pass` given: does `land.mode` let it land, and is it ready? (DRY_RUN is the caller's.) */
export function shouldLand(land: LandPolicy, facts: Pick<PullRequestFacts, 'draft' | 'labels'>): LandDecision {
  if (land.mode === 'off') return { land: false, why: 'off' };
  if (facts.draft) return { land: false, why: 'draft' };
  if (land.mode === 'label' && !facts.labels.includes(land.label)) return { land: false, why: 'label' };
  return { land: true };
}

/** What a verdict rested on: the policy and the facts (as the rules saw them). */
export interface VerdictBasis {
  policy: Policy;
  facts: PullRequestFacts;
}

export type Recheck = { go: true } | { go: false; why: string };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Right before the merge call, under the branch's lock: does the verdict still
 * hold? `fresh` is what was read again just now. The head, the base (branch and
 * commit), the policy, the labels, the reviews and the trunk's deployment must
 * be the ones the verdict saw; the verdict computed again at `now` must pass
 * (a freeze that began, a check that turned); `land.mode` must still let it
 * land. What the two SHAs decide (files, hunks, the flag registry,
 * `.gitattributes`) is the verdict's. Otherwise: do not merge, evaluate again.
 */
export function recheckVerdict(seen: VerdictBasis, fresh: VerdictBasis, now: Date): Recheck {
  const [was, is] = [seen.facts, fresh.facts];
  if (is.state !== 'open') return { go: false, why: `it is ${is.state}` };
  if (is.head.sha !== was.head.sha) return { go: false, why: 'the head moved' };
  if (is.base.ref !== was.base.ref) return { go: false, why: `its base changed from ${was.base.ref} to ${is.base.ref}` };
  if (is.base.sha !== was.base.sha) return { go: false, why: `${is.base.ref} moved` };
  if (!same(seen.policy, fresh.policy)) return { go: false, why: 'the policy changed' };
  if (!same([...was.labels].sort(), [...is.labels].sort())) return { go: false, why: 'its labels changed' };
  if (!same(was.reviews, is.reviews)) return { go: false, why: 'its reviews changed' };
  if (!same(was.deployment, is.deployment)) return { go: false, why: "the trunk's deployment changed" };
  const facts: PullRequestFacts = { ...is, files: was.files, diff: was.diff, registry: was.registry, gitattributes: was.gitattributes };
  const verdict = evaluate(fresh.policy, facts, now);
  if (verdict.outcome !== 'pass') return { go: false, why: `its verdict is now ${verdict.outcome}` };
  const decision = shouldLand(landPolicy(fresh.policy), is);
  if (!decision.land) return { go: false, why: `it may not land now (${decision.why})` };
  return { go: true };
}

/** What an answer of the merge API means. */
export type MergeOutcome =
  | { kind: 'head-moved'; message: string }
  | { kind: 'refused'; status: number; message: string; workflows: boolean }
  /** 5xx, a timeout, a dropped connection: it may have merged. Read the pull request before anything else. */
  | { kind: 'uncertain'; message: string };

const WORKFLOWS = /\bworkflows?\b.*\bpermission|\bpermission\b.*\bworkflows?\b/i;

export const WORKFLOW_PATH = /^\.github\/workflows\//;

/** Classifies an error thrown by the merge call. `touchesWorkflows`: the pull request changes `.github/workflows/`. */
export function classifyMergeError(error: unknown, touchesWorkflows: boolean): MergeOutcome {
  const err = (error ?? {}) as { status?: number; message?: string; response?: { data?: { message?: string } } };
  const message = String(err.response?.data?.message ?? err.message ?? error).trim();
  const status = err.status;
  if (status === 409) return { kind: 'head-moved', message };
  // A rate limit (a secondary limit's 403 with retry-after): GitHub did nothing, and it goes away; never a refusal.
  if (status === 403 && classifyError(error).retryable) return { kind: 'uncertain', message };
  if (status === 405 || status === 422 || status === 403) {
    const workflows = WORKFLOWS.test(message) || (status === 403 && touchesWorkflows);
    return { kind: 'refused', status, message, workflows };
  }
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429 && status !== 408) {
    return { kind: 'refused', status, message, workflows: false };
  }
  return { kind: 'uncertain', message };
}

export interface BranchFacts {
  deleteBranch: boolean;
  /** `owner/repo` of the head branch's repository (null: the fork is gone). */
  headRepo: string | null;
  baseRepo: string;
  headRef: string;
  defaultBranch: string;
  /** Base branches of the repository's other open pull requests. */
  otherBases: readonly string[];
}

export type DeleteDecision = { delete: true } | { delete: false; why: string };

/** `land.delete_branch`: never a fork's branch, never the default branch, never the base of another open pull request. */
export function branchDeletion(b: BranchFacts): DeleteDecision {
  if (!b.deleteBranch) return { delete: false, why: 'land.delete_branch is false' };
  if (b.headRepo === null || b.headRepo.toLowerCase() !== b.baseRepo.toLowerCase()) return { delete: false, why: "the branch is in a fork: not merge-gate's to delete" };
  if (b.headRef === b.defaultBranch) return { delete: false, why: 'it is the default branch' };
  if (b.otherBases.includes(b.headRef)) return { delete: false, why: 'another open pull request uses it as its base' };
  return { delete: true };
}

/**
 * A branch update merge-gate asked for: `fromHead` brought up to date by
 * merging `baseSha`, which must give a head whose tree is `tree` (GitHub's
 * test merge of the two); `toHead` once seen and verified; asked at `at` (ms).
 */
export interface BranchUpdate {
  fromHead: string;
  baseSha: string;
  tree: string | null;
  toHead: string | null;
  at: number;
}

/** An update not seen within this long is not merge-gate's any more: a head shaped like it is someone else's. */
export const UPDATE_MAX_AGE_MS = 60 * 60_000;

/**
 * The tree bringing `head` up to date with `base` must give: that of GitHub's
 * test merge, when it is the merge of exactly these two (else null: unknown,
 * and no head will be taken for the update).
 */
export function expectedUpdateTree(testMerge: { tree: string; parents: readonly string[] } | null, head: string, base: string): string | null {
  if (!testMerge || testMerge.parents.length !== 2) return null;
  return testMerge.parents.includes(head) && testMerge.parents.includes(base) ? testMerge.tree : null;
}

/**
 * Is `head` what merge-gate's update of an earlier head produced: a merge
 * commit whose parents are that head and the base head it merged, in that
 * order, whose tree is exactly the merge of the two (so it adds nothing but
 * the base: a hand-made merge of the same parents with anything else in it
 * does not match), seen within UPDATE_MAX_AGE_MS of the update? Returns the
 * update it is, or null.
 */
export function matchUpdate(updates: readonly BranchUpdate[], head: { sha: string; parents: readonly string[]; tree: string }, now: number): BranchUpdate | null {
  if (head.parents.length !== 2) return null;
  return (
    updates.find(
      (u) => u.toHead === null && u.tree !== null && now - u.at <= UPDATE_MAX_AGE_MS && u.fromHead === head.parents[0] && u.baseSha === head.parents[1] && u.tree === head.tree,
    ) ?? null
  );
}

/**
 * The heads whose approvals count for `head` under `reviews.fresh`: `head`
 * itself and, through verified updates (`toHead` set), every head merge-gate
 * brought up to date on the way to it.
 */
export function carriedHeads(updates: readonly BranchUpdate[], head: string): Set<string> {
  const heads = new Set([head]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const u of updates) {
      if (u.toHead !== null && heads.has(u.toHead) && !heads.has(u.fromHead)) {
        heads.add(u.fromHead);
        grew = true;
      }
    }
  }
  return heads;
}

/** The facts with approvals given on a carried head counted as given on the head (reviews.fresh). */
export function carryApprovals(facts: PullRequestFacts, heads: ReadonlySet<string>): PullRequestFacts {
  if (!facts.reviews || heads.size <= 1) return facts;
  return {
    ...facts,
    reviews: facts.reviews.map((r) => (r.commitSha !== null && r.commitSha !== facts.head.sha && heads.has(r.commitSha) ? { ...r, commitSha: facts.head.sha } : r)),
  };
}

/** Bounded retries while GitHub is still computing `mergeable`: the delay before attempt `n` (1-based), or null to give up. */
export function mergeableRetryDelay(attempt: number, options: { attempts: number; baseDelayMs: number }): number | null {
  return attempt >= options.attempts ? null : options.baseDelayMs * 2 ** (attempt - 1);
}

/** A pull request as `trunk-updated` names it. */
export interface TrunkUpdatedPull {
  number: number;
  title: string;
  url: string;
  author: string;
  head_sha: string;
}

/** The `trunk-updated` body (SPEC §4, §4a), exactly. */
export interface TrunkUpdated {
  type: 'trunk-updated';
  id: string;
  repository: string;
  branch: string;
  /** null only for a landing recorded before `before` was kept (the deploy trigger accepts a SHA or null). */
  before: string | null;
  after: string;
  /** The last of `pull_requests` (kept for receivers that read one). */
  pull_request: TrunkUpdatedPull;
  /** Every pull request the change brought, in the order they landed: one for a landing on its own, a batch's for the merge queue. */
  pull_requests: TrunkUpdatedPull[];
  landed_at: string;
}

/** What the builder is given: the pull requests the change brought, at least one; `pull_request` is derived (the last). */
export type TrunkUpdatedInput = Omit<TrunkUpdated, 'type' | 'pull_request' | 'pull_requests'> & { pull_requests: readonly [TrunkUpdatedPull, ...TrunkUpdatedPull[]] };

/**
 * The bytes a batch's titles share in the body. The deploy trigger refuses a body over 64 KiB, and a batch holds up to 100
 * pull requests whose titles are their authors' (256 characters of 4-byte or escaped characters each): with this budget the
 * rest of each entry (about 350 bytes at most) still fits. A landing on its own never comes near it.
 */
export const TITLES_BUDGET_BYTES = 16 * 1024;

/** `title` cut (with `…`) so that, as JSON, it takes at most `bytes`. */
function clipTitle(title: string, bytes: number): string {
  const size = (t: string) => Buffer.byteLength(JSON.stringify(t), 'utf8');
  if (size(title) <= bytes) return title;
  const chars = [...title];
  let n = chars.length;
  while (n > 0 && size(`${chars.slice(0, n).join('')}…`) > bytes) n = Math.floor(n * 0.9);
  return `${chars.slice(0, n).join('')}…`;
}

const pullOf = (p: TrunkUpdatedPull, titleBytes: number): TrunkUpdatedPull => ({ number: p.number, title: clipTitle(p.title, titleBytes), url: p.url, author: p.author, head_sha: p.head_sha });

export function trunkUpdated(e: TrunkUpdatedInput): TrunkUpdated {
  const pulls = e.pull_requests.map((p) => pullOf(p, Math.floor(TITLES_BUDGET_BYTES / e.pull_requests.length)));
  return {
    type: 'trunk-updated',
    id: e.id,
    repository: e.repository,
    branch: e.branch,
    before: e.before,
    after: e.after,
    pull_request: { ...pulls[pulls.length - 1] },
    pull_requests: pulls,
    landed_at: e.landed_at,
  };
}
