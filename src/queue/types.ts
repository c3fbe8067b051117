// The merge queue's contract (SPEC §4a): what the pure core (core.ts) is told
// (events), what it asks its shells to do (actions), and what a pull request's
// check says about it (PullStatus). The core owns QueueState; shells persist it
// as JSON (store.ts) and carry out actions. The bench's simulator drives the
// same core with a virtual clock. Every instant is milliseconds since the epoch.

/** `land.queue` as the core needs it (durations in ms). `staging: false` is landing without `land.queue`: batches of one, no staging branch, no CI of the queue's own. */
export interface QueueSettings {
  /** Most pull requests in one batch (the core may choose fewer: it adapts to the failure rate it observes). */
  batch: number;
  /** Batches under test at once. */
  speculative: number;
  /** A batch that is not full waits this long (from its first pull request's joining) for more before it starts. */
  waitMs: number;
  /** A batch whose required checks have not all concluded by then has failed. */
  timeoutMs: number;
  /** A pull request that fails alone is tested again this often before it leaves. */
  retries: number;
  staging: boolean;
}

/** One pull request, as it joins: its verdict passed on `headSha`. */
export interface QueuedPull {
  number: number;
  /** The evaluated head: what staging merges and what lands (SHA pinned). */
  headSha: string;
  /** `priority_label` is on it: it goes ahead of those without. */
  priority: boolean;
}

/** Why a pull request left the queue on the shell's word. */
export type LeaveReason = 'not-passing' | 'head-moved' | 'closed' | 'base-changed' | 'merged-elsewhere' | 'removed';

export type QueueEvent =
  /** Its verdict passed (again). Same head and already queued: nothing changes. A new head: it leaves and joins again at the back. */
  | { kind: 'join'; pull: QueuedPull }
  | { kind: 'leave'; number: number; reason: LeaveReason }
  /** Its rules say wait for now (a freeze, the trunk unhealthy): it keeps its place, nothing holding it lands. `reason: null` releases it. */
  | { kind: 'hold'; number: number; reason: string | null }
  /** A `build` finished: the staging branch's head and tree. */
  | { kind: 'built'; batch: number; sha: string; tree: string }
  /** While building `batch`, merging this pull request's head conflicted (`with`: what it conflicts with, for its check). */
  | { kind: 'conflict'; batch: number; number: number; with: string }
  /** A `build` failed for another reason (an API error): the batch is planned again. */
  | { kind: 'build-failed'; batch: number; message: string }
  /**
   * The required checks on a staging head: `pending` names those not concluded, or none while CI has reported none of them
   * (the shell's word: until then the check waits for CI to start); `failure` names the first failed one.
   */
  | { kind: 'checks'; batch: number; sha: string; outcome: 'pending'; pending: string[] }
  | { kind: 'checks'; batch: number; sha: string; outcome: 'success' }
  | { kind: 'checks'; batch: number; sha: string; outcome: 'failure'; check: string; url: string | null }
  /** A `land` finished: the base branch is now at `after`, every pull request of the batch merged. */
  | { kind: 'landed'; batch: number; after: string }
  /**
   * A `land` did not happen (or stopped part way for squash/rebase: `merged` lists the pull requests that did merge, in order, and
   * `after` the base head then). `base-moved`: the base is not where the batch was built; `tree-mismatch`: after the merges the base's
   * tree differs from the staging tree that passed; `recheck`: a pull request's rules no longer hold (it was sent `leave`/`hold` first);
   * `refused`: GitHub said no (`message`).
   */
  | { kind: 'land-failed'; batch: number; reason: 'base-moved' | 'tree-mismatch' | 'recheck' | 'refused'; message: string; merged: number[]; after: string | null }
  /** The base branch's head as read now (a push by anyone else, or at start). Equal to what the core expects: nothing changes. */
  | { kind: 'base-moved'; sha: string }
  /** Time passed: waits ending, timeouts. */
  | { kind: 'tick' };

export type QueueAction =
  /** Create (or reset) staging branch `ref` at `onto`, then merge each head in order with the merges API; answer `built`, `conflict` or `build-failed`. */
  | { kind: 'build'; batch: number; ref: string; onto: string; pulls: QueuedPull[] }
  /**
   * Land the batch: with staging, fast-forward the base (`onto`, the base head the batch was built on) to `stagingSha` for `method:
   * merge`, or merge each pull request in order (SHA pinned) and compare the base's tree with `stagingTree`; without staging
   * (`stagingSha` null) merge its one pull request. Re-check every pull request's rules first. Answer `landed` or `land-failed`.
   */
  | { kind: 'land'; batch: number; onto: string; pulls: QueuedPull[]; stagingSha: string | null; stagingTree: string | null }
  /** A staging branch no longer needed. */
  | { kind: 'delete'; ref: string }
  /** A pull request left the queue on the core's decision: say so on its check (completed/failure), with what to do. */
  | { kind: 'dequeue'; number: number; headSha: string; why: DequeueWhy }
  /** Something about these pull requests changed (position, batch, what it waits for): write their checks again from `describe`. */
  | { kind: 'notify'; numbers: number[] }
  /** Send `tick` at this instant (the earliest wait or timeout to come). */
  | { kind: 'wake'; at: number };

export type DequeueWhy =
  | { kind: 'failed'; check: string; url: string | null; stagingSha: string; attempts: number }
  | { kind: 'timeout'; stagingSha: string; attempts: number; afterMs: number }
  | { kind: 'conflict'; with: string };

/** What a queued pull request's check says (messages.ts renders it; SPEC §4a wording). */
export type PullStatus =
  | { kind: 'absent' }
  /** `queued: 2nd of 5 for main`; `held` when its own rules hold it. */
  | { kind: 'queued'; position: number; of: number; branch: string; held: string | null }
  /**
   * `testing in batch 12 with #41 #43 since 10:02 UTC (ci/test pending)`; `behind` when it waits for batches ahead to land.
   * `started: false`: CI has reported none of the required checks on the staging head yet (the check says it waits for them to start).
   */
  | { kind: 'testing'; batch: number; with: number[]; since: number; pending: string[]; started: boolean; behind: number[]; held: string | null }
  /** The batch is being built (staging branch). */
  | { kind: 'building'; batch: number; with: number[]; since: number }
  /** The batch passed and is landing (or waits for a hold to end). */
  | { kind: 'landing'; batch: number; with: number[]; since: number; held: string | null };

/** The staging branch of a batch (SPEC §4a). */
export function stagingRef(base: string, batch: number): string {
  return `merge-gate/queue/${base}/${batch}`;
}

/** The prefix every staging branch of a base shares (orphans are found by it at start). */
export function stagingPrefix(base: string): string {
  return `merge-gate/queue/${base}/`;
}

// core.ts provides (pure, no I/O, no clock of its own):
//   initialQueue(branch: string, baseSha: string): QueueState       — JSON-serialisable; store.ts keeps it
//   decide(state, event: QueueEvent, settings: QueueSettings, now: number): { state: QueueState; actions: QueueAction[] }
//   describe(state, number: number): PullStatus
//   queueStats(state): QueueStats                                   — for /metrics and the bench
export interface QueueStats {
  /** Pull requests queued now (in batches or waiting). */
  depth: number;
  batches: { passed: number; failed: number; timedOut: number; conflicted: number; invalidated: number };
  /** CI runs started (a batch built and tested counts one). */
  ciRuns: number;
  landed: number;
  /** Time from joining to landing of each landed pull request, ms (the last 1,000). */
  timesToLand: number[];
}
