// The merge queue's state (plain JSON: store.ts keeps JSON.stringify of it) and
// the small queries over it that core.ts, plan.ts and describe.ts share.
import { initialRate, type FailureRate } from './adapt.js';
import type { DequeueWhy, QueuedPull, QueueStats } from './types.js';

export interface QueueEntry extends QueuedPull {
  joinedAt: number;
  /** Join order (a later join has a higher number). */
  seq: number;
  /** Why its own rules hold it (null: not held). */
  held: string | null;
  /** Runs it failed alone. */
  fails: number;
  /** It failed alone and waits for its retry (behind the batches then under test; the search hedges what would follow it). */
  suspect: boolean;
  /** Bisection: at most this many in its batch, all of group `group` (null: the adaptive size). */
  cap: number | null;
  group: number | null;
  /** Bisection: the failed batch it came from (both halves share it); null: none. */
  lineage?: number | null;
  /**
   * Bisection: the other pull requests of the failed batch it came from not yet seen passing. Once all have passed (an empty list),
   * that failure is its own: it counts as one more failed run (evidence instead of a retry). null: none.
   */
  witnesses?: number[] | null;
  /**
   * More failed runs it was in (the runs on top of a failed batch, finished as evidence): for each, the other pull requests of
   * that run's tree not yet seen passing. Each that empties counts one more failed run, as `witnesses` does.
   */
  moreFailures?: number[][];
  /** A failed batch it was in has counted as one bad in the failure rate (its leaving later counts no more). */
  counted?: boolean;
  /** Why its last run alone failed (while it waits for its retry or for its witnesses). */
  failure?: DequeueWhy | null;
}

/** `failed`: its checks failed while a batch it is built on had not passed yet — the failure may be theirs; it counts once they pass. */
export type BatchState = 'building' | 'testing' | 'passed' | 'failed' | 'landing';

export interface Batch {
  id: number;
  pulls: QueuedPull[];
  /** The batch it is built on top of; null: built on the base head `onto`. */
  parent: number | null;
  /** The commit it was built on (the base head, or the parent's staging head). */
  onto: string;
  state: BatchState;
  sha: string | null;
  tree: string | null;
  /** When the current state began. */
  since: number;
  ciStartedAt: number | null;
  pending: string[];
  /** Why it failed (state `failed`). */
  failure?: DequeueWhy | null;
  /**
   * It was built on a batch that failed, and was about to finish: it runs on for its result, which is evidence about the pull
   * requests of its tree (`below`: those of the batches under it that had not passed), until `until`. It never lands.
   */
  evidence?: { below: number[]; until: number } | null;
  /** A probe: a pull request under suspicion (a bisection half, a suspect) tested alone on the base head beside the chain (plan.ts). */
  probe?: boolean;
}

export interface QueueState {
  version: 1;
  branch: string;
  /** The base branch's head as the core knows it. */
  base: string;
  /** The base moved to an unknown head (a land failed for it): nothing is built or landed until `base-moved` says where. */
  baseUnknown: boolean;
  /** A `base-moved` that came while a batch was landing: applied once the land's answer is in. */
  movedWhileLanding: string | null;
  nextBatch: number;
  nextSeq: number;
  nextGroup: number;
  /** In queue order: priority first, then join order. */
  pulls: QueueEntry[];
  batches: Batch[];
  rate: FailureRate;
  /** After a failed build, no build before this instant. */
  buildPausedUntil: number | null;
  /** The last `wake` asked for. */
  wakeAt: number | null;
  stats: QueueStats;
}

export function emptyStats(): QueueStats {
  return { depth: 0, batches: { passed: 0, failed: 0, timedOut: 0, conflicted: 0, invalidated: 0 }, ciRuns: 0, landed: 0, timesToLand: [] };
}

export function newState(branch: string, baseSha: string): QueueState {
  return {
    version: 1, branch, base: baseSha, baseUnknown: false, movedWhileLanding: null, nextBatch: 1, nextSeq: 1, nextGroup: 1,
    pulls: [], batches: [], rate: initialRate(), buildPausedUntil: null, wakeAt: null, stats: emptyStats(),
  };
}

export function entry(s: QueueState, n: number): QueueEntry | undefined {
  return s.pulls.find((p) => p.number === n);
}

export function batchById(s: QueueState, id: number): Batch | undefined {
  return s.batches.find((b) => b.id === id);
}

/** The batch a pull request is tested in (not one run on for evidence; one of the chain rather than its probe). */
export function batchOf(s: QueueState, n: number): Batch | undefined {
  const holding = s.batches.filter((b) => !b.evidence && b.pulls.some((p) => p.number === n));
  return holding.find((b) => !b.probe) ?? holding[0];
}

/** The batches a batch is built on, nearest first. */
export function ancestors(s: QueueState, b: Batch): Batch[] {
  const out: Batch[] = [];
  for (let p = b.parent === null ? undefined : batchById(s, b.parent); p; p = p.parent === null ? undefined : batchById(s, p.parent)) out.push(p);
  return out;
}

/**
 * Runs it failed: alone, plus the batch it was bisected from and the runs kept for evidence, each once every other pull request
 * in it has passed.
 */
export function failedRuns(p: QueueEntry): number {
  return p.fails + (p.witnesses?.length === 0 ? 1 : 0) + (p.moreFailures ?? []).filter((w) => w.length === 0).length;
}

export function queueOrder(a: QueueEntry, b: QueueEntry): number {
  return a.priority === b.priority ? a.seq - b.seq : a.priority ? -1 : 1;
}

export function samePulls(a: readonly QueuedPull[], b: readonly QueuedPull[]): boolean {
  return a.length === b.length && a.every((p, i) => p.number === b[i].number && p.headSha === b[i].headSha);
}

export const pullOf = (e: QueueEntry): QueuedPull => ({ number: e.number, headSha: e.headSha, priority: e.priority });
