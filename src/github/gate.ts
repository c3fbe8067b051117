// The app's engine: "evaluate pull request X" requests go through a keyed queue
// (no overlap, bursts coalesce, bounded retries); an evaluation reads the
// policy, gathers facts, asks the functional core (src/rules) for a verdict,
// writes the check run, and arms a timer when time alone will change the
// verdict. When the retries are given up, the check is written as not passing
// and a slower retry is armed (fail closed, and keep trying). Handlers (app.ts)
// only translate events into requests.
//
// Its bookkeeping has files of its own: what events asked for until done
// (request-ledger.ts), what it remembers per pull request (pull-records.ts),
// the check runs it wrote (runs-written.ts), open pull requests' heads
// (heads.ts), the requests that go through a repository (scans.ts), giving up
// (give-up.ts, failure-checks.ts) and the scan after a restart (restart-scan.ts).
import type { Log } from '../log.js';
import { pullKey, type PullRef } from './pull-ref.js';
import type { PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { compileGlobs } from '../policy/glob.js';
import { evaluate, gatherFacts, policyErrorVerdict } from '../rules/index.js';
import type { Verdict } from '../rules/types.js';
import { pullPageUrl, type AppConfig } from './config.js';
import { AfterVerdictError, classifyError } from './errors.js';
import { FactsCache } from './facts-cache.js';
import { GitHubPullRequestSource, NO_NEEDS } from './facts.js';
import { giveUp, type GiveUpContext } from './give-up.js';
import type { Octokit } from '../octokit/types.js';
import { readPolicy } from './policy.js';
import type { PendingJournal, PendingRequest } from '../intake/pending.js';
import { asWritten, isUnchanged, planCheckRun, writeCheckRun, type CheckRunPlan } from './checkrun.js';
import { ChecksShown } from './checks-shown.js';
import type { ExistingCheckRun } from './nodes.js';
import { unreadablePlan } from './failure-checks.js';
import { HeadsIndex } from './heads.js';
import { PullRecords } from './pull-records.js';
import { KeyedQueue } from './queue.js';
import { RequestLedger } from './request-ledger.js';
import { resumeAfterRestart } from './restart-scan.js';
import { RunsWritten } from './runs-written.js';
import { RepositoryScans } from './scans.js';
import { TimeScheduler } from './scheduler.js';
import { ReviewRequests } from './review-requests.js';
import { TeamsCache } from './teams.js';
import { evaluationRecord, type EvaluationInput } from '../history/record.js';
import type { EvaluationRecord } from '../pages/types.js';

/** A passing verdict, as landing sees it. */
export interface PassInfo {
  octokit: Octokit;
  ref: PullRef;
  facts: PullRequestFacts;
  policy: Policy;
  verdict: Verdict;
  /** Our check run on the head (id null: not known), so landing can update it: the verdict's plan, and the plan as written (decorated). */
  check: { id: number | null; plan: CheckRunPlan; written: CheckRunPlan };
}

/** Called with a passing verdict unless DRY_RUN is set: where landing (src/land) plugs in. */
export type OnPass = (pass: PassInfo) => Promise<void>;

/** Landing's say in what the check of a passing verdict shows (pure; DRY_RUN included). */
export type DecoratePass = (plan: CheckRunPlan, pass: { ref: PullRef; facts: PullRequestFacts; policy: Policy; dryRun: boolean }) => CheckRunPlan;

/** A passing verdict's plan decorated again, without an evaluation (see `refreshCheck`); 'keep': leave the check as it is; null: it cannot say, evaluate instead. */
export type Redecorate = (...args: Parameters<DecoratePass>) => CheckRunPlan | 'keep' | null;

/** Every verdict (pass or not; `policy` null when it has errors), unless DRY_RUN is set: where the merge queue (src/queue) hears of its pull requests. */
export type OnVerdict = (info: { octokit: Octokit; ref: PullRef; facts: PullRequestFacts; policy: Policy | null; verdict: Verdict }) => Promise<void>;

/** Landing's adjustment of the facts before the rules see them (approvals carried over merge-gate's own branch updates). */
export type RefineFacts = (pass: { octokit: Octokit; ref: PullRef; facts: PullRequestFacts; policy: Policy }) => Promise<PullRequestFacts>;

export interface GateDeps {
  config: AppConfig;
  /** An octokit authenticated as the installation (Probot's `app.auth(id)`). */
  installationOctokit(installationId: number): Promise<Octokit>;
  /** An octokit authenticated as the app (Probot's `app.auth()`). */
  appOctokit(): Promise<Octokit>;
  log: Log;
  onPass?: OnPass;
  onVerdict?: OnVerdict;
  decoratePass?: DecoratePass;
  refineFacts?: RefineFacts;
  /** Durable record of what accepted events asked for, until done (src/intake); none: memory only. */
  pending?: PendingJournal;
  /** Every verdict (pass or not, a policy with errors included; not "no policy"), DRY_RUN too: the pull request's history (src/history). Its errors are logged, never fail the evaluation. */
  onEvaluated?: (record: EvaluationRecord) => void;
}

export type EvaluationResult =
  | { kind: 'closed' }
  | { kind: 'no-policy'; written: boolean }
  | { kind: 'verdict'; verdict: Verdict; written: boolean }
  | { kind: 'unreadable'; message: string; written: boolean };

/** Why an evaluation was asked for, beyond "something happened". */
export interface RequestOptions {
  /** Coalescing delay; absent: at once if the pull request and the queue are quiet, else the configured one (queue.ts). */
  delayMs?: number;
  /**
   * A check of ours may be on the head although no policy governs the pull
   * request any more (the policy changed, or the request comes from a check
   * we wrote): with no policy, look for it and mark it skipped. Otherwise an
   * evaluation without a policy stops right after reading the policy.
   */
  leftover?: boolean;
  /** What asks for it, for the pull request's history: `pull_request.synchronize`, `status`, `timer`, `restart`, `landing`, … */
  cause?: string;
}

export class MergeGate {
  readonly queue: KeyedQueue;
  readonly scheduler: TimeScheduler;
  readonly stats = { evaluations: 0 };
  private readonly pulls = new PullRecords();
  private readonly runs = new RunsWritten();
  private readonly shown = new ChecksShown();
  private readonly heads = new HeadsIndex();
  private readonly requests: RequestLedger;
  private readonly scans: RepositoryScans;
  private readonly factsCache = new FactsCache();
  /** Team members (`reviews.owners`), per installation, for a few minutes. */
  private readonly teams: TeamsCache;
  private readonly reviewRequests = new ReviewRequests();
  private appIdPromise: Promise<number> | null = null;

  constructor(private readonly deps: GateDeps) {
    const { config } = deps;
    this.teams = new TeamsCache(config.clock);
    this.queue = new KeyedQueue({
      delayMs: config.coalesceMs,
      maxWaitMs: config.coalesceMaxMs,
      concurrency: config.concurrency,
      retry: config.retry,
      timers: config.timers,
      clock: config.clock,
      onError: (key, error, { attempt, retryInMs }) => {
        const err = error as Error;
        if (retryInMs !== null) deps.log.warn({ key, attempt, retryInMs, err: err.message }, 'merge-gate: will retry');
        else deps.log.error({ key, attempt, err }, 'merge-gate: giving up for now; the check says so, and a slower retry is armed');
      },
      onGiveUp: (key, error) => {
        this.shown.forget(key); // the check is about to say something else
        return giveUp(this.giveUpContext(), key, error);
      },
    });
    this.scheduler = new TimeScheduler(config, (key) => {
      const ref = this.pulls.ref(key);
      // A check of ours carries the instant: it may be left over from a policy removed meanwhile.
      if (ref) this.requestEvaluation(ref, { delayMs: 0, leftover: true, cause: 'timer' });
    });
    this.requests = new RequestLedger(deps.pending);
    this.scans = new RepositoryScans({
      queue: this.queue,
      requests: this.requests,
      heads: this.heads,
      installationOctokit: (id) => deps.installationOctokit(id),
      appId: () => this.appId(),
      checkName: config.checkName,
      evaluate: (ref, leftover, cause) => this.requestEvaluation(ref, { leftover, cause }),
    });
  }

  /** The installation's Octokit, paced with every other request of the installation (for landing and the outbox). */
  octokit(installationId: number): Promise<Octokit> {
    return this.deps.installationOctokit(installationId);
  }

  /** Our GitHub App id (APP_ID, or asked of GitHub once). */
  appId(): Promise<number> {
    if (this.deps.config.appId !== undefined) return Promise.resolve(this.deps.config.appId);
    this.appIdPromise ??= this.deps
      .appOctokit()
      .then((o) => o.request('GET /app'))
      .then((res) => res.data!.id)
      .catch((err) => {
        this.appIdPromise = null;
        throw err;
      });
    return this.appIdPromise;
  }

  /** Evaluate the pull request soon; requests for it in the meantime coalesce. */
  requestEvaluation(ref: PullRef, options: RequestOptions = {}): void {
    const key = pullKey(ref);
    this.pulls.remember(key, ref);
    this.requests.note(key, { kind: 'pull', ref });
    if (options.leftover) this.pulls.markLeftover(key);
    if (options.cause) this.pulls.noteCauses(key, [options.cause]);
    // An idle pull request's first event is evaluated at once (leading edge); what follows coalesces.
    this.queue.enqueue(key, (release) => this.evaluate(ref, release).then(() => undefined), options.delayMs ?? 'leading');
  }

  /**
   * Only what the check says of the pull request's place changed (the merge queue's word): the check is written
   * again from its latest verdict, decorated anew by `redecorate` — no policy read, no facts query, and no write
   * when its text stays the same. An evaluation instead when one is asked for anyway (it decorates too), when
   * no verdict is at hand (after a restart, a failed evaluation) or `redecorate` cannot say. Under the pull
   * request's key: never beside its evaluation, and an evaluation asked for meanwhile wins.
   */
  refreshCheck(ref: PullRef, redecorate: Redecorate): void {
    const key = pullKey(ref);
    this.pulls.remember(key, ref);
    this.queue.enqueue(key, (release) => this.refresh(ref, redecorate, release), 'leading');
  }

  /** Our check on `headSha` as this process last wrote it with a verdict (null: not known). */
  checkShown(ref: PullRef, headSha: string): ExistingCheckRun | null {
    const record = this.shown.get(pullKey(ref));
    return record?.facts.head.sha === headSha ? asWritten(record.id, record.shown) : null;
  }

  private async refresh(ref: PullRef, redecorate: Redecorate, release: () => void): Promise<void> {
    const key = pullKey(ref);
    const record = this.requests.seen(key) === undefined ? this.shown.get(key) : undefined;
    const plan = !record ? null : record.pass ? redecorate(record.plan, { ref, facts: record.facts, policy: record.pass, dryRun: this.deps.config.dryRun }) : record.plan;
    if (!record || !plan) {
      this.pulls.noteCauses(key, ['queue']);
      await this.evaluate(ref, release);
      return;
    }
    if (plan === 'keep') return;
    const octokit = await this.deps.installationOctokit(ref.installationId);
    const headSha = record.facts.head.sha;
    await this.write(octokit, ref, asWritten(record.id, record.shown), headSha, plan, release);
    const id = this.runs.on(key, headSha);
    if (id !== null && this.shown.get(key) === record) this.shown.set(key, { ...record, shown: plan, id });
  }

  /** The pull request's head is `sha` (a pull-request event, or facts just read). */
  noteHead(ref: PullRef, sha: string): void {
    this.heads.note(ref, sha);
  }

  /** A closed pull request: drop what is pending for it. */
  forget(ref: PullRef): void {
    const key = pullKey(ref);
    this.heads.drop(ref);
    this.queue.cancel(key);
    this.scheduler.clear(key);
    this.pulls.forget(key);
    this.runs.forget(key);
    this.shown.forget(key);
    this.reviewRequests.forget(ref);
    this.requests.settle(key);
  }

  /** Ask again for what accepted events asked for before the last stop (a crash included); `other` takes the kinds the gate does not act on itself. */
  resumePending(other: (request: PendingRequest) => void = () => undefined): number {
    const pending = this.deps.pending?.all() ?? [];
    for (const r of pending) {
      if (r.kind === 'pull') this.requestEvaluation(r.ref, { leftover: true, cause: 'restart' });
      else if (r.kind === 'head') this.requestHeadSha(r.installationId, r.owner, r.repo, r.sha, 'restart');
      else if (r.kind === 'repository') this.requestRepository(r.installationId, r.owner, r.repo, 'restart');
      else if (r.kind === 'installation') this.requestInstallation(r.installationId);
      else other(r);
    }
    return pending.length;
  }

  /** A request came in (for work outside the gate, e.g. the trunk watch): see RequestLedger.note. */
  note(key: string, request: PendingRequest): void {
    this.requests.note(key, request);
  }

  /** The latest request for `key`, read when work for it starts (see `done`). */
  seen(key: string): number | undefined {
    return this.requests.seen(key);
  }

  /** The work for `key` succeeded having seen the requests up to `seen`; those that came in meanwhile have their own run queued. */
  done(key: string, seen: number | undefined): void {
    this.requests.done(key, seen);
  }

  /** Re-evaluate every open pull request of a repository (its policy changed). */
  requestRepository(installationId: number, owner: string, repo: string, cause = 'policy changed'): void {
    this.scans.repository(installationId, owner, repo, cause);
  }

  /** Re-evaluate every repository of an installation (the organisation-wide policy changed). */
  requestInstallation(installationId: number): void {
    this.scans.installation(installationId);
  }

  /** Re-evaluate the open pull requests whose head is `sha` (a check or status event; forks included). */
  requestHeadSha(installationId: number, owner: string, repo: string, sha: string, cause?: string): void {
    this.scans.headSha(installationId, owner, repo, sha, cause);
  }

  /**
   * One evaluation of one pull request, now. `release` gives the queue slot
   * back before a write, which GitHub's pacing may hold: evaluations that
   * write nothing never wait behind writes.
   */
  async evaluate(ref: PullRef, release: () => void = () => undefined): Promise<EvaluationResult> {
    const key = pullKey(ref);
    const leftover = this.pulls.takeLeftover(key);
    const seen = this.requests.seen(key);
    const causes = this.pulls.takeCauses(key);
    this.shown.forget(key); // until this evaluation has written its verdict
    try {
      const result = await this.evaluateOnce(ref, key, leftover, release, causes);
      this.requests.done(key, seen);
      return result;
    } catch (error) {
      if (leftover && this.pulls.ref(key)) this.pulls.markLeftover(key); // for the retry (unless forgotten meanwhile)
      this.pulls.noteCauses(key, causes);
      throw error;
    }
  }

  private async evaluateOnce(ref: PullRef, key: string, leftover: boolean, release: () => void, causes: string[]): Promise<EvaluationResult> {
    const { config, log } = this.deps;
    this.stats.evaluations++;
    const octokit = await this.deps.installationOctokit(ref.installationId);
    const read = await readPolicy(octokit, ref.owner, ref.repo, config.policyPath);
    this.pulls.setGoverned(key, read.kind !== 'none');
    if (read.kind === 'none' && !leftover) {
      // Not gated, and no reason to think a check of ours is on the head: one request, nothing written.
      this.scheduler.clear(key);
      return { kind: 'no-policy', written: false };
    }
    const appId = await this.appId();
    const exclude = read.kind === 'ok' && read.policy.size?.exclude.length ? compileGlobs(read.policy.size.exclude) : undefined;
    const source = new GitHubPullRequestSource({
      octokit,
      owner: ref.owner,
      repo: ref.repo,
      number: ref.number,
      appId,
      checkName: config.checkName,
      patchOptional: exclude,
      cache: this.factsCache,
      // gatherFacts asks for the members of the teams of groups that apply only (none: no request).
      teamsCache: { store: this.teams, installationId: ref.installationId },
    });

    let facts: PullRequestFacts;
    try {
      facts = read.kind === 'ok' ? await gatherFacts(read.policy, source) : await source.load(NO_NEEDS);
    } catch (error) {
      // Fail closed: nothing half-read becomes a pass. Say what went wrong when we can; otherwise retry.
      const cls = classifyError(error, config.clock.now());
      if (!cls.retryable && cls.explanation && source.facts?.state === 'open') {
        const written = await this.writeFor(octokit, ref, source, source.facts, unreadablePlan(cls.explanation), release);
        this.scheduler.clear(key);
        log.warn({ key, err: cls.explanation }, 'merge-gate: pull request could not be read');
        return { kind: 'unreadable', message: cls.explanation, written };
      }
      throw error;
    }

    if (facts.state !== 'open') {
      this.forget(ref);
      return { kind: 'closed' };
    }
    this.noteHead(ref, facts.head.sha);
    if (read.kind === 'none') {
      this.scheduler.clear(key);
      // Not gated. Only a check left over from an earlier policy is updated; otherwise nothing is written.
      if (!source.existingCheckRun) return { kind: 'no-policy', written: false };
      const verdict: Verdict = {
        outcome: 'skip',
        results: [{ rule: 'policy', outcome: 'skip', reason: `no ${config.policyPath} on the default branch: not gated`, details: [] }],
        nextChangeAt: null,
        headSha: facts.head.sha,
      };
      return { kind: 'no-policy', written: await this.writeFor(octokit, ref, source, facts, this.plan(verdict, facts), release) };
    }

    if (read.kind === 'ok' && this.deps.refineFacts) facts = await this.deps.refineFacts({ octokit, ref, facts, policy: read.policy });
    const verdict = read.kind === 'error' ? policyErrorVerdict(read.errors, facts.head.sha) : evaluate(read.policy, facts, config.clock.now());
    const plan = this.plan(verdict, facts);
    const passing = verdict.outcome === 'pass' && read.kind === 'ok' && this.deps.decoratePass ? { policy: read.policy, decorate: this.deps.decoratePass } : null;
    const shown = passing ? passing.decorate(plan, { ref, facts, policy: passing.policy, dryRun: config.dryRun }) : plan;
    const written = await this.writeFor(octokit, ref, source, facts, shown, release);
    const id = this.runs.on(key, facts.head.sha);
    if (id !== null) this.shown.set(key, { ref, facts, pass: passing?.policy ?? null, plan, shown, id });
    this.scheduler.schedule(key, verdict.nextChangeAt);
    this.recordEvaluation({ policy: read.kind === 'ok' ? read.policy : null, facts, verdict, causes, at: config.clock.now().getTime() });
    if (read.kind === 'ok' && !config.dryRun) await this.reviewRequests.afterVerdict(octokit, ref, facts, read.policy, log);
    if (!config.dryRun && this.deps.onVerdict) {
      try {
        await this.deps.onVerdict({ octokit, ref, facts, policy: read.kind === 'ok' ? read.policy : null, verdict });
      } catch (error) {
        throw new AfterVerdictError(error);
      }
    }
    if (verdict.outcome === 'pass' && read.kind === 'ok' && !config.dryRun && this.deps.onPass) {
      try {
        await this.deps.onPass({ octokit, ref, facts, policy: read.policy, verdict, check: { id: this.runs.on(key, facts.head.sha), plan, written: shown } });
      } catch (error) {
        throw new AfterVerdictError(error);
      }
    }
    log.debug({ key, outcome: verdict.outcome, written }, 'merge-gate: evaluated');
    return { kind: 'verdict', verdict, written };
  }

  /** Hand the evaluation to the history; a failure there is logged and the evaluation goes on. */
  private recordEvaluation(input: EvaluationInput): void {
    if (!this.deps.onEvaluated) return;
    try {
      this.deps.onEvaluated(evaluationRecord(input));
    } catch (err) {
      this.deps.log.warn({ pull: `${input.facts.repository}#${input.facts.number}`, err: (err as Error).message }, 'merge-gate: the evaluation could not be kept in its history (the pages show an older one)');
    }
  }

  private plan(verdict: Verdict, facts: PullRequestFacts): CheckRunPlan {
    const { dryRun, policyPath, pagesUrl } = this.deps.config;
    return planCheckRun(verdict, { dryRun, pullRequestUrl: facts.url, policyPath, pullPageUrl: pullPageUrl(pagesUrl, facts.repository, facts.number) });
  }

  /** Write the check on the head the facts read, over the run they found. */
  private writeFor(octokit: Octokit, ref: PullRef, source: GitHubPullRequestSource, facts: PullRequestFacts, plan: CheckRunPlan, release: () => void = () => undefined): Promise<boolean> {
    return this.write(octokit, ref, source.existingCheckRun, facts.head.sha, plan, release);
  }

  private async write(octokit: Octokit, ref: PullRef, existing: ExistingCheckRun | null, headSha: string, plan: CheckRunPlan, release: () => void = () => undefined): Promise<boolean> {
    if (!isUnchanged(existing, plan)) release(); // the write waits its turn without a slot
    const result = await writeCheckRun(
      octokit,
      {
        owner: ref.owner,
        repo: ref.repo,
        headSha,
        checkName: this.deps.config.checkName,
        existing,
        knownId: this.runs.createdOn(ref, headSha),
        now: this.deps.config.clock.now(),
      },
      plan,
    );
    if (result.id !== null) this.runs.wrote(ref, headSha, result.id, result.written && result.id !== existing?.id);
    return result.written;
  }

  /** What giving up on a pull request (src/github/give-up.ts) uses of the gate. */
  private giveUpContext(): GiveUpContext {
    return {
      config: this.deps.config,
      log: this.deps.log,
      installationOctokit: (id) => this.deps.installationOctokit(id),
      appId: () => this.appId(),
      scheduler: this.scheduler,
      pulls: this.pulls,
      runs: this.runs,
      forget: (ref) => this.forget(ref),
      write: (octokit, ref, source, facts, plan) => this.writeFor(octokit, ref, source, facts, plan),
    };
  }

  /** After a restart: re-arm the timers that lived in memory, and look again at waiting checks (src/github/restart-scan.ts). */
  resumeAfterRestart(): Promise<{ installations: number; repositories: number; scheduled: number; evaluated: number }> {
    const { config, log } = this.deps;
    return resumeAfterRestart({
      config,
      log,
      appId: () => this.appId(),
      appOctokit: () => this.deps.appOctokit(),
      installationOctokit: (id) => this.deps.installationOctokit(id),
      landing: this.deps.onPass !== undefined && !config.dryRun,
      schedule: (ref, at) => {
        const key = pullKey(ref);
        this.pulls.remember(key, ref);
        this.scheduler.schedule(key, at);
      },
      evaluate: (ref) => this.requestEvaluation(ref, { leftover: true, cause: 'restart' }),
    });
  }

  /** Resolves when no evaluation is due or running (timers for later instants aside). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.queue.stop();
    this.scheduler.stop();
  }
}
