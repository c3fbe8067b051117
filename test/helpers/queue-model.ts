// A model of GitHub and CI around the merge queue's core, for its property
// tests and the bench's simulator (bench/queue.ts): commits with trees (a tree
// is the set of changes in it), staging branches built as the core asks, CI
// results per staging commit, the base branch moved by landings and by pushes
// of others. Every action the core asks for is checked against the invariants
// of SPEC §4a as it is carried out; a violation throws (QueueViolation).
import { decide, resume, type QueueState } from '../../src/queue/core.js';
import { initialQueue } from '../../src/queue/core.js';
import { EVIDENCE_LAG } from '../../src/queue/evidence.js';
import type { QueueAction, QueueEvent, QueuedPull, QueueSettings } from '../../src/queue/types.js';

export class QueueViolation extends Error {}

interface Commit {
  parent: string | null;
  /** The changes in it: pull request numbers, and `x<n>` for pushes by others. */
  tree: Set<string>;
}

export type Method = 'merge' | 'squash';

export class QueueModel {
  state: QueueState;
  readonly commits = new Map<string, Commit>();
  base = 'base0';
  /** Staging commits whose checks succeeded. */
  readonly passed = new Set<string>();
  /** Pull requests known to fail every run they are in. */
  readonly bad = new Set<number>();
  readonly landed: number[] = [];
  readonly landedAt = new Map<number, number>();
  readonly joinedAt = new Map<number, number>();
  readonly dequeued = new Map<number, string>();
  readonly left = new Set<number>();
  /** Held by their own rules (a hold sent and not released). */
  readonly held = new Set<number>();
  /**
   * Queued as the shell knows it: number → its queue key. The order the core must keep: priority first, then `seq` — join order,
   * except that when a batch fails (its checks fail or time out, or GitHub refuses it), its pull requests move behind every pull
   * request then in another batch the core asked for (built or being built, not deleted, not landed), keeping their own order.
   */
  readonly queued = new Map<number, { priority: boolean; seq: number; head: string }>();
  /** Batches the core asked to build, not deleted nor landed: id → its pull requests, and when CI started (its `built`) if it did. */
  private readonly live = new Map<number, { pulls: QueuedPull[]; sha: string | null; ciStartedAt: number | null }>();
  readonly log: string[] = [];
  private seq = 0;
  private commitSeq = 0;
  /** Batch → the commit its staging branch points at (what `build` made). */
  readonly staging = new Map<number, string>();
  /** Batch → the commit the core asked it built on; and the runs kept for evidence (failures()). */
  private readonly onto = new Map<number, string>();
  private readonly evidence = new Set<number>();
  /** Batch → the pull requests the core asked to land. */
  readonly landing = new Map<number, QueuedPull[]>();
  /** Batch → the base head its landing left. */
  readonly landedBy = new Map<number, string>();

  constructor(readonly settings: QueueSettings, readonly method: Method = 'merge', branch = 'main') {
    this.commits.set(this.base, { parent: null, tree: new Set() });
    this.state = initialQueue(branch, this.base);
  }

  private commit(parent: string, tree: Set<string>): string {
    const sha = `c${++this.commitSeq}`;
    this.commits.set(sha, { parent, tree });
    return sha;
  }

  tree(sha: string): Set<string> {
    const c = this.commits.get(sha);
    if (!c) throw new QueueViolation(`unknown commit ${sha}`);
    return c.tree;
  }

  private descends(sha: string, from: string): boolean {
    for (let c: string | null = sha; c !== null; c = this.commits.get(c)?.parent ?? null) if (c === from) return true;
    return false;
  }

  violation(message: string): never {
    throw new QueueViolation(`${message}\nlast events:\n${this.log.slice(-30).join('\n')}`);
  }

  /** Give the core an event; returns the actions it asked for (checked, not yet carried out). */
  send(event: QueueEvent, now: number): QueueAction[] {
    if (event.kind === 'join') {
      const old = this.queued.get(event.pull.number);
      if (!old || old.head !== event.pull.headSha) {
        this.queued.set(event.pull.number, { priority: event.pull.priority, seq: ++this.seq, head: event.pull.headSha });
        this.held.delete(event.pull.number); // it joins (again) because its rules pass now
        if (!this.joinedAt.has(event.pull.number)) this.joinedAt.set(event.pull.number, now);
      }
    }
    if (event.kind === 'hold') {
      if (event.reason === null) this.held.delete(event.number);
      else this.held.add(event.number);
    }
    if (event.kind === 'land-failed' && !this.settings.staging) {
      // Without staging a pull request whose landing failed leaves; the shell evaluates it again (a pass joins it again).
      for (const p of this.landing.get(event.batch) ?? []) {
        this.queued.delete(p.number);
        this.left.add(p.number);
        this.held.delete(p.number);
      }
    }
    if (event.kind === 'leave') {
      this.queued.delete(event.number);
      this.left.add(event.number);
      this.held.delete(event.number);
    }
    this.failures(event, now);
    const { state, actions } = decide(this.state, event, this.settings, now);
    this.state = state;
    this.log.push(`${now} ${JSON.stringify(event)} → ${JSON.stringify(actions)}`);
    for (const a of actions) {
      if (a.kind === 'build') {
        this.live.set(a.batch, { pulls: a.pulls, sha: null, ciStartedAt: null });
        this.onto.set(a.batch, a.onto);
      }
      if (a.kind === 'delete') this.live.delete(Number(a.ref.split('/').at(-1)));
      if (a.kind === 'dequeue') this.onDequeue(a.number, a.why.kind);
      if (a.kind === 'land') {
        this.checkOrder(a.pulls);
        this.landing.set(a.batch, a.pulls);
      }
    }
    return actions;
  }

  /**
   * The batches this event fails, found from the outside (a failed check on a live batch's staging head, a timeout, a refusal):
   * their pull requests move back — except a run kept for evidence: one built on a batch whose checks failed or timed out, under
   * test then and started at most EVIDENCE_LAG of that batch's run time after it (evidence.ts), whose own failure moves nothing.
   */
  private failures(event: QueueEvent, now: number): void {
    const failedBatches: { id: number; start: number | null }[] = [];
    const b = 'batch' in event ? this.live.get(event.batch) : undefined;
    if (event.kind === 'built' && b?.sha === null) Object.assign(b, { sha: event.sha, ciStartedAt: now });
    if (event.kind === 'checks' && event.outcome !== 'pending' && b?.sha === event.sha && b.ciStartedAt !== null) {
      if (event.outcome === 'failure') failedBatches.push({ id: event.batch, start: b.ciStartedAt });
      b.ciStartedAt = null;
    }
    if (event.kind === 'tick') {
      for (const [id, x] of this.live) if (x.ciStartedAt !== null && now >= x.ciStartedAt + this.settings.timeoutMs) failedBatches.push({ id, start: x.ciStartedAt });
    }
    if (event.kind === 'land-failed' && event.reason === 'refused' && event.merged.length === 0 && b) failedBatches.push({ id: event.batch, start: null });
    if (event.kind === 'landed') this.live.delete(event.batch);
    for (const { id, start } of failedBatches) {
      this.live.get(id)!.ciStartedAt = null;
      if (this.evidence.has(id)) continue;
      if (start !== null) {
        for (const [above, x] of this.live) {
          if (x.ciStartedAt !== null && x.ciStartedAt - start <= EVIDENCE_LAG * (now - start) && this.below(above).includes(id)) this.evidence.add(above);
        }
      }
      const failedOnes = new Set(this.live.get(id)!.pulls.map((p) => p.number));
      const others = [...this.live].filter(([x]) => x !== id).flatMap(([, o]) => o.pulls.map((p) => p.number)).filter((n) => !failedOnes.has(n));
      for (const priority of [true, false]) {
        const behind = Math.max(-1, ...others.map((n) => this.queued.get(n)).filter((q) => q?.priority === priority).map((q) => q!.seq));
        const moved = [...this.queued.entries()].filter(([n, q]) => failedOnes.has(n) && q.priority === priority && q.seq < behind).map(([, q]) => q);
        // Make room right behind `behind`, then put them there in their own order.
        moved.sort((x, y) => x.seq - y.seq);
        for (const q of this.queued.values()) if (q.seq > behind) q.seq += moved.length;
        moved.forEach((q, i) => (q.seq = behind + 1 + i));
        this.seq += moved.length;
      }
    }
  }

  /** The batches a batch was built on, nearest first (through the staging heads its `onto` names). */
  private below(id: number): number[] {
    const out: number[] = [];
    for (let onto = this.onto.get(id); onto !== undefined; ) {
      const under = [...this.staging].find(([, sha]) => sha === onto)?.[0];
      if (under === undefined) break;
      out.push(under);
      onto = this.onto.get(under);
    }
    return out;
  }

  /** When the core decides to land: its pull requests are queued with those heads, not held, none landed or bad, and nothing queued is ahead of them. */
  private checkOrder(pulls: QueuedPull[]): void {
    for (const [i, p] of pulls.entries()) {
      if (this.landedAt.has(p.number)) this.violation(`#${p.number} is landed twice`);
      if (this.bad.has(p.number)) this.violation(`bad #${p.number} is landed`);
      if (this.held.has(p.number)) this.violation(`held #${p.number} is landed`);
      const q = this.queued.get(p.number);
      if (!q || q.head !== p.headSha) this.violation(`#${p.number} is landed with ${p.headSha}, not queued with that head`);
      for (const [m, o] of this.queued) {
        if (!this.settings.staging && this.held.has(m)) continue; // without staging, held ones are passed by
        const ahead = o.priority !== q.priority ? o.priority : o.seq < q.seq;
        if (ahead && !pulls.slice(0, i).some((x) => x.number === m)) this.violation(`#${p.number} is landed before #${m}, ahead of it in the queue`);
      }
    }
  }

  private onDequeue(n: number, why: string): void {
    if (!this.queued.has(n)) this.violation(`dequeue of #${n}, which is not queued`);
    this.queued.delete(n);
    this.dequeued.set(n, why);
  }

  /** A crash and restart: the state goes through JSON; the returned actions are those to redo. */
  restart(): QueueAction[] {
    this.state = JSON.parse(JSON.stringify(this.state)) as QueueState;
    return resume(this.state);
  }

  /** A push to the base by someone else. */
  push(tag: string): string {
    this.base = this.commit(this.base, new Set([...this.tree(this.base), tag]));
    return this.base;
  }

  /** Carry out a `build`: the answer, `conflictsWith` deciding which pull request conflicts (none by default). */
  build(a: Extract<QueueAction, { kind: 'build' }>, conflictsWith: (p: QueuedPull) => string | null = () => null): QueueEvent {
    let head = a.onto;
    const tree = new Set(this.tree(a.onto));
    for (const p of a.pulls) {
      const q = this.queued.get(p.number);
      if (!q) continue; // it left meanwhile: the merge would still happen on GitHub; the core drops this batch anyway
      const other = conflictsWith(p);
      if (other !== null) return { kind: 'conflict', batch: a.batch, number: p.number, with: other };
      tree.add(String(p.number));
      head = this.commit(head, new Set(tree));
    }
    const sha = this.commit(head, new Set(tree));
    this.staging.set(a.batch, sha);
    return { kind: 'built', batch: a.batch, sha, tree: treeId(tree) };
  }

  /** What CI says of a staging commit: failure if it holds a bad pull request, or if `flake` (drawn by the caller). */
  ci(batch: number, sha: string, flake: boolean): QueueEvent {
    const badOne = [...this.tree(sha)].find((c) => this.bad.has(Number(c)));
    if (badOne !== undefined || flake) return { kind: 'checks', batch, sha, outcome: 'failure', check: 'ci/test', url: null };
    this.passed.add(sha);
    return { kind: 'checks', batch, sha, outcome: 'success' };
  }

  /** Carry out a `land` as the shell would, checking the invariants first. */
  land(a: Extract<QueueAction, { kind: 'land' }>, now: number): QueueEvent {
    // Done again after a restart: the shell finds it landed (every pull request merged by this batch) and says so.
    const done = this.landedBy.get(a.batch);
    if (done !== undefined) return { kind: 'landed', batch: a.batch, after: done };
    if (this.base !== a.onto) return { kind: 'land-failed', batch: a.batch, reason: 'base-moved', message: 'the base moved', merged: [], after: this.base };
    const gone = a.pulls.find((p) => this.queued.get(p.number)?.head !== p.headSha || this.held.has(p.number));
    if (gone) return { kind: 'land-failed', batch: a.batch, reason: 'recheck', message: `#${gone.number} no longer passes`, merged: [], after: this.base };
    for (const p of a.pulls) {
      if (this.landedAt.has(p.number)) this.violation(`#${p.number} lands twice`);
      if (this.bad.has(p.number)) this.violation(`bad #${p.number} lands`);
    }
    const want = new Set([...this.tree(this.base), ...a.pulls.map((p) => String(p.number))]);
    if (this.settings.staging) {
      if (a.stagingSha === null || !this.passed.has(a.stagingSha)) this.violation(`batch ${a.batch} lands ${a.stagingSha}, whose checks did not succeed`);
      if (treeId(this.tree(a.stagingSha)) !== treeId(want)) this.violation(`batch ${a.batch}: staging tree ${treeId(this.tree(a.stagingSha))} is not the base + its pull requests (${treeId(want)})`);
      if (a.stagingTree !== treeId(want)) this.violation(`batch ${a.batch}: stagingTree ${a.stagingTree} is not ${treeId(want)}`);
      if (this.method === 'merge' && !this.descends(a.stagingSha, this.base)) this.violation(`batch ${a.batch}: ${a.stagingSha} does not descend from the base`);
    }
    if (this.method === 'merge' && a.stagingSha !== null) this.base = a.stagingSha;
    else for (const p of a.pulls) this.base = this.commit(this.base, new Set([...this.tree(this.base), String(p.number)]));
    for (const p of a.pulls) {
      this.landed.push(p.number);
      this.landedAt.set(p.number, now);
      this.queued.delete(p.number);
    }
    this.landedBy.set(a.batch, this.base);
    return { kind: 'landed', batch: a.batch, after: this.base };
  }

  /** Nothing lost: every pull request that joined landed, left, was dequeued, or is still queued in the core. */
  checkNothingLost(): void {
    const inCore = new Set(this.state.pulls.map((p) => p.number));
    for (const n of this.joinedAt.keys()) {
      if (!this.landedAt.has(n) && !this.left.has(n) && !this.dequeued.has(n) && !inCore.has(n)) this.violation(`#${n} was lost`);
    }
    for (const n of this.queued.keys()) if (!inCore.has(n)) this.violation(`#${n} is queued for the shell but not in the core`);
  }
}

export function treeId(tree: Set<string>): string {
  return [...tree].sort().join(',');
}
