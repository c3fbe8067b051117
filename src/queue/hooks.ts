// The merge queue plugged into the gate (SPEC §4a): small translations, the
// runner holds the logic. A verdict of a pull request whose policy has
// `land.queue`: a pass that may land joins (priority from `priority_label`); a
// wait because of a freeze or the trunk rule holds it; anything else sends it
// out. Webhooks: a new head, a close, a changed base send it out; a check on a
// staging head is read and told to the core; a push to a queued base is
// `base-moved`. The check of a queued pull request shows the queue's word
// instead of "pass" (decorate), and that of a head the queue sent away, why.
import type { CheckRunPlan } from '../github/checkrun.js';
import { withLanding } from '../land/check.js';
import type { DecoratePass } from '../github/gate.js';
import type { PullRef } from '../github/pull-ref.js';
import type { PullRequestFacts } from '../facts/types.js';
import { landPolicy, shouldLand, type VerdictBasis } from '../land/decide.js';
import { journalKey } from '../land/journal.js';
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { Policy } from '../policy/schema.js';
import type { Verdict } from '../rules/types.js';
import type { Clock } from '../clock.js';
import { decide, describe } from './core.js';
import type { QueueRunner } from './runner.js';
import { isPriority, queueSettings } from './settings.js';
import { queueKey, type BranchWhere, type QueueSetup, type QueueStore } from './store.js';
import type { LeaveReason, PullStatus } from './types.js';
import { queueVerdict } from './verdict.js';

/** Every verdict the gate reaches (not only passes), as the queue sees it; `policy` null: the policy has errors. */
export interface VerdictInfo {
  octokit: Octokit;
  ref: PullRef;
  facts: PullRequestFacts;
  policy: Policy | null;
  verdict: Verdict;
}

/** Bases of verdicts remembered, at most (one per queued pull request; the oldest go first). */
const BASES_LIMIT = 10_000;

export function queueSetup(policy: Policy): QueueSetup {
  return {
    settings: queueSettings(policy),
    method: landPolicy(policy).method,
    required: policy.checks?.required ?? [],
    allowNeutral: policy.checks?.allow_neutral ?? false,
  };
}

/** The policy turns the queue on. */
export function queued(policy: Policy | null | undefined): policy is Policy {
  return Boolean(policy?.land?.queue);
}

export class QueueHooks {
  /** What each queued pull request's passing verdict rested on: what a landing re-checks against (land-batch.ts). */
  private readonly bases = new Map<string, VerdictBasis>();

  constructor(
    private readonly deps: { store: QueueStore; runner: QueueRunner; clock: Clock; log: Log },
  ) {}

  basis(pull: string): VerdictBasis | null {
    return this.bases.get(pull) ?? null;
  }

  private remember(pull: string, basis: VerdictBasis): void {
    this.bases.delete(pull);
    this.bases.set(pull, basis);
    if (this.bases.size > BASES_LIMIT) this.bases.delete(this.bases.keys().next().value!);
  }

  /**
   * The pull request is in a batch whose `land` is under way: a change to it now (a leave, a hold) is left to the
   * landing, which re-reads every rule right before it moves the base; once it moved, it is too late (as for a
   * landing on its own), and the core must not drop a batch that landed.
   */
  private landing(where: BranchWhere, number: number): boolean {
    return this.deps.store.landing(queueKey(where))?.pulls.some((p) => p.number === number) ?? false;
  }

  private status(where: BranchWhere, number: number): PullStatus {
    const stored = this.deps.store.branch(queueKey(where));
    return stored ? describe(stored.state, number) : { kind: 'absent' };
  }

  /** A verdict (the gate's OnVerdict): join, hold or leave. */
  async onVerdict({ ref, facts, policy, verdict }: VerdictInfo): Promise<void> {
    const { store, runner } = this.deps;
    const where: BranchWhere = { installationId: ref.installationId, repository: facts.repository, branch: facts.base.ref };
    const pull = journalKey(facts.repository, facts.number);
    const gone = store.dequeued(pull);
    if (gone && gone.headSha !== facts.head.sha) store.clearDequeued(pull); // a new head may join again
    const inQueue = this.status(where, facts.number).kind !== 'absent';
    if (!queued(policy)) {
      // Without land.queue a pass joins through landing's onPass (src/land/direct.ts); anything else leaves, unless it is landing.
      const direct = store.branch(queueKey(where))?.setup.settings.staging === false;
      const passes = policy !== null && queueVerdict(verdict, shouldLand(landPolicy(policy), facts).land).kind === 'join';
      if (inQueue && !(direct && passes) && !this.landing(where, facts.number)) {
        await runner.apply(where, { kind: 'leave', number: facts.number, reason: policy ? 'removed' : 'not-passing' });
      }
      return;
    }
    const next = queueVerdict(verdict, shouldLand(landPolicy(policy), facts).land);
    if (next.kind === 'join') {
      if (gone?.headSha === facts.head.sha) return; // the queue sent this head away: a new head joins again
      this.remember(pull, { policy, facts });
      const pullEvent = { number: facts.number, headSha: facts.head.sha, priority: isPriority(policy, facts.labels) };
      // `priority_label` added or removed while queued: it joins again, at its new place.
      const queuedAs = store.branch(queueKey(where))?.state.pulls.find((p) => p.number === facts.number);
      if (queuedAs?.headSha === facts.head.sha && queuedAs.priority !== pullEvent.priority && !this.landing(where, facts.number)) {
        await runner.apply(where, { kind: 'leave', number: facts.number, reason: 'removed' });
      }
      await runner.apply(where, { kind: 'join', pull: pullEvent }, { setup: queueSetup(policy) });
      const now = this.status(where, facts.number);
      if ('held' in now && now.held !== null) await runner.apply(where, { kind: 'hold', number: facts.number, reason: null });
    } else if (inQueue && !this.landing(where, facts.number)) {
      await runner.apply(where, next.kind === 'hold' ? { kind: 'hold', number: facts.number, reason: next.reason } : { kind: 'leave', number: facts.number, reason: 'not-passing' });
    }
  }

  /** A pull request event that sends it out of its base's queue at once (its next verdict may bring it back). */
  async left(ref: PullRef, repository: string, base: string, reason: LeaveReason): Promise<void> {
    const where = { installationId: ref.installationId, repository, branch: base };
    if (this.status(where, ref.number).kind === 'absent' || this.landing(where, ref.number)) return;
    await this.deps.runner.apply(where, { kind: 'leave', number: ref.number, reason });
  }

  /**
   * A push to a branch: if it is a queue's base, its head is read and told to the core (our own fast-forward
   * included: the core knows its SHA). Read, not taken from the payload: pushes arrive late and out of order.
   */
  async pushed(installationId: number, repository: string, branch: string): Promise<void> {
    const where = { installationId, repository, branch };
    // Without land.queue the core never builds on the base: each landing re-reads it for itself.
    if (!this.deps.store.branch(queueKey(where))?.setup.settings.staging) return;
    await this.deps.runner.baseRead(where);
  }

  /**
   * `decorate` again after the queue changed (the gate's refreshCheck, no evaluation; null: evaluate instead).
   * A pull request out of the queue, not let go by it, is not the queue's to word any more ('keep'): what took
   * it out wrote its check or asked for an evaluation — a verdict that sends it out, a webhook (a push, a
   * close), the re-check before landing, the landing's "Landed as" (a notify may come after it: a refresh
   * waits its turn behind the landing).
   */
  redecorate(plan: CheckRunPlan, pass: Parameters<DecoratePass>[1]): CheckRunPlan | 'keep' | null {
    const { ref, facts } = pass;
    const where: BranchWhere = { installationId: ref.installationId, repository: facts.repository, branch: facts.base.ref };
    const gone = this.deps.store.dequeued(journalKey(facts.repository, facts.number))?.headSha === facts.head.sha;
    if (!gone && this.status(where, facts.number).kind === 'absent') return queued(pass.policy) ? 'keep' : null;
    return this.decorate(plan, pass);
  }

  /** The gate's DecoratePass for a queue's pull request (null: not one; landing's own decoration applies). */
  decorate(plan: CheckRunPlan, pass: Parameters<DecoratePass>[1]): CheckRunPlan | null {
    const { ref, facts, policy, dryRun } = pass;
    if (!queued(policy) || dryRun || !shouldLand(landPolicy(policy), facts).land) return null;
    const gone = this.deps.store.dequeued(journalKey(facts.repository, facts.number));
    if (gone?.headSha === facts.head.sha) return withLanding(plan, { kind: 'dequeued', why: gone.why, branch: facts.base.ref });
    const where: BranchWhere = { installationId: ref.installationId, repository: facts.repository, branch: facts.base.ref };
    let status = this.status(where, facts.number);
    if (status.kind === 'absent') {
      // Not queued yet (it joins right after this check is written): where joining puts it.
      const stored = this.deps.store.branch(queueKey(where));
      const join = { kind: 'join' as const, pull: { number: facts.number, headSha: facts.head.sha, priority: isPriority(policy, facts.labels) } };
      status = stored ? describe(decide(stored.state, join, queueSetup(policy).settings, this.deps.clock.now().getTime()).state, facts.number) : { kind: 'absent' };
      if (status.kind === 'absent') status = { kind: 'queued', position: 1, of: 1, branch: facts.base.ref, held: null };
    }
    return withLanding(plan, { kind: 'queue', status, required: policy.checks?.required ?? [] });
  }
}
