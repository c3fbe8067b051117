// Which batches should exist, given the queue as it is now, and which one lands
// next. Called by decide() after every event, on a draft of the state it may
// change. Pure.
//
// The plan is a walk down the queue from the base head. At each position it
// keeps the existing batch that holds exactly the next pull requests in queue
// order and is built on what the walk stands on (the base head, or the batch
// kept just before); the walk goes on from that batch. A suspect (a pull
// request that failed alone and waits for its retry) gets a batch of one built
// on what the walk stands on, and the walk goes on WITHOUT it: the chain behind
// a pull request that is probably bad does not include it, so when its retry
// fails too the chain's results stand (and when it passes, it lands first and
// the chain behind is rebuilt with it). Where no batch fits, the walk creates
// one (the adaptive size, or the bisection half's size) if a CI slot is free,
// and stops: nothing can be built on a batch before it is built. Every batch
// the walk did not keep is invalidated (its staging branch deleted), except the
// one landing, whose answer is awaited.
import { entry, pullOf, samePulls, type Batch, type QueueEntry, type QueueState } from './state.js';
import { stagingRef, type QueueAction, type QueueSettings } from './types.js';

/** After a failed build, builds wait this long (an API error is often brief; this keeps a lasting one from looping). */
export const BUILD_RETRY_MS = 60_000;

interface Gap {
  parent: Batch | null;
  pulls: QueueEntry[];
}

/** Whether batch `b` holds exactly the pull requests at positions i.. of the queue, none of them a suspect. */
function matchesAt(b: Batch, q: readonly QueueEntry[], i: number): boolean {
  return b.pulls.every((p, j) => q[i + j] !== undefined && !q[i + j].suspect && q[i + j].number === p.number && q[i + j].headSha === p.headSha);
}

/** How many pull requests from position i go into a new batch, and whether more could still join it. */
function sizeAt(q: readonly QueueEntry[], i: number, size: number): { n: number; open: boolean } {
  const first = q[i];
  const limit = first.cap ?? size;
  let n = 1;
  while (n < limit && i + n < q.length && !q[i + n].suspect && q[i + n].group === first.group) n++;
  return { n, open: n < limit && i + n === q.length && first.group === null };
}

export interface PlanResult {
  actions: QueueAction[];
  /** The earliest instant a tick may change the plan (a wait ending, a timeout, builds resuming), or null. */
  deadline: number | null;
}

export function plan(s: QueueState, settings: QueueSettings, now: number, size: number): PlanResult {
  const actions: QueueAction[] = [];
  const deadlines: number[] = [];
  if (s.buildPausedUntil !== null && now >= s.buildPausedUntil) s.buildPausedUntil = null;
  if (settings.staging) walk(s, settings, now, size, actions, deadlines);
  else direct(s, now, actions);
  land(s, settings, now, actions);
  if (s.buildPausedUntil !== null) deadlines.push(s.buildPausedUntil);
  for (const b of s.batches) if (b.state === 'testing' && b.ciStartedAt !== null) deadlines.push(b.ciStartedAt + settings.timeoutMs);
  return { actions, deadline: deadlines.length > 0 ? Math.min(...deadlines) : null };
}

function walk(s: QueueState, settings: QueueSettings, now: number, size: number, actions: QueueAction[], deadlines: number[]): void {
  const q = s.pulls;
  const kept = new Set<number>();
  const gaps: Gap[] = [];
  const on = (b: Batch, parent: Batch | null) =>
    !kept.has(b.id) && (parent === null ? b.parent === null && b.onto === s.base : b.parent === parent.id);
  let parent: Batch | null = null;
  for (let i = 0; i < q.length; ) {
    const e = q[i];
    const ready = parent === null || parent.sha !== null;
    if (e.suspect) {
      const retry = s.batches.find((b) => on(b, parent) && samePulls(b.pulls, [pullOf(e)]));
      if (retry) kept.add(retry.id);
      else if (ready) gaps.push({ parent, pulls: [e] });
      i++;
      continue;
    }
    const next = s.batches.find((b) => on(b, parent) && matchesAt(b, q, i));
    if (next) {
      kept.add(next.id);
      parent = next;
      i += next.pulls.length;
      continue;
    }
    if (!ready) break;
    const { n, open } = sizeAt(q, i, size);
    if (open && settings.waitMs > 0 && now < e.joinedAt + settings.waitMs) deadlines.push(e.joinedAt + settings.waitMs);
    else gaps.push({ parent, pulls: q.slice(i, i + n) });
    break;
  }

  for (const b of [...s.batches]) {
    if (kept.has(b.id) || b.state === 'landing') continue;
    removeBatch(s, b, actions);
    s.stats.batches.invalidated++;
  }

  let running = s.batches.filter((b) => b.state === 'building' || b.state === 'testing').length;
  if (s.baseUnknown || s.buildPausedUntil !== null) return;
  for (const gap of gaps) {
    if (running >= settings.speculative) break;
    const b: Batch = {
      id: s.nextBatch++, pulls: gap.pulls.map(pullOf), parent: gap.parent?.id ?? null, onto: gap.parent?.sha ?? s.base,
      state: 'building', sha: null, tree: null, since: now, ciStartedAt: null, pending: [],
    };
    s.batches.push(b);
    actions.push({ kind: 'build', batch: b.id, ref: stagingRef(s.branch, b.id), onto: b.onto, pulls: b.pulls });
    running++;
  }
}

/** Without staging: the first queued pull request that is not held lands on its own, one at a time. */
function direct(s: QueueState, now: number, actions: QueueAction[]): void {
  if (s.baseUnknown || s.batches.some((b) => b.state === 'landing')) return;
  const first = s.pulls.find((e) => e.held === null);
  if (!first) return;
  const b: Batch = {
    id: s.nextBatch++, pulls: [pullOf(first)], parent: null, onto: s.base, state: 'landing', sha: null, tree: null, since: now, ciStartedAt: null, pending: [],
  };
  s.batches.push(b);
  actions.push({ kind: 'land', batch: b.id, onto: s.base, pulls: b.pulls, stagingSha: null, stagingTree: null });
}

/** The batch that passed, is built on the base head, holds the first pull requests of the queue and none held, lands — one at a time. */
function land(s: QueueState, settings: QueueSettings, now: number, actions: QueueAction[]): void {
  if (!settings.staging || s.baseUnknown || s.batches.some((b) => b.state === 'landing')) return;
  const b = s.batches.find((x) => x.state === 'passed' && x.parent === null && x.onto === s.base && matchesAt(x, s.pulls, 0));
  if (!b || b.pulls.some((p) => entry(s, p.number)?.held !== null)) return;
  b.state = 'landing';
  b.since = now;
  actions.push({ kind: 'land', batch: b.id, onto: s.base, pulls: b.pulls, stagingSha: b.sha, stagingTree: b.tree });
}

/** Drop a batch and its staging branch (its pull requests stay queued). Batches built on it lose their footing: the next walk drops them. */
export function removeBatch(s: QueueState, b: Batch, actions: QueueAction[]): void {
  s.batches = s.batches.filter((x) => x.id !== b.id);
  if (b.sha !== null || b.state === 'building') actions.push({ kind: 'delete', ref: stagingRef(s.branch, b.id) });
}
