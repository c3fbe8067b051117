// Landing without `land.queue` through the merge queue's core (issue 19): one
// place decides what lands next. A pass joins its base branch's queue with the
// settings WITHOUT_QUEUE (batches of one, no staging); the core's `land` comes
// back here and is carried out by the lander (its re-read, intent journal,
// merge, uncertainty resolution); its outcome goes back to the core as
// `landed` / `land-failed` (the pull request leaves; a pass joins it again).
// The pass that lands waits for its landing, so an error reaches the gate,
// which retries the evaluation as it always did.
import type { PassInfo } from '../github/gate.js';
import type { PullRef } from '../github/pull-ref.js';
import { describe } from '../queue/core.js';
import { queueSetup } from '../queue/hooks.js';
import type { QueueRunner } from '../queue/runner.js';
import { queueKey, type BranchWhere, type QueueStore, type StoredBranch } from '../queue/store.js';
import type { QueueAction, QueueEvent } from '../queue/types.js';
import { landPolicy, shouldLand } from './decide.js';
import { journalKey, type LandingJournal } from './journal.js';

/** Passes remembered, at most (one per pull request; the oldest go first). */
const PASSES_LIMIT = 10_000;

type Waiter = { resolve: () => void; reject: (err: unknown) => void };

export interface DirectDeps {
  runner: QueueRunner;
  store: QueueStore;
  journal: LandingJournal;
  /** The lander's landing of one pass (Lander.landNow). */
  land(pass: PassInfo): Promise<void>;
  /** Evaluate a pull request again (the gate's queue). */
  requestEvaluation(ref: PullRef): void;
}

export class DirectLandings {
  /** The latest pass of each pull request waiting to land: what its `land` rests on. */
  private readonly passes = new Map<string, PassInfo>();
  /** The passes waiting for their pull request's landing under way. */
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly deps: DirectDeps) {}

  /** The gate's OnPass for a policy without land.queue: join, and wait for the landing if the core lands it now. */
  readonly onPass = async (pass: PassInfo): Promise<void> => {
    const { ref, facts, policy } = pass;
    if (!shouldLand(landPolicy(policy), facts).land) return;
    const pull = journalKey(facts.repository, facts.number);
    if (this.deps.journal.get(pull)?.state === 'landed') return; // a redelivered or duplicated webhook after the landing: nothing to do
    this.passes.delete(pull);
    this.passes.set(pull, pass);
    if (this.passes.size > PASSES_LIMIT) this.passes.delete(this.passes.keys().next().value!);
    const where: BranchWhere = { installationId: ref.installationId, repository: facts.repository, branch: facts.base.ref };
    let settled = false;
    let waiter: Waiter = { resolve: () => undefined, reject: () => undefined };
    const done = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject };
    }).finally(() => (settled = true));
    done.catch(() => undefined); // awaited only when it lands now
    const waiting = this.waiters.get(pull) ?? new Set<Waiter>();
    waiting.add(waiter);
    this.waiters.set(pull, waiting);
    try {
      await this.deps.runner.apply(where, { kind: 'join', pull: { number: facts.number, headSha: facts.head.sha, priority: false } }, { setup: queueSetup(policy), baseSha: facts.base.sha });
      const stored = this.deps.store.branch(queueKey(where));
      // Queued behind another landing: its turn comes with the core's `land` (this pass, or a later one, at hand).
      if (settled || (stored && describe(stored.state, facts.number).kind === 'landing')) await done;
    } finally {
      waiting.delete(waiter);
      if (waiting.size === 0 && this.waiters.get(pull) === waiting) this.waiters.delete(pull);
    }
  };

  /** The runner's `land` without staging: the one pull request landed by the lander, its outcome as the core's event. */
  readonly land = async (branch: StoredBranch, action: Extract<QueueAction, { kind: 'land' }>): Promise<QueueEvent[]> => {
    const { number, headSha } = action.pulls[0];
    const pull = journalKey(branch.where.repository, number);
    const pass = this.passes.get(pull);
    const landed = (): QueueEvent[] | null => {
      const record = this.deps.journal.get(pull);
      return record?.state === 'landed' && record.headSha === headSha && record.after ? [{ kind: 'landed', batch: action.batch, after: record.after }] : null;
    };
    const failed = (message: string): QueueEvent[] => [{ kind: 'land-failed', batch: action.batch, reason: 'recheck', message, merged: [], after: null }];
    if (!pass || pass.facts.head.sha !== headSha) {
      // No verdict at hand (after a restart): evaluated again; a pass joins again.
      const [owner, repo] = branch.where.repository.split('/');
      this.finish(pull, null);
      return landed() ?? (this.deps.requestEvaluation({ installationId: branch.where.installationId, owner, repo, number }), failed('no verdict at hand'));
    }
    this.passes.delete(pull);
    try {
      await this.deps.land(pass);
    } catch (err) {
      // Nobody waits for it (it was queued behind another landing): evaluated again, as the gate does after an error.
      if (!this.finish(pull, err)) this.deps.requestEvaluation(pass.ref);
      return landed() ?? failed((err as Error).message);
    }
    this.finish(pull, null);
    return landed() ?? failed('not landed');
  };

  /** Tell the passes waiting for the pull request's landing that it is over (false: none waited). */
  private finish(pull: string, err: unknown): boolean {
    const waiting = this.waiters.get(pull);
    this.waiters.delete(pull);
    for (const w of waiting ?? []) (err === null ? w.resolve() : w.reject(err));
    return (waiting?.size ?? 0) > 0;
  }
}
