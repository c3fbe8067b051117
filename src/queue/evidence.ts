// What runs say about the pull requests in them (SPEC §4a "failures"; core.ts
// calls these). Pure, on a draft of the queue's state. A bad pull request fails
// every run it is in, so a run that passed clears every pull request of its tree,
// and a failed run counts against one of them once all the others have passed:
// that is a failed run of its own, as good as failing alone (failedRuns).
import { observe } from './adapt.js';
import { removeBatch } from './plan.js';
import { ancestors, entry, failedRuns, type Batch, type QueueEntry, type QueueState } from './state.js';
import type { DequeueWhy, QueueAction, QueueSettings } from './types.js';

/** A run built on a failed batch runs on for evidence if it started within this share of the failed run's length after it. */
export const EVIDENCE_LAG = 0.1;

/**
 * The runs built on a failed batch hold its pull requests, so they are not needed to land; but after a failure the chain is
 * rebuilt at once, so those runs started with it and end within a minute of it. Each that started within EVIDENCE_LAG of the
 * failed run's length after it runs on (until twice that after now) for its result: one more failed run for the pull requests of
 * its tree (which saves a retry), or a pass that clears them all (the failure below was a flake).
 */
export function keepForEvidence(s: QueueState, failedBatch: Batch, now: number): void {
  if (failedBatch.ciStartedAt === null) return;
  const lag = EVIDENCE_LAG * (now - failedBatch.ciStartedAt);
  for (const b of s.batches) {
    if (b.state !== 'testing' || b.evidence || b.ciStartedAt === null || b.ciStartedAt - failedBatch.ciStartedAt > lag) continue;
    const below = ancestors(s, b);
    if (!below.includes(failedBatch)) continue;
    const unproven = below.filter((a) => a.state !== 'passed' && a.state !== 'landing');
    b.evidence = { below: unproven.flatMap((a) => a.pulls.map((p) => p.number)), until: now + 2 * lag };
  }
}

/** The pull requests of the trees that passed and have not landed yet (batches passed or landing, and what they are built on). */
export function seenPassing(s: QueueState): Set<number> {
  return new Set(s.batches.filter((x) => x.state === 'passed' || x.state === 'landing').flatMap((x) => [...treeOf(s, x)]));
}

/** The pull requests a batch's staging head holds beyond the base: its own and those of the batches it is built on. */
export function treeOf(s: QueueState, b: Batch): Set<number> {
  return new Set([b, ...ancestors(s, b)].flatMap((x) => x.pulls.map((p) => p.number)));
}

/**
 * The result of a run kept for evidence (keepForEvidence); it is then dropped. A pass: every pull request of its tree is good. A
 * failure (`why`): one more failed run for each of them, which counts once all the others of the tree have passed.
 */
export function evidenceFrom(s: QueueState, b: Batch, why: DequeueWhy | null, settings: QueueSettings, actions: QueueAction[]): void {
  const tree = [...b.pulls.map((p) => p.number), ...(b.evidence?.below ?? [])];
  removeBatch(s, b, actions);
  if (why === null) return exonerate(s, new Set(tree), settings, actions);
  // A pull request of the tree no longer queued may have been what failed it: then the run says nothing about the others.
  if (!tree.every((n) => entry(s, n))) return;
  const passed = seenPassing(s);
  for (const n of tree.filter((m) => !passed.has(m))) {
    const p = entry(s, n)!;
    p.moreFailures = [...(p.moreFailures ?? []), tree.filter((m) => m !== n && !passed.has(m))];
    p.failure ??= why;
    if (mayLeave(p, settings)) sendAway(s, p, actions);
  }
}

/** It leaves with more than `retries` failed runs, once it has failed alone or a run kept for evidence counts against it. */
function mayLeave(p: QueueEntry, settings: QueueSettings): boolean {
  return failedRuns(p) > settings.retries && (p.suspect || (p.moreFailures ?? []).some((w) => w.length === 0));
}

export function sendAway(s: QueueState, p: QueueEntry, actions: QueueAction[]): void {
  dequeue(s, p, { ...p.failure!, attempts: p.fails } as DequeueWhy, actions);
  if (!p.counted) s.rate = observe(s.rate, true);
}

/**
 * `good` passed (the tree of a batch that passed, or of a run kept for evidence): no evidence stands against them any more, and
 * the failed runs waiting for them count against the others; one with more than `retries` failed runs leaves without its retry.
 */
export function exonerate(s: QueueState, good: Set<number>, settings: QueueSettings, actions: QueueAction[]): void {
  for (const p of [...s.pulls]) {
    if (good.has(p.number)) {
      // Its failures were flakes, and it is no longer part of a bisection: it is batched as any other.
      Object.assign(p, { witnesses: null, moreFailures: [], lineage: null, group: null, cap: null });
      continue;
    }
    if (p.witnesses) p.witnesses = p.witnesses.filter((n) => !good.has(n));
    if (p.moreFailures) p.moreFailures = p.moreFailures.map((w) => w.filter((n) => !good.has(n)));
    if (mayLeave(p, settings)) sendAway(s, p, actions);
  }
}

export function dequeue(s: QueueState, p: QueueEntry, why: DequeueWhy, actions: QueueAction[]): void {
  s.pulls = s.pulls.filter((x) => x !== p);
  actions.push({ kind: 'dequeue', number: p.number, headSha: p.headSha, why });
}
