// Which batches should exist, given the queue as it is now, and which one lands
// next. Called by decide() after every event, on a draft of the state it may
// change. Pure.
//
// The plan is a search over the worlds that may come (as Uber's SubmitQueue
// does): the queue is cut into units (the adaptive size; a bisection half; a
// suspect — a pull request that failed alone and waits for its retry — alone),
// and from the base head each unit is a batch built on what the units before it
// leave if they pass. Each unit has a chance to pass (passChance: from the
// failure rate the queue observes, a flake rate FLAKE, and for a bisection half
// what its failed batch tells; a pull request that evidence will send away is
// left out while what it waits on is tested: decidedByEvidence). A batch under
// test (or a suspect's retry) also
// opens the world where it fails: what failed moves behind the batches under
// test (core.ts' order), so the units behind it are built on what it stood on
// — that world is where hedges come from. A pull request under suspicion (a
// bisection half, a suspect) that no batch kept by the search holds is tested
// alone on the base head beside the chain (a probe, ranked after the chain's
// first batch): its answer settles it before the chain comes to it.
// Batches are kept or built in order of how likely they are to be needed, while
// CI slots (`speculative`) last; a slot is kept for the successor of a batch
// being built, which cannot be built before it. Every batch the search did not
// keep is invalidated (its staging branch deleted), except the one landing,
// whose answer is awaited. Landing is not a guess: only a batch that passed,
// stands on the base head as the core knows it and holds exactly the first
// pull requests of the queue lands.
import { FLAKE } from './adapt.js';
import { entry, failedRuns, pullOf, samePulls, type Batch, type QueueEntry, type QueueState } from './state.js';
import { stagingRef, type QueueAction, type QueueSettings } from './types.js';

/** After a failed build, builds wait this long (an API error is often brief; this keeps a lasting one from looping). */
export const BUILD_RETRY_MS = 60_000;

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

export function plan(s: QueueState, settings: QueueSettings, now: number, size: number, r: number): PlanResult {
  const actions: QueueAction[] = [];
  const deadlines: number[] = [];
  if (s.buildPausedUntil !== null && now >= s.buildPausedUntil) s.buildPausedUntil = null;
  if (settings.staging) walk(s, settings, now, size, r, actions, deadlines);
  else direct(s, now, actions);
  land(s, settings, now, actions);
  if (s.buildPausedUntil !== null) deadlines.push(s.buildPausedUntil);
  for (const b of s.batches) if (b.state === 'testing' && b.ciStartedAt !== null) deadlines.push(b.ciStartedAt + settings.timeoutMs);
  return { actions, deadline: deadlines.length > 0 ? Math.min(...deadlines) : null };
}

/** A run of queued pull requests tested together, as the search plans it. */
interface Unit {
  pulls: QueueEntry[];
  /** The failed batch whose bisection it belongs to (null: none; negative: a split the search only imagines). */
  lineage: number | null;
}

/** A place in the search: the next units to land, in order, on top of `parent` (null: the base head), and how likely that world is. */
interface Position {
  parent: Batch | null;
  units: Unit[];
  need: number;
}

/** A batch the walk would build, in order of need; `unit: null` keeps a slot for the successor of a batch being built. */
interface Wanted {
  parent: Batch | null;
  unit: Unit | null;
  need: number;
  probe?: boolean;
}

/** Below this likelihood a batch is not worth a CI run. */
const MIN_NEED = 0.05;
/** How many places the search looks at, at most (it stops sooner once likelihoods fall below MIN_NEED). */
const MAX_STEPS = 400;

/** The queue cut into units (those pending evidence decides left out): a suspect alone; an existing batch's exact run of pull requests; else the adaptive size / bisection cap. */
function units(s: QueueState, size: number, retries: number): Unit[] {
  const q = s.pulls.filter((p) => !decidedByEvidence(p, s, retries));
  const out: Unit[] = [];
  for (let i = 0; i < q.length; ) {
    const existing = q[i].suspect ? undefined : s.batches.find((b) => !b.evidence && matchesAt(b, q, i));
    const n = q[i].suspect ? 1 : existing ? existing.pulls.length : sizeAt(q, i, size).n;
    out.push({ pulls: q.slice(i, i + n), lineage: q[i].lineage ?? null });
    i += n;
  }
  return out;
}

const clean = (r: number, n: number) => (1 - r) ** n * (1 - FLAKE);
const failing = (r: number, n: number) => 1 - clean(r, n);

/** How likely the first unit of `units` is to pass, given what failed before (its lineage: a failed batch of which `units` still holds `rem`). */
function passChance(first: Unit, rest: Unit[], r: number, retries: number): number {
  const p = first.pulls[0];
  if (p.suspect) return (FLAKE * (1 - r)) / (r + (1 - r) * FLAKE); // it failed alone: passing now means it was a flake
  if (first.lineage === null) return clean(r, first.pulls.length);
  const others = rest.filter((u) => u.lineage === first.lineage).reduce((n, u) => n + u.pulls.length, 0);
  // The lineage failed: something in it is bad, or it was a flake. This unit passes if it is clean and the failure lies in the others.
  return (clean(r, first.pulls.length) * Math.max(failing(r, others), FLAKE)) / failing(r, others + first.pulls.length);
}

/**
 * The units after `first` fails: the rest go on without it (what failed goes behind the batches under test, beyond this search's
 * horizon). When the failure tells something about its lineage's other half (it holds the bad one), that half is no longer suspected.
 */
function afterFailure(first: Unit, rest: Unit[]): Unit[] {
  return rest.map((u) => (u.lineage !== null && u.lineage === first.lineage ? { ...u, lineage: null } : u));
}

/** A failed batch waiting for the batches below it (all still there) to pass before its failure is blamed on it (core.ts). */
function awaitingBlame(s: QueueState, b: Batch): boolean {
  if (b.state !== 'failed') return false;
  for (let p = b.parent; p !== null; ) {
    const below = s.batches.find((x) => x.id === p);
    if (!below) return false;
    p = below.parent;
  }
  return b.parent !== null || b.onto === s.base;
}

function walk(s: QueueState, settings: QueueSettings, now: number, size: number, r: number, actions: QueueAction[], deadlines: number[]): void {
  const kept = new Set<number>(); // the ids of the batches the plan keeps
  const wanted: Wanted[] = [];
  const matches = (b: Batch, parent: Batch | null, unit: Unit) =>
    !b.evidence && (parent === null ? b.parent === null && b.onto === s.base : b.parent === parent.id) && samePulls(b.pulls, unit.pulls.map(pullOf));
  const all = units(s, size, settings.retries);
  const open: Position[] = [{ parent: null, units: all, need: 1 }];
  for (let steps = 0; open.length > 0 && steps < MAX_STEPS; steps++) {
    open.sort((a, b) => b.need - a.need);
    const at = open.shift()!;
    if (at.need < MIN_NEED) break;
    const [first, ...rest] = at.units;
    if (!first) continue;
    const b = s.batches.find((x) => !kept.has(x.id) && matches(x, at.parent, first));
    const known = b?.state === 'passed' || b?.state === 'landing';
    const p = known ? 1 : b?.state === 'failed' ? 0 : passChance(first, rest, r, settings.retries);
    // What follows a failure is planned for a batch under test and for a suspect's retry (other batches not built yet are simply built).
    const failed = known || (!b && !first.pulls[0].suspect) ? null : afterFailure(first, rest);
    if (failed && failed.length > 0) open.push({ parent: at.parent, units: failed, need: at.need * (1 - p) });
    if (b) {
      kept.add(b.id);
      if (b.sha !== null && rest.length > 0 && p > 0) open.push({ parent: b, units: rest, need: at.need * p });
      else if (p > 0) wanted.push(...successorSlots(rest, at.need * p, r, settings.retries)); // the slots its successors will want once it is built
    } else if (at.parent === null || at.parent.sha !== null) {
      const { open: growing } = sizeAt(first.pulls, 0, size);
      const last = rest.length === 0 && first.lineage === null && !first.pulls[0].suspect;
      const ends = first.pulls[0].joinedAt + settings.waitMs;
      if (last && growing && settings.waitMs > 0 && now < ends) deadlines.push(ends);
      else {
        wanted.push({ parent: at.parent, unit: first, need: at.need });
        wanted.push(...successorSlots(rest, at.need * p, r, settings.retries));
      }
    }
  }

  probes(s, all, kept, wanted);
  for (const b of [...s.batches]) {
    if (kept.has(b.id) || b.state === 'landing' || awaitingBlame(s, b)) continue;
    if (b.evidence && b.state === 'testing' && now < b.evidence.until) {
      deadlines.push(b.evidence.until);
      continue;
    }
    removeBatch(s, b, actions);
    s.stats.batches.invalidated++;
  }
  if (s.baseUnknown || s.buildPausedUntil !== null) return;
  const running = s.batches.filter((b) => b.state === 'building' || b.state === 'testing');
  let free = settings.speculative - running.length;
  const planned = new Set(s.batches.map((b) => key(b.parent, b.pulls)));
  for (const w of wanted.sort((a, b) => b.need - a.need)) {
    if (free <= 0) break;
    if (w.unit === null) {
      free--;
      continue;
    }
    if (w.parent !== null && !s.batches.includes(w.parent)) continue;
    if (planned.has(key(w.parent?.id ?? null, w.unit.pulls))) continue; // reached by two paths: one batch serves both
    planned.add(key(w.parent?.id ?? null, w.unit.pulls));
    const b: Batch = {
      id: s.nextBatch++, pulls: w.unit.pulls.map(pullOf), parent: w.parent?.id ?? null, onto: w.parent?.sha ?? s.base,
      state: 'building', sha: null, tree: null, since: now, ciStartedAt: null, pending: [], ...(w.probe ? { probe: true } : {}),
    };
    s.batches.push(b);
    actions.push({ kind: 'build', batch: b.id, ref: stagingRef(s.branch, b.id), onto: b.onto, pulls: b.pulls });
    free--;
  }
}

/**
 * A probe's answer is always used (it decides a pull request under suspicion one way or the other), a chain batch's only if all
 * below it pass: probes rank after the batches nearly sure to be needed (the first of the chain) and before the rest. The
 * simulator (bench/queue.ts, seeds 1–9, fail10 / fail2 landings an hour): 0 (probes only in idle slots) 7.67 / 20.96; 0.5
 * 8.12 / 17.79; 0.7 8.35 / 20.2; 0.8 8.56 / 20.67; 0.9 8.52 / 20.82; 0.95 8.52 / 20.7; above 1 (before the first of the chain
 * too) 8.41 / 22.87.
 */
const PROBE_NEED = 0.9;

/**
 * Pull requests under suspicion — a bisection half, a suspect waiting for its retry — that no batch the search kept holds are
 * tested alone on the base head, beside the chain (a probe). Each would be a coin toss in the chain, and every batch built on it
 * would be wasted half the time; its probe settles it before the chain comes to it: a pass clears it (evidence.ts), a failure is
 * a run it failed alone. A probe under way is kept while its pull requests are queued with those heads (most of its run is spent).
 * A probe lands like any batch if, when it passes, it stands on the base head and holds the first pull requests of the queue.
 */
function probes(s: QueueState, all: Unit[], kept: Set<number>, wanted: Wanted[]): void {
  const tested = new Set(s.batches.filter((b) => kept.has(b.id)).flatMap((b) => b.pulls.map((p) => p.number)));
  for (const b of s.batches) {
    if (!b.probe || kept.has(b.id) || (b.state !== 'building' && b.state !== 'testing')) continue;
    if (!b.pulls.every((p) => entry(s, p.number)?.headSha === p.headSha)) continue;
    kept.add(b.id);
    for (const p of b.pulls) tested.add(p.number);
  }
  for (const u of all) {
    const suspected = u.lineage !== null || u.pulls[0].suspect;
    if (suspected && !u.pulls.some((p) => tested.has(p.number))) wanted.push({ parent: null, unit: u, need: PROBE_NEED, probe: true });
  }
}

/**
 * The slots kept for the chain that will grow on a batch not built yet (each successor can be built only once the one ahead is),
 * with the need each will have: without them, the slots go to less likely batches (hedges) meanwhile, which then hold them.
 */
function successorSlots(rest: Unit[], need: number, r: number, retries: number): { parent: null; unit: null; need: number }[] {
  const out: { parent: null; unit: null; need: number }[] = [];
  for (let i = 0; i < rest.length && need >= MIN_NEED; i++) {
    out.push({ parent: null, unit: null, need });
    need *= passChance(rest[i], rest.slice(i + 1), r, retries);
  }
  return out;
}

const key = (parent: number | null, pulls: readonly { number: number }[]) => `${parent ?? 'base'}:${pulls.map((p) => p.number).join(',')}`;

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

/**
 * A pull request that failed a run of its own and whose runs waiting for evidence would then make more than `retries` (core.ts: a
 * failed run counts once every other pull request in it has passed) is not tested while those others are queued and clear of
 * suspicion: they are tested anyway, and its own run would almost surely fail, with whatever was built on it. Nothing behind it
 * lands before it leaves; if one of those fails instead, it is planned then. (One under suspicion too could be waiting for it.)
 */
function decidedByEvidence(p: QueueEntry, s: QueueState, retries: number): boolean {
  const failed = failedRuns(p);
  if (failed === 0) return false;
  const waiting = [p.witnesses ?? [], ...(p.moreFailures ?? [])].filter((w) => w.length > 0);
  const likely = waiting.filter((w) =>
    w.every((n) => {
      const o = entry(s, n);
      return o !== undefined && !o.suspect && failedRuns(o) === 0;
    }));
  return likely.length > 0 && failed + likely.length > retries;
}
