// Landing a batch that passed (SPEC §4a), the `land` action: under the
// branch's order (the runner carries out one action at a time per branch),
// the base head is read (it must be the one the batch was built on) and every
// pull request of the batch re-checked right before (the landing's re-read,
// src/land/recheck.ts, and recheckVerdict at this instant); the landing journalled (journal.ts)
// before any call that moves the base; then the base fast-forwarded to the
// staging head (`merge`), or each pull request merged in order with its head
// SHA pinned and the base's tree compared with the staging tree that passed
// (`squash`, `rebase`); then ONE trunk-updated through the outbox, recorded
// with the landing. A restart finishes a journalled landing from what GitHub
// says (the base head; each pull request's merged state), never merging
// anything twice; a landing that had not begun is re-checked from the start.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PullRef } from '../github/pull-ref.js';
import { branchDeletion, landPolicy, recheckVerdict, shouldLand, trunkUpdated, classifyMergeError, type VerdictBasis } from '../land/decide.js';
import type { LandingGitHub } from '../land/github.js';
import { withLanding } from '../land/check.js';
import { quoted } from '../escape.js';
import { journalKey } from '../land/journal.js';
import { commitUrl, dispatchTarget } from '../land/lander.js';
import { rereadForMerge } from '../land/recheck.js';
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { OutboxSender } from '../outbox/outbox.js';
import { evaluate } from '../rules/index.js';
import { rewriteCheck, planOf, type CheckWriter } from './checks.js';
import type { QueueGitHub } from './github.js';
import type { BatchJournal, BatchLanding, BatchPull } from './journal.js';
import type { StoredBranch } from './store.js';
import { entry } from './state.js';
import type { QueueAction, QueueEvent } from './types.js';
import { queueVerdict } from './verdict.js';

type Land = Extract<QueueAction, { kind: 'land' }>;

export interface BatchLanderDeps extends CheckWriter {
  journal: BatchJournal;
  sender: Pick<OutboxSender, 'kick'>;
  /** TRUNK_WEBHOOK_URL's targets. */
  urls: readonly string[];
  github(octokit: Octokit, owner: string, repo: string, appId: number): QueueGitHub;
  landing(octokit: Octokit, owner: string, repo: string): LandingGitHub;
  installationOctokit(installationId: number): Promise<Octokit>;
  requestEvaluation(ref: PullRef): void;
  /** What the passing verdict a queued pull request joined with rested on (null: none known, e.g. after a restart). */
  basis(pull: string): VerdictBasis | null;
  policyPath: string;
  clock: Clock;
  log: Log;
  newId?: () => string;
}

/** The hold a pull request gets while its rules are read again (its evaluation releases it). */
export const RECHECKING = 're-checking its rules before landing';

export class BatchLander {
  constructor(private readonly deps: BatchLanderDeps) {}

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  async land(branch: StoredBranch, action: Land, octokit: Octokit): Promise<QueueEvent[]> {
    const { journal } = this.deps;
    if (action.stagingSha === null || action.stagingTree === null) {
      return [{ kind: 'land-failed', batch: action.batch, reason: 'refused', message: 'a batch without a staging branch is landed by the lander', merged: [], after: null }];
    }
    const id = { key: branch.key, batch: action.batch, stagingSha: action.stagingSha };
    let record = journal.get(id);
    if (record?.state === 'landed') {
      await this.tidy(record, octokit);
      return [{ kind: 'landed', batch: action.batch, after: record.after! }];
    }
    if (record?.state === 'intent') {
      const resumed = await this.resume(branch, record, octokit);
      if (resumed) return resumed;
      record = journal.get(id);
    }
    const { where } = branch;
    const checked = await this.recheck(branch, action, octokit);
    if ('events' in checked) return checked.events;
    record = journal.intend(
      { ...id, installationId: where.installationId, repository: where.repository, branch: where.branch, stagingTree: action.stagingTree, method: checked.method, before: action.onto, pulls: checked.pulls, targets: checked.targets, deleteBranch: checked.deleteBranch },
      this.now(),
    );
    if (record.state === 'landed') return [{ kind: 'landed', batch: action.batch, after: record.after! }];
    return this.move(branch, record, octokit);
  }

  /**
   * A landing journalled by an earlier attempt (a crash, or a call without a certain answer): finished when it
   * had begun — the base moved to the staging head, or some pull request merged — else dropped (null), and the
   * batch re-checked from the start.
   */
  private async resume(branch: StoredBranch, record: BatchLanding, octokit: Octokit): Promise<QueueEvent[] | null> {
    const [owner, repo] = branch.where.repository.split('/');
    const head = await this.deps.github(octokit, owner, repo, await this.deps.appId()).branchHead(branch.where.branch);
    if (head?.sha === record.stagingSha) return this.complete(record, record.stagingSha, octokit);
    if (record.method !== 'merge') {
      const gh = this.deps.landing(octokit, owner, repo);
      const merged = [...record.merged];
      for (const p of record.pulls) if (!merged.includes(p.number) && (await gh.pull(p.number)).merged) merged.push(p.number);
      if (merged.length > 0) {
        this.deps.journal.merged(record, merged, this.now());
        return this.move(branch, { ...record, merged }, octokit);
      }
    }
    if (head?.sha === record.before) {
      this.deps.journal.failed(record, this.now()); // nothing moved: it starts again, rules re-checked
      return null;
    }
    this.deps.journal.failed(record, this.now());
    return [{ kind: 'land-failed', batch: record.batch, reason: 'base-moved', message: `${branch.where.branch} moved`, merged: [], after: head?.sha ?? null }];
  }

  /** Every pull request's rules, right before: the pull requests as the event will name them, or the events that say why not. */
  private async recheck(branch: StoredBranch, action: Land, octokit: Octokit): Promise<{ pulls: BatchPull[]; method: BatchLanding['method']; targets: string[]; deleteBranch: boolean } | { events: QueueEvent[] }> {
    const { where } = branch;
    const [owner, repo] = where.repository.split('/');
    const now = this.deps.clock.now();
    const events: QueueEvent[] = [];
    const pulls: BatchPull[] = [];
    let method: BatchLanding['method'] = branch.setup.method;
    let dispatch = false;
    let deleteBranch = false;
    // The base head itself (a pull request's base SHA may lag behind a landing just made): what the batch was built on?
    const head = await this.deps.github(octokit, owner, repo, await this.deps.appId()).branchHead(where.branch);
    if (head?.sha !== action.onto) {
      return { events: [{ kind: 'land-failed', batch: action.batch, reason: 'base-moved', message: `${where.branch} moved`, merged: [], after: head?.sha ?? null }] };
    }
    for (const p of action.pulls) {
      const ref: PullRef = { installationId: where.installationId, owner, repo, number: p.number };
      const basis = this.deps.basis(journalKey(where.repository, p.number));
      const fail = (event: QueueEvent) => {
        events.push(event);
        this.deps.requestEvaluation(ref);
      };
      if (!basis || basis.facts.head.sha !== p.headSha) {
        fail({ kind: 'hold', number: p.number, reason: RECHECKING });
        continue;
      }
      const read = await rereadForMerge(octokit, ref, basis, { policyPath: this.deps.policyPath, appId: await this.deps.appId(), checkName: this.deps.checkName });
      if (read.kind === 'no-policy') {
        fail({ kind: 'leave', number: p.number, reason: 'removed' });
        continue;
      }
      const is = read.facts;
      if (is.state === 'merged') fail({ kind: 'leave', number: p.number, reason: 'merged-elsewhere' });
      else if (is.state !== 'open') fail({ kind: 'leave', number: p.number, reason: 'closed' });
      else if (is.head.sha !== p.headSha) fail({ kind: 'leave', number: p.number, reason: 'head-moved' });
      else if (is.base.ref !== where.branch) fail({ kind: 'leave', number: p.number, reason: 'base-changed' });
      // The verdict's basis on the base as read now: the base head is checked above, and staging CI tested the batch on it.
      else if (recheckVerdict({ policy: basis.policy, facts: { ...basis.facts, base: is.base } }, read, now).go) {
        pulls.push({ number: p.number, headSha: p.headSha, title: is.title, url: is.url, author: is.author.login, joinedAt: entry(branch.state, p.number)?.joinedAt });
        const land = landPolicy(read.policy);
        method = land.method;
        dispatch ||= land.dispatch;
        deleteBranch = land.delete_branch;
      } else {
        const verdict = queueVerdict(evaluate(read.policy, is, now), shouldLand(landPolicy(read.policy), is).land);
        // Still passing, on facts its verdict did not see: held while it is evaluated again (which releases it).
        fail(verdict.kind === 'leave' ? { kind: 'leave', number: p.number, reason: 'not-passing' } : { kind: 'hold', number: p.number, reason: verdict.kind === 'hold' ? verdict.reason : RECHECKING });
      }
    }
    if (events.length > 0) {
      this.deps.log.info({ queue: branch.key, batch: action.batch, events }, 'merge-gate: a pull request of a batch that passed no longer passes every rule; not landing it');
      return { events: [...events, { kind: 'land-failed', batch: action.batch, reason: 'recheck', message: 'a pull request no longer passes every rule', merged: [], after: null }] };
    }
    const targets = [...this.deps.urls, ...(dispatch ? [dispatchTarget(where.installationId, where.repository)] : [])];
    return { pulls, method, targets, deleteBranch };
  }

  /** The calls that move the base (the landing is journalled). */
  private async move(branch: StoredBranch, record: BatchLanding, octokit: Octokit): Promise<QueueEvent[]> {
    const { journal, log } = this.deps;
    const [owner, repo] = branch.where.repository.split('/');
    const base = branch.where.branch;
    const gh = this.deps.github(octokit, owner, repo, await this.deps.appId());
    if (record.method === 'merge') {
      let forwarded: Awaited<ReturnType<QueueGitHub['fastForward']>>;
      try {
        forwarded = await gh.fastForward(base, record.stagingSha);
      } catch (err) {
        // No certain answer: the base read again says whether it moved; else the action is tried again (resumed).
        if ((await gh.branchHead(base))?.sha === record.stagingSha) return this.complete(record, record.stagingSha, octokit);
        throw err;
      }
      if (!forwarded.ok) {
        journal.failed(record, this.now());
        return [{ kind: 'land-failed', batch: record.batch, reason: 'base-moved', message: `${base} is not where the batch was built (not a fast-forward)`, merged: [], after: null }];
      }
      return this.complete(record, record.stagingSha, octokit);
    }
    const landing = this.deps.landing(octokit, owner, repo);
    const merged = [...record.merged];
    for (const p of record.pulls) {
      if (merged.includes(p.number)) continue;
      try {
        await landing.merge(p.number, p.headSha, record.method);
      } catch (error) {
        const outcome = classifyMergeError(error, false);
        if (outcome.kind === 'uncertain') throw error; // tried again: resumed from each pull request's merged state
        journal.failed(record, this.now());
        const after = merged.length > 0 ? ((await gh.branchHead(base))?.sha ?? null) : null;
        log.warn({ queue: branch.key, batch: record.batch, pull: p.number, merged, err: outcome.message }, 'merge-gate: GitHub refused a merge of a batch; stopping');
        const left: QueueEvent[] = outcome.kind === 'head-moved' ? [{ kind: 'leave', number: p.number, reason: 'head-moved' }] : [];
        return [...left, { kind: 'land-failed', batch: record.batch, reason: 'refused', message: outcome.message, merged, after }];
      }
      merged.push(p.number);
      journal.merged(record, merged, this.now());
    }
    const head = await gh.branchHead(base);
    if (!head) throw new Error(`the base branch ${base} is gone`);
    if (head.tree !== record.stagingTree) {
      journal.failed(record, this.now());
      log.error(
        { queue: branch.key, batch: record.batch, merged, after: head.sha, tree: head.tree, stagingTree: record.stagingTree },
        `merge-gate: after merging batch ${record.batch}, ${base}'s tree is not the staging tree that passed (someone pushed in between): no trunk-updated; the queue rebuilds on the new head`,
      );
      await this.sayMismatch(record, head.sha, octokit);
      return [{ kind: 'land-failed', batch: record.batch, reason: 'tree-mismatch', message: `${base}'s tree differs from the staging tree that passed`, merged, after: head.sha }];
    }
    return this.complete(record, head.sha, octokit);
  }

  /** The landing with its one trunk-updated, recorded together (once); then the checks say so. */
  private async complete(record: BatchLanding, after: string, octokit: Octokit): Promise<QueueEvent[]> {
    const { journal } = this.deps;
    const landedAt = this.deps.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { record: landed, fresh } = journal.landed(
      record,
      after,
      (r) => {
        const pulls = r.pulls.map((p) => ({ number: p.number, title: p.title, url: p.url, author: p.author, head_sha: p.headSha }));
        return trunkUpdated({
          id: (this.deps.newId ?? randomUUID)(),
          repository: r.repository,
          branch: r.branch,
          before: r.before,
          after,
          pull_requests: [pulls[0], ...pulls.slice(1)],
          landed_at: landedAt,
        });
      },
      this.now(),
    );
    if (fresh) {
      this.deps.sender.kick();
      this.deps.log.info({ queue: record.key, batch: record.batch, before: record.before, after, pulls: record.pulls.map((p) => p.number) }, 'merge-gate: landed a batch');
    }
    await this.tidy(landed, octokit);
    return [{ kind: 'landed', batch: record.batch, after }];
  }

  /** After a landing: each pull request's check says "Landed as <sha> in batch N". Best effort; done again after a restart until it succeeds. */
  async tidy(record: BatchLanding, octokit?: Octokit): Promise<void> {
    if (record.tidied || record.after === null) return;
    const [owner, repo] = record.repository.split('/');
    try {
      const o = octokit ?? (await this.deps.installationOctokit(record.installationId));
      for (const p of record.pulls) {
        const ref: PullRef = { installationId: record.installationId, owner, repo, number: p.number };
        const note = { kind: 'landed' as const, sha: record.after, url: commitUrl(record.repository, record.after, p.url), branch: record.branch, method: record.method, batch: record.batch };
        await rewriteCheck(o, ref, p.headSha, this.deps, (run) => withLanding({ ...planOf(run), status: 'completed', conclusion: 'success' }, note));
      }
      if (record.deleteBranch) await this.deleteHeads(record, o);
      this.deps.journal.tidied(record);
    } catch (err) {
      this.deps.log.warn({ queue: record.key, batch: record.batch, err: (err as Error).message }, 'merge-gate: landed a batch, but could not say so on every check; trying again later');
    }
  }

  /** `land.delete_branch`: each head branch the lander's rules let go (branchDeletion: never a fork's, the default branch, another's base). */
  private async deleteHeads(record: BatchLanding, octokit: Octokit): Promise<void> {
    const [owner, repo] = record.repository.split('/');
    const gh = this.deps.landing(octokit, owner, repo);
    const open = await gh.openPulls();
    for (const p of record.pulls) {
      const pr = await gh.pull(p.number);
      const decision = branchDeletion({
        deleteBranch: true,
        headRepo: pr.headRepo,
        baseRepo: pr.baseRepo,
        headRef: pr.headRef,
        defaultBranch: pr.defaultBranch,
        otherBases: open.filter((o) => o.number !== p.number).map((o) => o.baseRef),
      });
      if (!decision.delete) continue;
      await gh.deleteBranch(pr.headRef).catch((err: Error & { status?: number }) => {
        if (err.status !== 422 && err.status !== 404) throw err; // already gone
      });
    }
  }

  /** The pull requests merged before a tree mismatch: their checks say what happened. */
  private async sayMismatch(record: BatchLanding, after: string, octokit: Octokit): Promise<void> {
    const [owner, repo] = record.repository.split('/');
    const title = `merged, but ${record.branch} then differed from what the queue tested`;
    const summary = `**Merged** in batch ${record.batch}, but after the merges ${quoted(record.branch)} (at ${after.slice(0, 7)}) does not have the tree of the staging head that passed (${record.stagingSha.slice(0, 7)}): someone pushed to it in between. No trunk-updated was sent for this batch; the queue goes on from the new head.`;
    for (const p of record.pulls) {
      try {
        await rewriteCheck(octokit, { installationId: record.installationId, owner, repo, number: p.number }, p.headSha, this.deps, (run) => ({ ...planOf(run), status: 'completed', conclusion: 'success', title, summary }));
      } catch (err) {
        this.deps.log.warn({ queue: record.key, pull: p.number, err: (err as Error).message }, 'merge-gate: could not write a check after a tree mismatch');
      }
    }
  }
}

