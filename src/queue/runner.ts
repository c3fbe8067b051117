// The merge queue's shell (SPEC §4a): per base branch, one event at a time —
// event → the core's `decide` → state and actions persisted together
// (store.ts) → the actions carried out in order, each idempotently, their
// answers becoming events again. Carrying out: `build` (a staging branch from
// the merges API), `land` (land-batch.ts), `delete`, `dequeue` and `notify`
// (the pull requests' checks are written again with the queue's word, from
// their latest verdicts: no evaluation, see hooks.ts `redecorate`), `wake` (a timer that sends `tick`). An action that fails
// in a way that may pass (GitHub down, rate limited) is tried again with
// backoff; nothing is skipped over it, so the queue's order of work is kept.
import type { Clock, TimerHandle, Timers } from '../clock.js';
import type { PullRef } from '../github/pull-ref.js';
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import { decide, initialQueue, type QueueState } from './core.js';
import { ownStagingBranches, type QueueGitHub } from './github.js';
import { queueKey, type BranchWhere, type QueueSetup, type QueueStore, type StoredAction, type StoredBranch } from './store.js';
import { stagingPrefix, stagingRef, type QueueAction, type QueueEvent } from './types.js';

export interface RunnerDeps {
  store: QueueStore;
  github(octokit: Octokit, owner: string, repo: string, appId: number): QueueGitHub;
  /** Our GitHub App id (our own check runs are never a required check). */
  appId(): Promise<number>;
  installationOctokit(installationId: number): Promise<Octokit>;
  /** The queue's word changed for a pull request: its check shows it again (the gate's refreshCheck; an evaluation only when no verdict is at hand). */
  refreshCheck(ref: PullRef): void;
  /** Carry out a `land` (land-batch.ts): the events its outcome is, in order (leave/hold first, then landed/land-failed). */
  land(branch: StoredBranch, action: Extract<QueueAction, { kind: 'land' }>, octokit: Octokit): Promise<QueueEvent[]>;
  clock: Clock;
  timers: Timers;
  log: Log;
  /** Backoff of an action that failed: the first delay, doubled up to the cap. */
  retry?: { firstMs: number; maxMs: number };
}

export const ACTION_RETRY = { firstMs: 1_000, maxMs: 60_000 } as const;

/** Actions that only tidy up or inform, given up after this many failed attempts; a build answers its own failure, a landing is tried until it is done. */
const TIDY_ACTIONS: ReadonlySet<QueueAction['kind']> = new Set(['delete', 'notify', 'dequeue']);
const TIDY_ATTEMPTS = 5;

const split = (repository: string) => {
  const [owner, repo] = repository.split('/');
  return { owner, repo };
};

export class QueueRunner {
  /** Per branch: the promise of its last event (events of a branch never overlap). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Branches whose actions are being carried out (one executor per branch). */
  private readonly executing = new Map<string, Promise<void>>();
  private readonly wakes = new Map<string, { at: number; handle: TimerHandle }>();
  /** Branches waiting to try a failed action again, and the last delay of each (doubled on the next failure). */
  private readonly retries = new Map<string, TimerHandle>();
  private readonly backoff = new Map<string, number>();
  /** Failed attempts of each action (by id). */
  private readonly failures = new Map<number, number>();
  private stopped = false;

  constructor(private readonly deps: RunnerDeps) {}

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  /** Run `fn` after the branch's earlier events (serialised per branch); its errors go to the caller only. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.chains.get(key) ?? Promise.resolve();
    // A stopped runner changes nothing any more (a process shutting down; a test's simulated crash).
    const run = before.then(() => (this.stopped ? Promise.reject(new Error('the merge queue is stopped')) : fn()));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return run;
  }

  /**
   * Apply an event to a branch's queue. `setup`: the latest policy's word (a join brings it; a queue is created only
   * by a join, at the base head read now). `done`: the action whose answer this is (removed in the same transaction).
   */
  apply(where: BranchWhere, event: QueueEvent, options: { setup?: QueueSetup; done?: number; baseSha?: string } = {}): Promise<void> {
    const key = queueKey(where);
    return this.serial(key, async () => {
      const stored = this.deps.store.branch(key);
      const setup = options.setup ?? stored?.setup;
      if (!setup || (!stored && event.kind !== 'join')) {
        if (options.done !== undefined) this.deps.store.done(options.done);
        return;
      }
      // A landing without land.queue brings the base head its verdict read (`baseSha`): no read of its own.
      const state: QueueState = stored?.state ?? initialQueue(where.branch, options.baseSha ?? (await this.baseHead(where)));
      const decision = decide(state, event, setup.settings, this.now());
      this.deps.store.save(stored?.where ?? where, decision.state, setup, decision.actions, options.done ?? null, this.now());
      if (decision.actions.length > 0) this.kick(key);
    });
  }

  /** Apply a read made under the branch's order (the read sees every event before it). */
  applyRead(where: BranchWhere, read: (branch: StoredBranch, gh: QueueGitHub) => Promise<QueueEvent | null>): Promise<void> {
    const key = queueKey(where);
    return this.serial(key, async () => {
      const stored = this.deps.store.branch(key);
      if (!stored) return;
      const event = await read(stored, await this.gh(stored.where));
      if (!event) return;
      const decision = decide(stored.state, event, stored.setup.settings, this.now());
      this.deps.store.save(stored.where, decision.state, stored.setup, decision.actions, null, this.now());
      if (decision.actions.length > 0) this.kick(key);
    });
  }

  private async gh(where: BranchWhere): Promise<QueueGitHub> {
    const { owner, repo } = split(where.repository);
    return this.deps.github(await this.deps.installationOctokit(where.installationId), owner, repo, await this.deps.appId());
  }

  private async baseHead(where: BranchWhere): Promise<string> {
    const head = await (await this.gh(where)).branchHead(where.branch);
    if (!head) throw new Error(`the base branch ${where.branch} of ${where.repository} does not exist`);
    return head.sha;
  }

  /** Carry out the branch's pending actions, unless that is under way (or waits for a retry). */
  kick(key: string): void {
    if (this.stopped || this.executing.has(key) || this.retries.has(key)) return;
    const run = this.execute(key).finally(() => {
      this.executing.delete(key);
      // Actions that came while the last one was carried out.
      if (!this.retries.has(key) && this.deps.store.actions(key).length > 0) this.kick(key);
    });
    this.executing.set(key, run);
  }

  private async execute(key: string): Promise<void> {
    for (let action = this.deps.store.actions(key)[0]; action && !this.stopped; action = this.deps.store.actions(key)[0]) {
      try {
        await this.carryOut(action);
        this.backoff.delete(key);
        this.failures.delete(action.id);
      } catch (err) {
        if (this.stopped) return;
        const tries = (this.failures.get(action.id) ?? 0) + 1;
        this.failures.set(action.id, tries);
        if (tries >= TIDY_ATTEMPTS && TIDY_ACTIONS.has(action.action.kind)) {
          // A tidy-up (a staging branch left, a check not rewritten) does not hold the queue up for good; orphans are deleted at start.
          this.deps.log.error({ queue: key, action: action.action, err: (err as Error).message, tries }, 'merge-gate: giving up a queue tidy-up action');
          this.deps.store.done(action.id);
          this.failures.delete(action.id);
          continue;
        }
        const { firstMs, maxMs } = this.deps.retry ?? ACTION_RETRY;
        const delay = Math.min(maxMs, (this.backoff.get(key) ?? firstMs / 2) * 2);
        this.backoff.set(key, delay);
        this.deps.log.warn({ queue: key, action: action.action.kind, err: (err as Error).message, retryInMs: delay }, 'merge-gate: a queue action failed; trying again');
        const handle = this.deps.timers.setTimeout(() => {
          this.retries.delete(key);
          this.kick(key);
        }, delay);
        this.retries.set(key, handle);
        return;
      }
    }
  }

  private async carryOut({ id, key, action }: StoredAction): Promise<void> {
    const branch = this.deps.store.branch(key);
    if (!branch) return this.deps.store.done(id);
    const { where } = branch;
    const { owner, repo } = split(where.repository);
    const pull = (number: number): PullRef => ({ installationId: where.installationId, owner, repo, number });
    switch (action.kind) {
      case 'wake':
        this.wake(where, action.at);
        return this.deps.store.done(id);
      case 'notify':
        // Without land.queue the check shows the landing's own notes, not the queue's word: nothing to write again.
        if (!branch.setup.settings.staging) return this.deps.store.done(id);
        for (const number of action.numbers) this.deps.refreshCheck(pull(number));
        return this.deps.store.done(id);
      case 'dequeue':
        // The head is noted as dequeued (store.save): its check shows why it left, and it does not join again.
        this.deps.refreshCheck(pull(action.number));
        return this.deps.store.done(id);
      case 'delete':
        await this.deleteStaging(branch, action.ref);
        return this.deps.store.done(id);
      case 'build':
        return this.apply(where, await this.build(branch, action), { done: id });
      case 'land': {
        const octokit = await this.deps.installationOctokit(where.installationId);
        const events = await this.deps.land(branch, action, octokit);
        if (events.length === 0) return this.deps.store.done(id);
        for (const [i, event] of events.entries()) await this.apply(where, event, i === events.length - 1 ? { done: id } : {});
        const last = events.at(-1)!;
        // Landed: its staging branch is not needed any more (the core asks for no `delete` of a landed batch).
        if (last.kind === 'landed' && action.stagingSha !== null) await this.deleteStaging(branch, stagingRef(where.branch, action.batch));
        // The base is not where the batch was built: where it is now (pushes during the landing were not read).
        if (last.kind === 'land-failed' && last.reason !== 'recheck' && action.stagingSha !== null) await this.baseRead(where);
        return;
      }
    }
  }

  private async deleteStaging(branch: StoredBranch, ref: string): Promise<void> {
    await (await this.gh(branch.where)).deleteBranch(ref);
    this.deps.store.stagingGone(branch.key, ref);
  }

  /** Reset the staging branch onto its base and merge each head in order (the merges API). */
  private async build(branch: StoredBranch, action: Extract<QueueAction, { kind: 'build' }>): Promise<QueueEvent> {
    const gh = await this.gh(branch.where);
    const { batch, ref, onto, pulls } = action;
    try {
      await gh.resetBranch(ref, onto);
      let head: { sha: string; tree: string } | null = null;
      for (const [i, p] of pulls.entries()) {
        const merged = await gh.mergeInto(ref, p.headSha, `Merge #${p.number} (${p.headSha.slice(0, 7)}) into ${ref}`);
        if (merged.kind === 'conflict') {
          const before = pulls.slice(0, i).map((b) => `#${b.number}`);
          return { kind: 'conflict', batch, number: p.number, with: before.length > 0 ? `${branch.where.branch} and ${before.join(' ')}` : branch.where.branch };
        }
        if (merged.kind === 'merged') head = { sha: merged.sha, tree: merged.tree };
      }
      // Nothing merged (each head already contained): the staging head is `onto` itself.
      head ??= await gh.branchHead(ref);
      if (!head) throw new Error(`the staging branch ${ref} is gone`);
      this.deps.store.built(branch.key, ref, head.sha);
      return { kind: 'built', batch, sha: head.sha, tree: head.tree };
    } catch (err) {
      this.deps.log.warn({ queue: branch.key, batch, err: (err as Error).message }, 'merge-gate: could not build a staging branch; the batch is planned again');
      return { kind: 'build-failed', batch, message: (err as Error).message };
    }
  }

  /** Send `tick` at `at`: the core's next deadline (the earliest to come), which replaces the one armed before. */
  private wake(where: BranchWhere, at: number): void {
    const key = queueKey(where);
    const armed = this.wakes.get(key);
    if (this.stopped) return;
    if (armed) this.deps.timers.clearTimeout(armed.handle);
    this.deps.store.setWake(key, at);
    const handle = this.deps.timers.setTimeout(
      () => {
        this.wakes.delete(key);
        this.deps.store.setWake(key, null);
        this.apply(where, { kind: 'tick' }).catch((err: Error) => this.deps.log.error({ queue: key, err: err.message }, 'merge-gate: the queue could not take a tick'));
      },
      Math.max(0, at - this.now()),
    );
    this.wakes.set(key, { at, handle });
  }

  /**
   * After a start: for every queue, its orphaned staging branches deleted (ours by name, known to no state), the
   * time and the base head read now told to the core, the staging heads' checks read again (results may have
   * come while it was down), and the actions a crash left carried out (a journalled landing is finished).
   */
  async start(): Promise<void> {
    for (const branch of this.deps.store.branches()) {
      const { where, key } = branch;
      try {
        const gh = await this.gh(where);
        const known = new Set(this.deps.store.stagingRefs(key));
        for (const { ref } of ownStagingBranches(where.branch, await gh.stagingBranches(stagingPrefix(where.branch)))) {
          if (known.has(ref)) continue;
          this.deps.log.info({ queue: key, ref }, 'merge-gate: deleting an orphaned staging branch');
          await gh.deleteBranch(ref);
        }
        const wakeAt = this.deps.store.wakeAt(key);
        if (wakeAt !== null) this.wake(where, wakeAt);
        await this.apply(where, { kind: 'tick' });
        await this.baseRead(where);
        for (const staged of this.deps.store.stagingHeads(key)) await this.readChecks(where, staged.sha);
      } catch (err) {
        this.deps.log.error({ queue: key, err: (err as Error).message }, 'merge-gate: could not look at a queue after start; its pending actions are carried out anyway');
      }
      this.kick(key);
    }
  }

  /**
   * The base head read now, told to the core (`base-moved`; equal to what it expects: nothing changes). Not while
   * a landing is under way: the base moves under it, and the landing's answer says where it is.
   */
  baseRead(where: BranchWhere): Promise<void> {
    return this.applyRead(where, async (branch, gh) => {
      if (this.deps.store.landing(branch.key)) return null;
      const head = await gh.branchHead(where.branch);
      return head ? { kind: 'base-moved', sha: head.sha } : null;
    });
  }

  /** A check or status changed on `sha`: if it is a staging head of ours, the batch's required checks are read and told to the core. */
  async stagingChecks(installationId: number, repository: string, sha: string): Promise<boolean> {
    const batches = this.deps.store.stagingBySha(installationId, repository, sha);
    for (const { key } of batches) {
      const branch = this.deps.store.branch(key);
      if (branch) await this.readChecks(branch.where, sha);
    }
    return batches.length > 0;
  }

  private readChecks(where: BranchWhere, sha: string): Promise<void> {
    return this.applyRead(where, async (branch, gh) => {
      const staged = this.deps.store.stagingHeads(branch.key).find((s) => s.sha === sha);
      if (!staged) return null; // deleted meanwhile
      const read = await gh.requiredChecks(sha, branch.setup.required, branch.setup.allowNeutral);
      return { kind: 'checks', batch: staged.batch, sha, ...read } as QueueEvent;
    });
  }

  /** An event is being applied or an action carried out. */
  busy(): boolean {
    return this.chains.size > 0 || this.executing.size > 0;
  }

  /** Resolves once no event is being applied and no action carried out (timers for later aside). */
  async idle(): Promise<void> {
    while (this.chains.size > 0 || this.executing.size > 0) {
      await Promise.all([...this.chains.values(), ...this.executing.values()]);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const { handle } of this.wakes.values()) this.deps.timers.clearTimeout(handle);
    for (const handle of this.retries.values()) this.deps.timers.clearTimeout(handle);
    this.wakes.clear();
    this.retries.clear();
  }
}
