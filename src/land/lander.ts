// The lander (SPEC §4): the shell that acts on landing's decisions. Which
// pull request lands next is the merge queue's core's word (src/land/direct.ts:
// one landing at a time per repository and base branch); the evaluated head SHA
// pinned; the intent journalled before the merge call and the landing (with
// its trunk-updated deliveries) in one transaction after it; a merge call
// without a certain answer keeps its intent unresolved, and the branch locked,
// until the sweep (or the branch's next landing) resolves it (resolve.ts);
// every outcome on the check run through the check-run writer; after a
// landing, the other open pull requests of the branch re-evaluated (the base
// moved).
import { randomUUID } from 'node:crypto';
import type { PullRequestFacts } from '../facts/types.js';
import type { Clock } from '../clock.js';
import { classifyError } from '../github/errors.js';
import { asWritten, writeCheckRun, type CheckRunPlan } from '../github/checkrun.js';
import { GitHubPullRequestSource, NO_NEEDS } from '../github/facts.js';
import type { ExistingCheckRun } from '../github/nodes.js';
import type { Octokit } from '../octokit/types.js';
import { readPolicy } from '../github/policy.js';
import { pullKey, type PullRef } from '../github/pull-ref.js';
import type { DecoratePass, PassInfo, RefineFacts } from '../github/gate.js';
import type { Log } from '../log.js';
import type { OutboxSender } from '../outbox/outbox.js';
import { withLanding, type LandingNote } from './check.js';
import {
  branchDeletion,
  carriedHeads,
  carryApprovals,
  classifyMergeError,
  expectedUpdateTree,
  landPolicy,
  matchUpdate,
  mergeableRetryDelay,
  recheckVerdict,
  shouldLand,
  trunkUpdated,
  WORKFLOW_PATH,
} from './decide.js';
import type { LandingGitHub, PullState } from './github.js';
import { journalKey, type LandingJournal, type LandingRecord } from './journal.js';
import { DEFAULT_MERGE_SETTLE_MS, judgeIntent } from './resolve.js';
import { rereadForMerge, type Reread } from './recheck.js';

export interface LanderDeps {
  journal: LandingJournal;
  sender: OutboxSender;
  /** TRUNK_WEBHOOK_URL's targets. */
  urls: readonly string[];
  /** Landing's GitHub for a repository, through an octokit (the installation's). */
  github(octokit: Octokit, owner: string, repo: string): LandingGitHub;
  /** The installation's octokit (recovery after a restart has no event to bring one). */
  installationOctokit(installationId: number): Promise<Octokit>;
  /** Evaluate a pull request again (the gate's queue), after `delayMs`. */
  requestEvaluation(ref: PullRef, delayMs?: number): void;
  checkName: string;
  /** The policy file (a landing resolved after a restart reads `land.delete_branch` from it). */
  policyPath: string;
  /** Our GitHub App id (to find our check run after a restart). */
  appId(): Promise<number>;
  clock: Clock;
  log: Log;
  /** While GitHub computes `mergeable`: attempts in all, and the first delay (doubled each time). */
  mergeableRetry?: { attempts: number; baseDelayMs: number };
  newId?: () => string;
  /** Something is left unresolved (an intent whose merge's fate is unknown, a failed tidy-up): call `sweep` again later, by `atMs` at the latest. */
  sweepLater?: (atMs?: number) => void;
  /** Our app's bot account, `<slug>[bot]`: the evidence that a merge whose answer was lost was ours. */
  appLogin(): Promise<string>;
  /** How long after a merge call without a certain answer GitHub may still finish it (resolve.ts). */
  settleMs?: number;
}

/** What a sweep did: intents resolved each way, and what is left (with the earliest instant one becomes certain). */
export interface SweepCounts {
  landed: number;
  abandoned: number;
  mergedElsewhere: number;
  tidied: number;
  remaining: number;
  failed: number;
  nextAt: number | null;
}

type Resolution = 'landed' | 'abandoned' | 'merged-elsewhere' | { wait: number };

/** The repository_dispatch target of a repository, as the outbox stores it. */
export function dispatchTarget(installationId: number, repository: string): string {
  return `dispatch:${installationId}:${repository}`;
}

export function parseDispatchTarget(target: string): { installationId: number; owner: string; repo: string } | null {
  const m = /^dispatch:(\d+):([^/]+)\/(.+)$/.exec(target);
  return m ? { installationId: Number(m[1]), owner: m[2], repo: m[3] } : null;
}

/** A commit's page, on the GitHub the pull request's URL is on. */
export const commitUrl = (repository: string, sha: string, pullUrl: string) => `${new URL(pullUrl).origin}/${repository}/commit/${sha}`;


/** Landing notes remembered, at most (one per pull request; the oldest go first). */
const NOTES_LIMIT = 10_000;

export class Lander {
  readonly stats = { merges: 0, landed: 0 };
  /** Branches with a landing or a resolution under way (the sweep's exclusion): `installation:owner/repo:branch`. */
  private readonly busy = new Set<string>();
  /** Pull requests whose turn came while the sweep held their branch or a merge's fate was unknown: re-evaluated when it is free. */
  private readonly waiting = new Map<string, Map<string, PullRef>>();
  /** The last landing note of each pull request, by head: what its check says until something changes. */
  private readonly notes = new Map<string, { head: string; note: LandingNote }>();
  private readonly mergeableTries = new Map<string, number>();
  /** A merge call of an earlier process was sent before this instant (resolve.ts). */
  private readonly startedAt: number;

  constructor(private readonly deps: LanderDeps) {
    this.startedAt = deps.clock.now().getTime();
  }

  private static branchKey(installationId: number, repository: string, branch: string): string {
    return `${installationId}:${repository}:${branch}`.toLowerCase();
  }

  /** Take a branch's landing lock; false when a landing (or a resolution) holds it. */
  private lock(branch: string): boolean {
    if (this.busy.has(branch)) return false;
    this.busy.add(branch);
    return true;
  }

  /** Release it; the pull requests that waited are evaluated again, unless an unresolved intent still holds the branch. */
  private unlock(branch: string, where: { repository: string; branch: string }): void {
    this.busy.delete(branch);
    if (this.deps.journal.intents(where).length > 0) return; // the sweep wakes them once it is resolved
    const waiting = this.waiting.get(branch);
    this.waiting.delete(branch);
    for (const waiter of waiting?.values() ?? []) this.deps.requestEvaluation(waiter, 0);
  }

  private wait(branch: string, ref: PullRef): void {
    const waiting = this.waiting.get(branch) ?? new Map<string, PullRef>();
    waiting.set(pullKey(ref), ref);
    this.waiting.set(branch, waiting);
  }

  /** The gate's DecoratePass: the landing note of a passing verdict (pure, from what is known). */
  readonly decorate: DecoratePass = (plan, { ref, facts, policy, dryRun }) => {
    const note = this.noteFor(ref, facts, policy, dryRun);
    return note ? withLanding(plan, note) : plan;
  };

  private noteFor(ref: PullRef, facts: PullRequestFacts, policy: PassInfo['policy'], dryRun: boolean): LandingNote | null {
    const land = landPolicy(policy);
    const decision = shouldLand(land, facts);
    if (dryRun) {
      const would = decision.land
        ? `would land this head (${facts.head.sha.slice(0, 7)}) into ${facts.base.ref} by ${land.method}`
        : `would not land it: ${decision.why === 'off' ? 'land.mode is off' : decision.why === 'draft' ? 'it is a draft' : `it lacks the label ${land.label}`}`;
      return { kind: 'dry-run', would };
    }
    if (!decision.land) return decision.why === 'label' ? { kind: 'label', label: land.label } : { kind: decision.why };
    const record = this.deps.journal.get(journalKey(facts.repository, facts.number));
    if (record?.state === 'landed' && record.headSha === facts.head.sha && record.after) {
      return { kind: 'landed', sha: record.after, url: commitUrl(record.repository, record.after, facts.url), branch: record.branch, method: record.method };
    }
    const known = this.notes.get(pullKey(ref));
    return known?.head === facts.head.sha ? known.note : null;
  }

  /**
   * The gate's RefineFacts: approvals of a head merge-gate brought up to date count for the head it made
   * (reviews.fresh) — only a head that is exactly that update (matchUpdate); a head that went anywhere
   * else supersedes the update.
   */
  readonly refineFacts: RefineFacts = async ({ octokit, ref, facts }) => {
    const pull = journalKey(facts.repository, facts.number);
    const updates = this.deps.journal.updates(pull);
    if (updates.length === 0 || !facts.reviews) return facts;
    const pending = updates.filter((u) => u.toHead === null);
    const head = facts.head.sha;
    if (pending.length > 0 && !updates.some((u) => u.toHead === head) && !pending.some((u) => u.fromHead === head)) {
      const commit = await this.deps.github(octokit, ref.owner, ref.repo).commit(head);
      const match = matchUpdate(pending, { sha: head, ...commit }, this.deps.clock.now().getTime());
      if (match) this.deps.journal.verifyUpdate(pull, match.fromHead, head);
      else this.deps.journal.dropUpdates(pull);
    }
    return carryApprovals(facts, carriedHeads(this.deps.journal.updates(pull), head));
  };

  /**
   * Land a pass now: the merge queue's core decided it is this pull request's turn (src/land/direct.ts; the core
   * serialises the branch's landings). The lock still keeps it apart from the sweep and the retidy.
   */
  readonly landNow = async (pass: PassInfo): Promise<void> => {
    const { ref, facts } = pass;
    const record = this.deps.journal.get(journalKey(facts.repository, facts.number));
    if (record?.state === 'landed') return;
    const where = { repository: facts.repository, branch: facts.base.ref };
    const branch = Lander.branchKey(ref.installationId, facts.repository, facts.base.ref);
    // The sweep holds the branch: evaluated again (and joins again) once it is free.
    if (!this.lock(branch)) return this.wait(branch, ref);
    try {
      // A merge call whose fate is unknown (this pull request's or another's of the branch) is resolved first;
      // while it cannot be, nothing else lands on the branch.
      const intents = this.deps.journal.intents(where);
      if (record?.state === 'intent' && !intents.some((i) => i.pull === record.pull)) intents.push(record);
      for (const intent of intents) {
        const resolution = await this.resolveIntent(intent, intent.pull === record?.pull ? pass : null);
        if (typeof resolution === 'object') {
          this.wait(branch, ref);
          this.deps.sweepLater?.(resolution.wait);
          return;
        }
        // Merged (this pull request, or another one: the base moved and the branch's pull requests are evaluated again).
        if (resolution !== 'abandoned') return;
      }
      await this.land(pass);
    } finally {
      this.unlock(branch, where);
    }
  };

  private async land(pass: PassInfo): Promise<void> {
    const { octokit, ref, facts, policy, verdict } = pass;
    const { journal, clock, log } = this.deps;
    const land = landPolicy(policy);
    const gh = this.deps.github(octokit, ref.owner, ref.repo);
    const pull = journalKey(facts.repository, facts.number);
    // Under the branch's lock, right before the merge: read again what the verdict rests on; merge only if it still holds.
    const again = await this.reread(pass);
    if (again.kind === 'read' && (again.pull.merged || again.pull.state !== 'open')) return; // merged or closed by someone else
    /** The verdict still holds now; else it is evaluated again (and nothing merged). */
    const holds = (): boolean => {
      const check = again.kind === 'read' ? recheckVerdict({ policy, facts }, again, clock.now()) : { go: false as const, why: again.why };
      if (check.go) return true;
      log.info({ pull, head: verdict.headSha, why: check.why }, 'merge-gate: the verdict no longer holds; evaluating again instead of landing');
      this.deps.requestEvaluation(ref, 0);
      return false;
    };
    if (!holds() || again.kind !== 'read') return;
    const { pull: pr, testMerge } = again;

    const tryKey = `${pullKey(ref)}@${pr.headSha}`;
    if (pr.mergeable === null) {
      const attempt = (this.mergeableTries.get(tryKey) ?? 0) + 1;
      this.mergeableTries.set(tryKey, attempt);
      const delay = mergeableRetryDelay(attempt, this.deps.mergeableRetry ?? { attempts: 5, baseDelayMs: 2_000 });
      if (delay !== null) {
        this.deps.requestEvaluation(ref, delay);
        return;
      }
      this.mergeableTries.delete(tryKey);
      await this.note(pass, { kind: 'mergeable-unknown', attempts: attempt });
      return;
    }
    this.mergeableTries.delete(tryKey);
    if (pr.mergeable === false && pr.mergeableState === 'dirty') {
      await this.note(pass, { kind: 'conflicts', branch: pr.baseRef });
      return;
    }

    if (land.up_to_date && (await gh.behindBy(pr.baseSha, pr.headSha)) > 0) {
      // Recorded first (a crash after GitHub's answer must not lose it), with the tree the update must give.
      journal.recordUpdate(pull, { fromHead: pr.headSha, baseSha: pr.baseSha, tree: expectedUpdateTree(testMerge, pr.headSha, pr.baseSha), at: clock.now().getTime() });
      try {
        await gh.updateBranch(pr.number, pr.headSha);
      } catch (error) {
        const status = (error as { status?: number }).status;
        // A refusal is said on the check; anything else (a rate limit's 403 included) is retried.
        if ((status !== 422 && status !== 403) || classifyError(error).retryable) throw error;
        journal.dropUpdates(pull); // refused: no head to come is merge-gate's
        await this.note(pass, { kind: 'update-refused', branch: pr.baseRef, message: (error as Error).message });
        return;
      }
      await this.note(pass, { kind: 'updating', branch: pr.baseRef, baseSha: pr.baseSha });
      return;
    }

    // The clock moved on while GitHub was asked (a freeze may have begun): the verdict once more, at this instant.
    if (!holds()) return;
    const before = pr.baseSha; // the base's head as re-read just now: the verdict's (recheckVerdict)
    const intent = {
      pull,
      installationId: ref.installationId,
      repository: facts.repository,
      number: facts.number,
      branch: pr.baseRef,
      headSha: verdict.headSha,
      method: land.method,
      before,
      summary: { title: pr.title, url: pr.url, author: pr.author },
      targets: [...this.deps.urls, ...(land.dispatch ? [dispatchTarget(ref.installationId, facts.repository)] : [])],
      intentId: (this.deps.newId ?? randomUUID)(),
    };
    if (!journal.intend(intent, clock.now().getTime())) return; // landed meanwhile, or an intent of it is unresolved
    const recorded = journal.get(pull)!;
    let after: string;
    try {
      this.stats.merges++;
      after = (await gh.merge(pr.number, verdict.headSha, land.method)).sha;
    } catch (error) {
      const touchesWorkflows = (facts.files ?? []).some((f) => WORKFLOW_PATH.test(f.path) || WORKFLOW_PATH.test(f.previousPath ?? ''));
      const outcome = classifyMergeError(error, touchesWorkflows);
      const status = (error as { status?: number }).status;
      if (outcome.kind === 'uncertain' && status !== 403 && status !== 429) {
        // No certain answer (a 5xx, a dropped connection, the abort): GitHub may merge a moment later. Never a
        // second merge before knowing the first one's fate: the intent stays unresolved and the branch locked
        // until the pull request, read again with backoff, says so for certain (resolve.ts).
        journal.uncertain(pull, recorded.intentId, clock.now().getTime());
        log.warn({ pull, err: outcome.message }, 'merge-gate: the merge call failed without a certain answer; reading the pull request until it is certain');
        let resolution: Resolution;
        try {
          resolution = await this.resolveIntent(journal.get(pull)!, pass);
        } catch (err) {
          log.warn({ pull, err: (err as Error).message }, 'merge-gate: could not read the pull request after a failed merge call; trying again');
          resolution = { wait: clock.now().getTime() };
        }
        if (typeof resolution === 'object') {
          await this.note(pass, { kind: 'merge-failed', message: outcome.message });
          this.deps.sweepLater?.(resolution.wait);
        }
        return;
      }
      // Refused before GitHub did anything (a rate limit's 403 / 429 included): certainly not merged.
      journal.abandon(pull, recorded.intentId, clock.now().getTime());
      if (outcome.kind === 'uncertain') {
        await this.note(pass, { kind: 'merge-failed', message: outcome.message });
        throw error; // the queue retries the evaluation (after GitHub's retry-after), which reads everything again first
      }
      if (outcome.kind === 'head-moved') {
        await this.note(pass, { kind: 'head-moved', message: outcome.message });
        this.deps.requestEvaluation(ref, 0);
        return;
      }
      await this.note(pass, { kind: 'refused', status: outcome.status, message: outcome.message, workflows: outcome.workflows, branch: pr.baseRef });
      return;
    }
    await this.complete(recorded, after, pr, pass);
  }

  /** The pull request is merged as `after`: record it with its event, then say so, tidy up, and move the branch's queue on. */
  private async complete(record: LandingRecord, after: string, pr: PullState, pass: PassInfo | null): Promise<void> {
    const { journal, clock, log } = this.deps;
    const landedAt = pr.mergedAt ?? clock.now().toISOString();
    const { fresh } = journal.landed(
      record.pull,
      record.intentId,
      after,
      (r) =>
        trunkUpdated({
          id: (this.deps.newId ?? randomUUID)(),
          repository: r.repository,
          branch: r.branch,
          before: r.before,
          after,
          pull_requests: [{ number: r.number, title: r.summary.title, url: r.summary.url, author: r.summary.author, head_sha: r.headSha }],
          landed_at: new Date(landedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }),
      clock.now().getTime(),
    );
    if (!fresh) return;
    this.stats.landed++;
    this.deps.sender.kick();
    log.info({ pull: record.pull, after, before: record.before }, 'merge-gate: landed');
    await this.tidy(record, after, pr, pass);
  }

  /**
   * After a landing: say so on the check, delete the head branch when the
   * policy allows, evaluate the branch's other pull requests. Best effort: it
   * must not make the landing look failed. Journalled once all of it is done,
   * so a crash before that has a restart do it.
   */
  private async tidy(record: LandingRecord, after: string, pr: PullState, pass: PassInfo | null): Promise<void> {
    const { log } = this.deps;
    const [owner, repo] = record.repository.split('/');
    const ref: PullRef = pass?.ref ?? { installationId: record.installationId, owner, repo, number: record.number };
    const octokit = pass?.octokit ?? (await this.deps.installationOctokit(record.installationId));
    const landedNote: LandingNote = { kind: 'landed', sha: after, url: commitUrl(record.repository, after, pr.url), branch: record.branch, method: record.method };
    const gh = this.deps.github(octokit, owner, repo);
    const ours = record.state !== 'merged-elsewhere'; // someone else's merge: no "Landed as", no branch deletion
    let done = true;
    let policy: ReturnType<typeof landPolicy> | null = null;
    try {
      if (!ours) policy = null;
      else if (pass) {
        policy = landPolicy(pass.policy);
        await this.note(pass, landedNote);
      } else policy = await this.afterRestart(octokit, ref, record, landedNote);
    } catch (err) {
      log.warn({ pull: record.pull, err: (err as Error).message }, 'merge-gate: landed, but could not say so on the check run');
      done = false;
    }
    try {
      const open = await gh.openPulls();
      const decision = branchDeletion({
        deleteBranch: (ours && policy?.delete_branch) ?? false,
        headRepo: pr.headRepo,
        baseRepo: pr.baseRepo,
        headRef: pr.headRef,
        defaultBranch: pr.defaultBranch,
        otherBases: open.filter((p) => p.number !== record.number).map((p) => p.baseRef),
      });
      if (decision.delete) {
        await gh.deleteBranch(pr.headRef).catch((err: Error & { status?: number }) => {
          if (err.status !== 422 && err.status !== 404) throw err; // already gone
        });
      } else log.debug({ pull: record.pull, why: decision.why }, 'merge-gate: head branch kept');
      // The base moved: every other open pull request of the branch is evaluated against it.
      for (const p of open) if (p.number !== record.number && p.baseRef === record.branch) this.deps.requestEvaluation({ ...ref, number: p.number }, 0);
    } catch (err) {
      log.warn({ pull: record.pull, err: (err as Error).message }, 'merge-gate: landed, but could not tidy up (branch deletion / re-evaluating the branch)');
      done = false;
    }
    if (done) this.deps.journal.tidied(record.pull);
    else this.deps.sweepLater?.();
  }

  /**
   * Tidy up after every landing (and merge by someone else) whose tidy-up
   * failed, while the app ran or before a crash. Only merged records: an
   * intent may be a landing in progress right now.
   */
  async retidy(): Promise<number> {
    const records = this.deps.journal.untidied();
    for (const read of records) {
      const [owner, repo] = read.repository.split('/');
      // Under the branch's lock: a landing under way tidies up after itself.
      const branch = Lander.branchKey(read.installationId, read.repository, read.branch);
      if (!this.lock(branch)) {
        this.deps.sweepLater?.();
        continue;
      }
      try {
        const record = this.deps.journal.get(read.pull);
        if (!record || record.tidied || (record.state !== 'landed' && record.state !== 'merged-elsewhere')) continue;
        const octokit = await this.deps.installationOctokit(record.installationId);
        const pr = await this.deps.github(octokit, owner, repo).pull(record.number);
        await this.tidy(record, record.after!, pr, null);
      } catch (err) {
        this.deps.log.warn({ pull: read.pull, err: (err as Error).message }, 'merge-gate: could not read a landed pull request to tidy up after it');
        this.deps.sweepLater?.();
      } finally {
        this.unlock(branch, { repository: read.repository, branch: read.branch });
      }
    }
    return records.length;
  }

  /**
   * A landing resolved after a restart has no evaluation at hand: write "Landed as" over our check
   * as it stands on the merged head, and read the policy for `land.delete_branch` (null: no policy).
   */
  private async afterRestart(octokit: Octokit, ref: PullRef, record: LandingRecord, note: LandingNote): Promise<ReturnType<typeof landPolicy> | null> {
    const source = new GitHubPullRequestSource({ octokit, owner: ref.owner, repo: ref.repo, number: ref.number, appId: await this.deps.appId(), checkName: this.deps.checkName });
    const facts = await source.load(NO_NEEDS);
    const run = source.existingCheckRun;
    if (run && facts.head.sha === record.headSha && run.status === 'completed' && run.conclusion === 'success') {
      const plan: CheckRunPlan = { status: 'completed', conclusion: 'success', title: run.title ?? '', summary: run.summary ?? '', text: run.text ?? '', externalId: run.externalId ?? '', detailsUrl: null, annotations: [] };
      await writeCheckRun(
        octokit,
        { owner: ref.owner, repo: ref.repo, headSha: record.headSha, checkName: this.deps.checkName, existing: run, knownId: run.id, now: this.deps.clock.now() },
        withLanding(plan, note),
      );
    }
    const read = await readPolicy(octokit, ref.owner, ref.repo, this.deps.policyPath);
    return read.kind === 'ok' ? landPolicy(read.policy) : null;
  }

  /** The re-read the merge rests on (src/land/recheck.ts), its facts refined like the evaluation's. */
  private async reread(pass: PassInfo): Promise<Reread> {
    const { octokit, ref, facts, policy } = pass;
    const read = await rereadForMerge(octokit, ref, { policy, facts }, { policyPath: this.deps.policyPath, appId: await this.deps.appId(), checkName: this.deps.checkName });
    if (read.kind !== 'read' || read.facts.state !== 'open') return read;
    return { ...read, facts: await this.refineFacts({ octokit, ref, facts: read.facts, policy: read.policy }) };
  }

  /** Write a landing note on the pull request's check run (the verdict's plan with the note on top). */
  private async note(pass: PassInfo, note: LandingNote): Promise<void> {
    const { octokit, ref, facts } = pass;
    this.notes.delete(pullKey(ref));
    this.notes.set(pullKey(ref), { head: facts.head.sha, note });
    if (this.notes.size > NOTES_LIMIT) this.notes.delete(this.notes.keys().next().value!);
    const plan = withLanding(pass.check.plan, note);
    const existing: ExistingCheckRun | null = pass.check.id === null ? null : asWritten(pass.check.id, pass.check.written);
    const result = await writeCheckRun(
      octokit,
      { owner: ref.owner, repo: ref.repo, headSha: facts.head.sha, checkName: this.deps.checkName, existing, knownId: pass.check.id, now: this.deps.clock.now() },
      plan,
    );
    pass.check = { ...pass.check, id: result.id, written: plan };
  }

  /**
   * Resolve an intent whose merge's fate was unknown, from the pull request read now (resolve.ts): ours (the
   * landing recorded with its event, then tidied up), merged by someone else (recorded, logged, the branch
   * re-evaluated, no event), certainly not merged (abandoned, the pull request evaluated again), or not
   * certain yet (left as it is: `wait` says by when it will be). The caller holds the branch's lock.
   */
  private async resolveIntent(record: LandingRecord, pass: PassInfo | null): Promise<Resolution> {
    const { journal, clock, log } = this.deps;
    const [owner, repo] = record.repository.split('/');
    const octokit = pass?.octokit ?? (await this.deps.installationOctokit(record.installationId));
    const gh = this.deps.github(octokit, owner, repo);
    const pr = await gh.pull(record.number);
    const facts = {
      intent: record,
      pull: pr,
      appLogin: pr.merged ? await this.deps.appLogin() : '',
      onBefore: null as boolean | null,
      now: clock.now().getTime(),
      startedAt: this.startedAt,
      settleMs: this.deps.settleMs ?? DEFAULT_MERGE_SETTLE_MS,
    };
    let outcome = judgeIntent(facts);
    if (outcome.kind === 'read-parents') {
      const after = outcome.after;
      const onBefore =
        record.before === null
          ? false
          : record.method === 'rebase'
            ? (await gh.behindBy(record.before, after)) === 0
            : (await gh.commit(after)).parents[0] === record.before;
      outcome = judgeIntent({ ...facts, onBefore });
    }
    const now = clock.now().getTime();
    switch (outcome.kind) {
      case 'ours':
        await this.complete(record, outcome.after, pr, pass);
        return 'landed';
      case 'merged-elsewhere':
        if (!journal.mergedElsewhere(record.pull, record.intentId, outcome.after, now)) return 'merged-elsewhere';
        log.warn({ pull: record.pull, headSha: record.headSha, before: record.before, after: outcome.after, why: outcome.why }, 'merge-gate: merged by someone else, not by merge-gate: no trunk-updated; the branch is evaluated again');
        await this.tidy(journal.get(record.pull)!, outcome.after ?? '', pr, pass);
        return 'merged-elsewhere';
      case 'not-merged':
        if (journal.abandon(record.pull, record.intentId, now)) {
          this.deps.requestEvaluation({ installationId: record.installationId, owner, repo, number: record.number }, 0);
        }
        return 'abandoned';
      case 'wait':
      case 'read-parents':
        return { wait: outcome.kind === 'wait' ? outcome.until : now };
    }
  }

  /**
   * Resolve every unresolved intent (after a restart: those a crash left; while running: those whose merge
   * call gave no certain answer), each under its branch's lock and only if it is still the intent read; then
   * tidy up after merges whose tidy-up is not done. A branch busy with a landing is left for the next sweep.
   */
  async sweep(): Promise<SweepCounts> {
    const { journal, log } = this.deps;
    const counts: SweepCounts = { landed: 0, abandoned: 0, mergedElsewhere: 0, tidied: 0, remaining: 0, failed: 0, nextAt: null };
    const later = (at: number) => (counts.nextAt = Math.min(counts.nextAt ?? at, at));
    for (const read of journal.intents()) {
      const where = { repository: read.repository, branch: read.branch };
      const branch = Lander.branchKey(read.installationId, read.repository, read.branch);
      if (!this.lock(branch)) {
        counts.remaining++;
        continue;
      }
      try {
        const record = journal.get(read.pull);
        if (record?.state !== 'intent' || record.intentId !== read.intentId) continue; // resolved meanwhile
        const resolution = await this.resolveIntent(record, null);
        if (typeof resolution === 'object') {
          counts.remaining++;
          later(resolution.wait);
        } else if (resolution === 'landed') counts.landed++;
        else if (resolution === 'abandoned') counts.abandoned++;
        else counts.mergedElsewhere++;
      } catch (err) {
        log.error({ pull: read.pull, err: (err as Error).message }, 'merge-gate: could not resolve a landing whose merge call had no certain answer; trying again');
        counts.remaining++;
        counts.failed++;
      } finally {
        this.unlock(branch, where);
      }
    }
    counts.tidied = await this.retidy();
    counts.remaining += journal.untidied().length;
    return counts;
  }
}
