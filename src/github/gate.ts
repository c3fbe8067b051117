// The app's engine: "evaluate pull request X" requests go through a keyed queue
// (no overlap, bursts coalesce, bounded retries); an evaluation reads the
// policy, gathers facts, asks the functional core (src/rules) for a verdict,
// writes the check run, and arms a timer when time alone will change the
// verdict. When the retries are given up, the check is written as not passing
// and a slower retry is armed (fail closed, and keep trying). Handlers (app.ts)
// only translate events into requests.
import type { Log } from '../log.js';
import { pullKey, type PullRef } from './pull-ref.js';
import type { FactNeeds, PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { compileGlobs } from '../policy/glob.js';
import { evaluate, gatherFacts, policyErrorVerdict } from '../rules/index.js';
import type { Verdict } from '../rules/types.js';
import type { AppConfig } from './config.js';
import { AfterVerdictError, classifyError, describeError, isGone } from './errors.js';
import { FactsCache, GitHubPullRequestSource, listOpenPulls, type ExistingCheckRun } from './facts.js';
import type { Octokit } from '../octokit/types.js';
import { readPolicy } from './policy.js';
import type { PendingJournal, PendingRequest } from '../intake/pending.js';
import { isUnchanged, nextChangeFromExternalId, planCheckRun, writeCheckRun, type CheckRunPlan } from './checkrun.js';
import { KeyedQueue } from './queue.js';
import { TimeScheduler } from './scheduler.js';

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
  decoratePass?: DecoratePass;
  refineFacts?: RefineFacts;
  /** Durable record of what accepted events asked for, until done (src/intake); none: memory only. */
  pending?: PendingJournal;
}

export type EvaluationResult =
  | { kind: 'closed' }
  | { kind: 'no-policy'; written: boolean }
  | { kind: 'verdict'; verdict: Verdict; written: boolean }
  | { kind: 'unreadable'; message: string; written: boolean };

const NO_NEEDS: FactNeeds = { reviews: false, files: false, checks: false, registryPath: null, gitattributes: false };

/** Below this many GraphQL points left, the restart scan waits for the reset. */
const SCAN_RESERVE = 500;

function repoKey(installationId: number, owner: string, repo: string): string {
  return `${installationId}:${owner}/${repo}`.toLowerCase();
}

/** Why an evaluation was asked for, beyond "something happened". */
export interface RequestOptions {
  /** Coalescing delay; the configured one when absent. */
  delayMs?: number;
  /**
   * A check of ours may be on the head although no policy governs the pull
   * request any more (the policy changed, or the request comes from a check
   * we wrote): with no policy, look for it and mark it skipped. Otherwise an
   * evaluation without a policy stops right after reading the policy.
   */
  leftover?: boolean;
}

export class MergeGate {
  readonly queue: KeyedQueue;
  readonly scheduler: TimeScheduler;
  readonly stats = { evaluations: 0 };
  private readonly refs = new Map<string, PullRef>();
  /** Pull requests whose next evaluation looks for a leftover check when there is no policy (kept until one succeeds). */
  private readonly leftover = new Set<string>();
  /** Pull requests whose last policy read found a policy (ok or with errors). */
  private readonly governed = new Set<string>();
  /** The check run each pull request's last write went to: what a give-up marks when GitHub cannot even be read. */
  private readonly lastRun = new Map<string, { headSha: string; id: number }>();
  private readonly factsCache = new FactsCache();
  /** Check runs this process created, by repository and head SHA, for GitHub's read-after-write lag. */
  private readonly created = new Map<string, number>();
  private appIdPromise: Promise<number> | null = null;
  /**
   * The latest request's number, by queue key: work clears the pending record only if no request came in
   * while it ran. Numbers come from one counter that never goes back, so a request after a `forget` (a pull
   * request closed and reopened during its evaluation) never looks like the one the evaluation started with.
   */
  private readonly requests = new Map<string, number>();
  private lastRequest = 0;
  /** Keys recorded as pending in `deps.pending` (spares a write per event of a burst). */
  private readonly recorded = new Set<string>();
  /** Head SHAs waiting for their repository's lookup. */
  private readonly pendingHeads = new Map<string, Set<string>>();
  /**
   * Open pull requests' head SHAs (number → SHA), by repository; only for
   * repositories listed since the start (so a repository's map is complete),
   * kept current by pull-request events and evaluations. A check or status on
   * a head found here needs no lookup.
   */
  private readonly heads = new Map<string, Map<number, string>>();

  constructor(private readonly deps: GateDeps) {
    const { config } = deps;
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
      onGiveUp: (key, error) => this.giveUp(key, error),
    });
    this.scheduler = new TimeScheduler(config, (key) => {
      const ref = this.refs.get(key);
      // A check of ours carries the instant: it may be left over from a policy removed meanwhile.
      if (ref) this.requestEvaluation(ref, { delayMs: 0, leftover: true });
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
    this.refs.set(key, ref);
    this.note(key, { kind: 'pull', ref });
    if (options.leftover) this.leftover.add(key);
    this.queue.enqueue(key, (release) => this.evaluate(ref, release).then(() => undefined), options.delayMs);
  }

  /** The pull request's head is `sha` (a pull-request event, or facts just read). */
  noteHead(ref: PullRef, sha: string): void {
    this.heads.get(repoKey(ref.installationId, ref.owner, ref.repo))?.set(ref.number, sha);
  }

  /** A closed pull request: drop what is pending for it. */
  forget(ref: PullRef): void {
    const key = pullKey(ref);
    this.heads.get(repoKey(ref.installationId, ref.owner, ref.repo))?.delete(ref.number);
    this.queue.cancel(key);
    this.scheduler.clear(key);
    this.refs.delete(key);
    this.leftover.delete(key);
    this.governed.delete(key);
    this.lastRun.delete(key);
    this.settle(key);
  }

  /** Ask again for what accepted events asked for before the last stop (a crash included); `other` takes the kinds the gate does not act on itself. */
  resumePending(other: (request: PendingRequest) => void = () => undefined): number {
    const pending = this.deps.pending?.all() ?? [];
    for (const r of pending) {
      if (r.kind === 'pull') this.requestEvaluation(r.ref, { leftover: true });
      else if (r.kind === 'head') this.requestHeadSha(r.installationId, r.owner, r.repo, r.sha);
      else if (r.kind === 'repository') this.requestRepository(r.installationId, r.owner, r.repo);
      else if (r.kind === 'installation') this.requestInstallation(r.installationId);
      else other(r);
    }
    return pending.length;
  }

  /** A request came in: numbered, and recorded once in the journal (before the webhook is answered: GitHub will not send it again). */
  note(key: string, request: PendingRequest): void {
    this.requests.set(key, ++this.lastRequest);
    if (this.deps.pending && !this.recorded.has(key)) {
      this.deps.pending.add(key, request);
      this.recorded.add(key);
    }
  }

  /** The latest request for `key`, read when work for it starts (see `done`). */
  seen(key: string): number | undefined {
    return this.requests.get(key);
  }

  /** The work for `key` succeeded having seen the requests up to `seen`; those that came in meanwhile have their own run queued. */
  done(key: string, seen: number | undefined): void {
    if (this.requests.get(key) === seen) this.settle(key);
  }

  /** Nothing is pending for `key` any more. */
  private settle(key: string): void {
    this.requests.delete(key);
    if (this.recorded.delete(key)) this.deps.pending?.remove(key);
  }

  /** Re-evaluate every open pull request of a repository (its policy changed). */
  requestRepository(installationId: number, owner: string, repo: string): void {
    const key = `${installationId}:repo:${owner}/${repo}`.toLowerCase();
    this.note(key, { kind: 'repository', installationId, owner, repo });
    this.queue.enqueue(key, async () => {
      const seen = this.requests.get(key);
      const octokit = await this.deps.installationOctokit(installationId);
      const pulls = await listOpenPulls(octokit, { owner, repo, appId: await this.appId(), checkName: this.deps.config.checkName, withCheck: false });
      this.indexHeads(installationId, owner, repo, pulls);
      for (const p of pulls) this.requestEvaluation({ installationId, owner, repo, number: p.number }, { leftover: true });
      this.done(key, seen);
    });
  }

  /** Re-evaluate every repository of an installation (the organisation-wide policy changed). */
  requestInstallation(installationId: number): void {
    const key = `${installationId}:installation`;
    this.note(key, { kind: 'installation', installationId });
    this.queue.enqueue(key, async () => {
      const seen = this.requests.get(key);
      const octokit = await this.deps.installationOctokit(installationId);
      const repos = await octokit.paginate('GET /installation/repositories', { per_page: 100 });
      for (const r of repos) if (!r.archived) this.requestRepository(installationId, r.owner.login, r.name);
      this.done(key, seen);
    });
  }

  /**
   * Re-evaluate the open pull requests whose head is `sha` (a check or status
   * event). Lists the repository's open pull requests and matches their head
   * SHA, which reaches fork pull requests too. Lookups coalesce per repository:
   * one listing serves every SHA that arrived while it was due.
   */
  requestHeadSha(installationId: number, owner: string, repo: string, sha: string): void {
    const known = this.heads.get(repoKey(installationId, owner, repo));
    if (known) {
      const numbers = [...known].filter(([, head]) => head === sha).map(([number]) => number);
      // Known heads go straight to their pull requests, so a status joins their other events' coalescing.
      if (numbers.length > 0) {
        for (const number of numbers) this.requestEvaluation({ installationId, owner, repo, number });
        return;
      }
    }
    const key = `${installationId}:heads:${owner}/${repo}`.toLowerCase();
    /** Each SHA is its own pending request: one lookup serves several. */
    const shaKey = (s: string) => `${installationId}:head:${owner}/${repo}@${s}`.toLowerCase();
    this.note(shaKey(sha), { kind: 'head', installationId, owner, repo, sha });
    // The first lookup of a repository goes at once: it builds the index that spares the following ones.
    const delayMs = known ? undefined : 0;
    const shas = this.pendingHeads.get(key) ?? new Set<string>();
    shas.add(sha);
    this.pendingHeads.set(key, shas);
    this.queue.enqueue(key, async () => {
      const wanted = this.pendingHeads.get(key);
      this.pendingHeads.delete(key);
      if (!wanted?.size) return;
      try {
        const seen = [...wanted].map((s) => [shaKey(s), this.requests.get(shaKey(s))] as const);
        const octokit = await this.deps.installationOctokit(installationId);
        const pulls = await listOpenPulls(octokit, { owner, repo, appId: await this.appId(), checkName: this.deps.config.checkName, withCheck: false });
        this.indexHeads(installationId, owner, repo, pulls);
        for (const p of pulls) if (wanted.has(p.headSha)) this.requestEvaluation({ installationId, owner, repo, number: p.number });
        for (const [k, n] of seen) this.done(k, n);
      } catch (error) {
        // Put them back for the retry.
        const again = this.pendingHeads.get(key) ?? new Set<string>();
        for (const s of wanted) again.add(s);
        this.pendingHeads.set(key, again);
        throw error;
      }
    }, delayMs);
  }

  /** A listing of the repository's open pull requests: their heads (merged in, so heads noted meanwhile stay). */
  private indexHeads(installationId: number, owner: string, repo: string, pulls: ReadonlyArray<{ number: number; headSha: string }>): void {
    const key = repoKey(installationId, owner, repo);
    const index = this.heads.get(key) ?? new Map<number, string>();
    for (const p of pulls) index.set(p.number, p.headSha);
    this.heads.set(key, index);
  }

  /**
   * One evaluation of one pull request, now. `release` gives the queue slot
   * back before a write, which GitHub's pacing may hold: evaluations that
   * write nothing never wait behind writes.
   */
  async evaluate(ref: PullRef, release: () => void = () => undefined): Promise<EvaluationResult> {
    const key = pullKey(ref);
    const leftover = this.leftover.delete(key);
    const seen = this.requests.get(key);
    try {
      const result = await this.evaluateOnce(ref, key, leftover, release);
      this.done(key, seen);
      return result;
    } catch (error) {
      if (leftover && this.refs.has(key)) this.leftover.add(key); // for the retry (unless forgotten meanwhile)
      throw error;
    }
  }

  private async evaluateOnce(ref: PullRef, key: string, leftover: boolean, release: () => void): Promise<EvaluationResult> {
    const { config, log } = this.deps;
    this.stats.evaluations++;
    const octokit = await this.deps.installationOctokit(ref.installationId);
    const read = await readPolicy(octokit, ref.owner, ref.repo, config.policyPath);
    if (read.kind === 'none') this.governed.delete(key);
    else this.governed.add(key);
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
    });

    let facts: PullRequestFacts;
    try {
      facts = read.kind === 'ok' ? await gatherFacts(read.policy, source) : await source.load(NO_NEEDS);
    } catch (error) {
      // Fail closed: nothing half-read becomes a pass. Say what went wrong when we can; otherwise retry.
      const cls = classifyError(error, config.clock.now());
      if (!cls.retryable && cls.explanation && source.facts?.state === 'open') {
        const written = await this.write(octokit, ref, source, source.facts, unreadablePlan(cls.explanation), release);
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
      return { kind: 'no-policy', written: await this.write(octokit, ref, source, facts, this.plan(verdict, facts), release) };
    }

    if (read.kind === 'ok' && this.deps.refineFacts) facts = await this.deps.refineFacts({ octokit, ref, facts, policy: read.policy });
    const verdict = read.kind === 'error' ? policyErrorVerdict(read.errors, facts.head.sha) : evaluate(read.policy, facts, config.clock.now());
    const plan = this.plan(verdict, facts);
    const shown = verdict.outcome === 'pass' && read.kind === 'ok' && this.deps.decoratePass ? this.deps.decoratePass(plan, { ref, facts, policy: read.policy, dryRun: config.dryRun }) : plan;
    const written = await this.write(octokit, ref, source, facts, shown, release);
    this.scheduler.schedule(key, verdict.nextChangeAt);
    if (verdict.outcome === 'pass' && read.kind === 'ok' && !config.dryRun && this.deps.onPass) {
      try {
        await this.deps.onPass({ octokit, ref, facts, policy: read.policy, verdict, check: { id: this.runOn(key, facts.head.sha), plan, written: shown } });
      } catch (error) {
        throw new AfterVerdictError(error);
      }
    }
    log.debug({ key, outcome: verdict.outcome, written }, 'merge-gate: evaluated');
    return { kind: 'verdict', verdict, written };
  }

  /** Our check run on `headSha` as this process last wrote it. */
  private runOn(key: string, headSha: string): number | null {
    const last = this.lastRun.get(key);
    return last?.headSha === headSha ? last.id : null;
  }

  private plan(verdict: Verdict, facts: PullRequestFacts): CheckRunPlan {
    return planCheckRun(verdict, { dryRun: this.deps.config.dryRun, pullRequestUrl: facts.url, policyPath: this.deps.config.policyPath });
  }

  private async write(
    octokit: Octokit,
    ref: PullRef,
    source: GitHubPullRequestSource,
    facts: PullRequestFacts,
    plan: CheckRunPlan,
    release: () => void = () => undefined,
  ): Promise<boolean> {
    if (!isUnchanged(source.existingCheckRun, plan)) release(); // the write waits its turn without a slot
    const createdKey = `${ref.owner}/${ref.repo}@${facts.head.sha}`.toLowerCase();
    const result = await writeCheckRun(
      octokit,
      {
        owner: ref.owner,
        repo: ref.repo,
        headSha: facts.head.sha,
        checkName: this.deps.config.checkName,
        existing: source.existingCheckRun,
        knownId: this.created.get(createdKey) ?? null,
        now: this.deps.config.clock.now(),
      },
      plan,
    );
    if (result.written && result.id !== null && result.id !== source.existingCheckRun?.id) {
      this.created.set(createdKey, result.id);
      if (this.created.size > 10_000) this.created.delete(this.created.keys().next().value!);
    }
    if (result.id !== null) this.lastRun.set(pullKey(ref), { headSha: facts.head.sha, id: result.id });
    return result.written;
  }

  /**
   * The queue gave up on `key` (retries spent, or an error that cannot be
   * explained on the check). Fail closed and keep trying: arm a slower retry
   * (a sooner freeze boundary stays), then, best effort, write the check as not
   * passing, so that no earlier success stands for a pull request that could
   * not be evaluated. A repository listing or a head lookup has no check: the
   * next event asks again.
   */
  private async giveUp(key: string, error: unknown): Promise<void> {
    const ref = this.refs.get(key);
    if (!ref) return;
    const { config, log } = this.deps;
    const now = config.clock.now();
    if (error instanceof AfterVerdictError) {
      // The verdict was written before the landing hook failed: the check already tells the truth.
      // Try again later only if the hook's failure may go away (landing reports the rest itself).
      if (classifyError(error, now).retryable) this.scheduler.scheduleEarliest(key, new Date(now.getTime() + config.giveUpRetryMs));
      return;
    }
    this.scheduler.scheduleEarliest(key, new Date(now.getTime() + config.giveUpRetryMs));
    const message = describeError(error, now);
    const due = () => this.scheduler.due(key) ?? new Date(now.getTime() + config.giveUpRetryMs);
    try {
      const octokit = await this.deps.installationOctokit(ref.installationId);
      const source = new GitHubPullRequestSource({ octokit, owner: ref.owner, repo: ref.repo, number: ref.number, appId: await this.appId(), checkName: config.checkName });
      let facts: PullRequestFacts;
      try {
        facts = await source.load(NO_NEEDS);
      } catch (err) {
        if (isGone(err)) {
          this.forget(ref);
          return;
        }
        // GitHub cannot even tell us the head: mark the run our last write went to, without reading it.
        // (A head that moved since has no run of ours yet, which does not pass either.)
        const last = this.lastRun.get(key);
        if (!last) throw err;
        await writeCheckRun(
          octokit,
          { owner: ref.owner, repo: ref.repo, headSha: last.headSha, checkName: config.checkName, existing: null, knownId: last.id, now },
          couldNotEvaluatePlan(message, due(), config.giveUpRetryMs, null),
        );
        log.warn({ key }, 'merge-gate: could not evaluate; the last check written says so');
        return;
      }
      if (facts.state !== 'open') {
        this.forget(ref);
        return;
      }
      // Nothing to supersede, and no policy known to govern it: a repository that never opted in gets no check.
      if (!source.existingCheckRun && !this.governed.has(key)) return;
      await this.write(octokit, ref, source, facts, couldNotEvaluatePlan(message, due(), config.giveUpRetryMs, source.existingCheckRun));
      log.warn({ key }, 'merge-gate: could not evaluate; the check says so');
    } catch (err) {
      log.warn({ key, err: (err as Error).message }, 'merge-gate: could not write the failure check either; the retry will');
    }
  }

  /**
   * After a restart: re-arm the timers that lived in memory. Every open pull
   * request with our check run is looked at (one GraphQL request per 100 open
   * pull requests of each repository); a check that carries the next instant
   * time changes the verdict gets its timer back (a past instant fires at once),
   * and a waiting check without one is re-evaluated once, in case an event was
   * missed while the app was down; with landing on, so is a passing check (its
   * landing may have been interrupted). GraphQL points are watched: below a reserve,
   * the scan waits for the rate limit's reset.
   */
  async resumeAfterRestart(): Promise<{ installations: number; repositories: number; scheduled: number; evaluated: number }> {
    const { config } = this.deps;
    const appId = await this.appId();
    const app = await this.deps.appOctokit();
    const installations = await app.paginate('GET /app/installations', { per_page: 100 });
    const counts = { installations: installations.length, repositories: 0, scheduled: 0, evaluated: 0 };
    const landing = this.deps.onPass !== undefined && !config.dryRun;
    const pace = async (rate: { remaining: number; resetAt: string }) => {
      if (rate.remaining >= SCAN_RESERVE) return;
      const wait = Math.max(0, Date.parse(rate.resetAt) - config.clock.now().getTime()) + 1000;
      this.deps.log.warn({ wait }, 'merge-gate: restart scan waits for the GraphQL rate limit to reset');
      await new Promise<void>((resolve) => config.timers.setTimeout(resolve, wait));
    };
    for (const installation of installations) {
      const octokit = await this.deps.installationOctokit(installation.id);
      const repos = await octokit.paginate('GET /installation/repositories', { per_page: 100 });
      for (const r of repos) {
        if (r.archived) continue;
        counts.repositories++;
        const pulls = await listOpenPulls(octokit, { owner: r.owner.login, repo: r.name, appId, checkName: config.checkName, withCheck: true }, pace);
        for (const p of pulls) {
          if (!p.check) continue;
          const ref: PullRef = { installationId: installation.id, owner: r.owner.login, repo: r.name, number: p.number };
          const next = nextChangeFromExternalId(p.check.externalId);
          if (next) {
            const key = pullKey(ref);
            this.refs.set(key, ref);
            this.scheduler.schedule(key, next);
            counts.scheduled++;
          }
          // Passed and still open, with landing on: a landing the restart interrupted (between the pass and
          // the merge call, or waiting for its branch) happens now; unchanged, the evaluation writes nothing.
          if ((!next && p.check.status !== 'completed') || (landing && p.check.conclusion === 'success')) {
            this.requestEvaluation(ref, { leftover: true });
            counts.evaluated++;
          }
        }
      }
    }
    return counts;
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

/** How long, in words. */
function duration(ms: number): string {
  if (ms >= 90 * 60_000) return `${Math.round(ms / 3_600_000)} hours`;
  if (ms >= 90_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}

export const COULD_NOT_EVALUATE_TITLE = 'fail: merge-gate could not evaluate this pull request';

/**
 * The check of a pull request whose evaluation was given up. Its external id
 * names the retry, so that a restarted app re-arms it; an unchanged failure
 * keeps the instant it already carries, so a retry that fails the same way
 * writes nothing.
 */
function couldNotEvaluatePlan(message: string, retryAt: Date, retryMs: number, existing: ExistingCheckRun | null): CheckRunPlan {
  const carried = existing?.title === COULD_NOT_EVALUATE_TITLE && nextChangeFromExternalId(existing.externalId);
  return {
    status: 'completed',
    conclusion: 'failure',
    title: COULD_NOT_EVALUATE_TITLE,
    summary:
      `**❌ fail** — merge-gate could not evaluate this pull request, so it cannot pass it: ${message}\n\n` +
      `merge-gate tries again by itself every ${duration(retryMs)}, and on the pull request's next event; the Re-run button tries at once.`,
    text: '',
    externalId: `next=${carried || retryAt.toISOString()}`,
    detailsUrl: null,
    annotations: [],
  };
}

/** A failure check for a pull request merge-gate could not read, with what went wrong. */
function unreadablePlan(message: string): CheckRunPlan {
  return {
    status: 'completed',
    conclusion: 'failure',
    title: 'fail: merge-gate could not read this pull request',
    summary: `**❌ fail** — merge-gate could not read this pull request, so it cannot pass it.\n\n${message}`,
    text: '',
    externalId: '',
    detailsUrl: null,
    annotations: [],
  };
}
