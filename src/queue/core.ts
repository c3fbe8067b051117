// The merge queue's pure core (SPEC §4a; the contract is types.ts): state +
// event + settings + now → new state + actions. No I/O, no clock, no
// randomness; the state is plain JSON. The app's runner (store.ts) and the
// bench's simulator (bench/queue.ts) drive this same code. Where the SPEC is
// silent, this decides:
//
// - Order: `priority` first, then the order they joined (passed), except that
//   what fails loses its place (SPEC §4a "batches behind a failed one are
//   rebuilt without what failed"): when a batch fails (a failed check, a
//   timeout, GitHub refusing its landing), its pull requests move behind every
//   pull request of their class (priority or not) then in another batch —
//   being built, under test, failed, passed or landing — keeping their own
//   order; the others keep theirs (demote()). So the batches behind a failed
//   one are rebuilt without it, on what it was built on, and go on landing;
//   its bisection halves or its retry are tested behind them (on top of the
//   chain as it then stands, hedged, or alone on the base head beside the
//   chain — a probe: plan.ts) and land when they pass, after whatever landed
//   meanwhile. A priority pull request joining goes
//   ahead of batches already built of pull requests without it: those are
//   rebuilt (what lands is always in queue order).
// - At most `speculative` batches with CI running or being built. Which
//   batches exist is plan.ts' search: a chain from the base head, each batch on
//   the staging head of the one ahead of it, and where a batch under test is
//   likely to fail, the batches that would follow its failure too (a suspect —
//   failed alone, retry pending — on its last try: the chain goes on without
//   it; a batch of several: its bisection halves), and the probes.
// - Batch size: adapt.ts (a decayed failure rate → the size that maximises
//   landings per CI run), capped by bisection. A batch smaller than that size
//   at the end of the queue waits `waitMs` from its FIRST pull request's
//   joining; a batch cut short by a suspect or a bisection half does not wait.
// - A batch lands when its checks succeeded, it is built on the base head as
//   the core knows it, it holds exactly the first pull requests of the queue
//   (so nothing ahead of it is pending) and none of them is held.
// - Failure of a batch of more than one (a failed check, a timeout, GitHub
//   refusing its landing): bisection — its first half (⌈n/2⌉) and its second
//   half, each only ever batched with itself (so a half that fails splits
//   again), queued where the failure moved them. Failure of a batch of one:
//   it is tested again (a suspect) up to `retries` times, then leaves with
//   `dequeue` (failed / timeout); the batch it was bisected from counts as one
//   of its failed runs once all the batch's other pull requests have passed
//   (evidence instead of a retry: evidence.ts); while that batch's others
//   are still to be tested, its retry waits for them (plan.ts), and the rest
//   of the bisection is no longer suspected. The runs on top of a failed
//   batch that started with it run on a little (keepForEvidence: they end
//   within a minute of it after a chain was rebuilt at once) and count the
//   same way: a failed run against each pull request of their tree once the
//   others passed, a pass clearing them all. Batches on top of a failed one are rebuilt
//   without it. A batch that fails while a batch it is built on is still under
//   test loses its place at once but blames no one yet: the failure counts
//   (bisection, a retry) once those below it passed; if one of them fails, it
//   is dropped with it and its pull requests are simply batched again.
// - `checks` for anything but the batch's current staging head: ignored.
// - `landed`: the base is `after`; batches built on the landed staging head
//   count as built on `after` (the same commit for a fast-forward; for
//   squash/rebase the shell checked that `after` has the staging tree).
// - `land-failed`: `merged` ones count as landed, the base is `after` when
//   given; `base-moved` with no `after` stops building and landing until a
//   `base-moved` says where the base is. `recheck`: the batch waits (the
//   shell sent hold/leave). `refused` with nothing merged fails the batch like
//   a failed check (bisection finds the pull request GitHub refuses).
// - `base-moved` to an unexpected head while a batch is landing is kept until
//   the land's answer (our own landing may be what moved it).
// - `staging: false`: batches of one, no build, no CI; the first queued pull
//   request not held lands; `land-failed` → it leaves (no `dequeue`: the shell
//   re-evaluates it and a pass joins it again).
// - After a restart, resume(state) lists what was under way (builds, the
//   landing): the shell does them again. A build again resets its staging
//   branch (a result for the old head is then stale); a landing again must find
//   it already done (base at the staging head, or its pull requests merged)
//   and answer `landed`, so nothing lands twice.
import { chooseBatchSize, failureRate, observe } from './adapt.js';
import { describe } from './describe.js';
import { dequeue, evidenceFrom, exonerate, keepForEvidence, seenPassing, sendAway, treeOf } from './evidence.js';
import { plan, removeBatch, BUILD_RETRY_MS } from './plan.js';
import { ancestors, batchById, entry, failedRuns, newState, queueOrder, type Batch, type QueueEntry, type QueueState } from './state.js';
import { stagingRef, type DequeueWhy, type QueuedPull, type QueueAction, type QueueEvent, type QueueSettings } from './types.js';

export type { QueueState } from './state.js';
export { describe, queueStats } from './describe.js';

/** How many time-to-land samples the stats keep. */
const TIMES_KEPT = 1000;

export function initialQueue(branch: string, baseSha: string): QueueState {
  return newState(branch, baseSha);
}

export function decide(state: QueueState, event: QueueEvent, settings: QueueSettings, now: number): { state: QueueState; actions: QueueAction[] } {
  const s = structuredClone(state);
  const before = new Map(state.pulls.map((p) => [p.number, JSON.stringify(describe(state, p.number))]));
  const actions: QueueAction[] = [];
  apply(s, event, settings, now, actions);
  settleFailures(s, settings, actions);
  const size = settings.staging ? chooseBatchSize(s.rate, settings.batch, settings.speculative, settings.retries) : 1;
  const planned = plan(s, settings, now, size, failureRate(s.rate));
  actions.push(...planned.actions);
  const changed = s.pulls.filter((p) => before.get(p.number) !== JSON.stringify(describe(s, p.number))).map((p) => p.number);
  if (changed.length > 0) actions.push({ kind: 'notify', numbers: changed });
  if (planned.deadline !== null && planned.deadline !== s.wakeAt) actions.push({ kind: 'wake', at: planned.deadline });
  s.wakeAt = planned.deadline;
  s.stats.depth = s.pulls.length;
  return { state: s, actions };
}

/** What to do again after a restart: the builds and the landing that were under way (their answers may never have come), and the next wake. */
export function resume(s: QueueState): QueueAction[] {
  const actions: QueueAction[] = [];
  for (const b of s.batches) {
    if (b.state === 'building') actions.push({ kind: 'build', batch: b.id, ref: stagingRef(s.branch, b.id), onto: b.onto, pulls: b.pulls });
    if (b.state === 'landing') actions.push({ kind: 'land', batch: b.id, onto: s.base, pulls: b.pulls, stagingSha: b.sha, stagingTree: b.tree });
  }
  if (s.wakeAt !== null) actions.push({ kind: 'wake', at: s.wakeAt });
  return actions;
}

function apply(s: QueueState, e: QueueEvent, settings: QueueSettings, now: number, actions: QueueAction[]): void {
  switch (e.kind) {
    case 'join': {
      const old = entry(s, e.pull.number);
      if (old && old.headSha === e.pull.headSha) return;
      if (old) s.pulls = s.pulls.filter((p) => p !== old);
      const fresh: QueueEntry = {
        ...e.pull, joinedAt: now, seq: s.nextSeq++, held: null, fails: 0, suspect: false, cap: null, group: null, lineage: null, witnesses: null, failure: null,
      };
      s.pulls = [...s.pulls, fresh].sort(queueOrder);
      return;
    }
    case 'leave':
      s.pulls = s.pulls.filter((p) => p.number !== e.number);
      return;
    case 'hold': {
      const p = entry(s, e.number);
      if (p) p.held = e.reason;
      return;
    }
    case 'built': {
      const b = batchById(s, e.batch);
      if (!b) return unknownBatch(s, e.batch, actions);
      if (b.state !== 'building') return;
      Object.assign(b, { state: 'testing', sha: e.sha, tree: e.tree, since: now, ciStartedAt: now, pending: [] });
      s.stats.ciRuns++;
      return;
    }
    case 'conflict': {
      const b = batchById(s, e.batch);
      if (!b) return unknownBatch(s, e.batch, actions);
      const p = entry(s, e.number);
      if (b.state !== 'building' || !p || !b.pulls.some((x) => x.number === e.number)) return;
      s.stats.batches.conflicted++;
      removeBatch(s, b, actions);
      dequeue(s, p, { kind: 'conflict', with: e.with }, actions);
      return;
    }
    case 'build-failed': {
      const b = batchById(s, e.batch);
      if (!b) return unknownBatch(s, e.batch, actions);
      if (b.state !== 'building') return;
      removeBatch(s, b, actions);
      s.buildPausedUntil = now + BUILD_RETRY_MS;
      return;
    }
    case 'checks': {
      const b = batchById(s, e.batch);
      if (!b || b.state !== 'testing' || b.sha !== e.sha) return; // a stale result
      if (e.outcome === 'pending') b.pending = [...e.pending];
      else if (b.evidence) evidenceFrom(s, b, e.outcome === 'success' ? null : { kind: 'failed', check: e.check, url: e.url, stagingSha: e.sha, attempts: 0 }, settings, actions);
      else if (e.outcome === 'success') {
        Object.assign(b, { state: 'passed', since: now, pending: [] });
        s.stats.batches.passed++;
        for (const p of b.pulls) {
          const q = entry(s, p.number);
          if (q) q.suspect = false;
        }
        exonerate(s, treeOf(s, b), settings, actions);
      } else failed(s, b, { kind: 'failed', check: e.check, url: e.url, stagingSha: e.sha, attempts: 0 }, now);
      return;
    }
    case 'landed': {
      const b = batchById(s, e.batch);
      if (!b || b.state !== 'landing') return;
      s.batches = s.batches.filter((x) => x !== b);
      for (const p of b.pulls) landedPull(s, p, now);
      moveBase(s, e.after, b);
      return;
    }
    case 'land-failed': {
      const b = batchById(s, e.batch);
      if (!b || b.state !== 'landing') return;
      for (const p of b.pulls.filter((x) => e.merged.includes(x.number))) landedPull(s, p, now);
      if (!settings.staging) {
        s.batches = s.batches.filter((x) => x !== b);
        s.pulls = s.pulls.filter((p) => !b.pulls.some((x) => x.number === p.number));
      } else if (e.reason === 'recheck' && e.merged.length === 0) {
        b.state = 'passed';
        b.since = now;
      } else if (e.reason === 'refused' && e.merged.length === 0) {
        demote(s, b);
        fail(s, b, settings, { kind: 'failed', check: `merge refused: ${e.message}`, url: null, stagingSha: b.sha ?? '', attempts: 0 }, actions);
      } else {
        removeBatch(s, b, actions);
      }
      const head = e.after ?? s.movedWhileLanding;
      s.movedWhileLanding = null;
      if (head !== null) {
        s.baseUnknown = false;
        moveBase(s, head, null);
      } else if (e.reason === 'base-moved') s.baseUnknown = true;
      return;
    }
    case 'base-moved': {
      if (s.batches.some((b) => b.state === 'landing')) {
        s.movedWhileLanding = e.sha;
        return;
      }
      s.baseUnknown = false;
      moveBase(s, e.sha, null);
      return;
    }
    case 'tick':
      for (const b of [...s.batches]) {
        // Batches on top of one that just timed out are dropped by the walk, not failed.
        if (!batchById(s, b.id) || (b.parent !== null && !batchById(s, b.parent)) || b.evidence) continue; // (evidence: until `until`)
        if (b.state === 'testing' && b.ciStartedAt !== null && now >= b.ciStartedAt + settings.timeoutMs) {
          failed(s, b, { kind: 'timeout', stagingSha: b.sha ?? '', attempts: 0, afterMs: now - b.ciStartedAt }, now);
        }
      }
      return;
  }
}

/** An answer about a batch the core dropped (its build was under way): its staging branch may exist now, so delete it (again). */
function unknownBatch(s: QueueState, id: number, actions: QueueAction[]): void {
  if (id < s.nextBatch) actions.push({ kind: 'delete', ref: stagingRef(s.branch, id) });
}

/** The base head is now `sha`. Batches built on `landed`'s staging head now stand on the base; the walk drops roots on another head. */
function moveBase(s: QueueState, sha: string, landed: Batch | null): void {
  s.base = sha;
  if (landed) for (const b of s.batches) if (b.parent === landed.id) Object.assign(b, { parent: null, onto: sha });
  const moved = s.movedWhileLanding;
  s.movedWhileLanding = null;
  if (moved !== null && ![sha, landed?.sha, landed?.onto].includes(moved)) {
    s.base = moved;
    s.baseUnknown = false;
  }
}

/** A pull request merged: it leaves the queue (unless it joined again with another head meanwhile: the shell sends that one `leave`). */
function landedPull(s: QueueState, pull: QueuedPull, now: number): void {
  const p = entry(s, pull.number);
  s.stats.landed++;
  if (!p || p.headSha !== pull.headSha) return;
  s.pulls = s.pulls.filter((x) => x !== p);
  s.stats.timesToLand = [...s.stats.timesToLand, now - p.joinedAt].slice(-TIMES_KEPT);
  s.rate = observe(s.rate, false);
}

/** A batch's checks failed or timed out: it is held as `failed` until every batch it is built on has passed (settleFailures). */
function failed(s: QueueState, b: Batch, why: DequeueWhy, now: number): void {
  if (why.kind === 'timeout') s.stats.batches.timedOut++;
  else s.stats.batches.failed++;
  Object.assign(b, { state: 'failed', failure: why, pending: [] });
  demote(s, b);
  keepForEvidence(s, b, now);
}

/**
 * What failed loses its place: the failed batch's pull requests move behind every pull request of their class (priority or not)
 * then in another batch (being built, under test, failed, passed or landing), keeping their own order. The others keep theirs.
 */
function demote(s: QueueState, b: Batch): void {
  const failedOnes = new Set(b.pulls.map((p) => p.number));
  const inBatches = new Set(s.batches.filter((x) => x !== b).flatMap((x) => x.pulls.map((p) => p.number)));
  for (const priority of [true, false]) {
    const last = s.pulls.findLastIndex((p) => p.priority === priority && inBatches.has(p.number) && !failedOnes.has(p.number));
    const moved = s.pulls.filter((p, i) => failedOnes.has(p.number) && p.priority === priority && i < last);
    if (moved.length === 0) continue;
    const rest = s.pulls.filter((p) => !moved.includes(p));
    const at = rest.indexOf(s.pulls[last]) + 1;
    s.pulls = [...rest.slice(0, at), ...moved, ...rest.slice(at)];
  }
  s.pulls.forEach((p, i) => (p.seq = i + 1));
  s.nextSeq = s.pulls.length + 1;
}

/**
 * A failed batch whose batches below have all passed (or that stands on the base) failed on its own account: bisect it, or retry /
 * dequeue its one pull request. One standing on a batch that fails too is dropped by the walk with it, blaming no one.
 */
function settleFailures(s: QueueState, settings: QueueSettings, actions: QueueAction[]): void {
  for (let b = ownFailure(s); b; b = ownFailure(s)) {
    // One seen passing in another tree (a passed batch, or one built on this one) is good: its part of this failure was a flake.
    fail(s, b, settings, b.failure!, actions, false, seenPassing(s));
  }
}

function ownFailure(s: QueueState): Batch | undefined {
  return s.batches.find((b) => {
    if (b.state !== 'failed') return false;
    const below = ancestors(s, b);
    const bottom = below.at(-1) ?? b;
    return bottom.parent === null && below.every((a) => a.state === 'passed' || a.state === 'landing');
  });
}

/**
 * A batch failed (a check, a timeout, a refused landing): bisect it, or retry / dequeue its one pull request. Those in `good` were
 * seen passing in another tree: their part of the failure was a flake, and they are left out.
 */
function fail(s: QueueState, b: Batch, settings: QueueSettings, why: DequeueWhy, actions: QueueAction[], count = true, good = new Set<number>()): void {
  if (count && why.kind === 'timeout') s.stats.batches.timedOut++;
  else if (count) s.stats.batches.failed++;
  removeBatch(s, b, actions);
  const members = b.pulls.map((p) => entry(s, p.number)).filter((p): p is QueueEntry => p !== undefined && !good.has(p.number));
  // The failure rate learns of a bad pull request (or a flake) when a batch fails on its own account, not hours later when
  // bisection and retries have found it (until then it saw only landings, and chose batches too big); once per batch's pull requests.
  if (members.length > 0 && members.every((p) => !p.counted)) {
    s.rate = observe(s.rate, true);
    for (const p of members) p.counted = true;
  }
  // The rest of a bisection this batch came from is no longer suspected: the failure it was split for is found here (plan.ts
  // would otherwise keep taking the other half for the bad one, and hedge against it rather than build on it).
  const found = new Set(members.map((p) => p.lineage).filter((l) => l != null));
  for (const q of s.pulls) if (q.lineage != null && found.has(q.lineage) && !members.includes(q)) q.lineage = null;
  if (members.length > 1) {
    const half = Math.ceil(members.length / 2);
    const [g1, g2] = [s.nextGroup++, s.nextGroup++];
    members.forEach((p, i) =>
      Object.assign(p, i < half ? { group: g1, cap: half } : { group: g2, cap: members.length - half }, {
        lineage: g1, witnesses: members.filter((o) => o !== p).map((o) => o.number),
      }));
    return;
  }
  const p = members[0];
  if (!p) return;
  p.fails++;
  p.failure = why;
  if (failedRuns(p) <= settings.retries) {
    p.suspect = true;
    return;
  }
  sendAway(s, p, actions);
}
