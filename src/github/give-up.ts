// When the gate's queue gives up on a pull request (retries spent, or an
// error that cannot be explained on the check): fail closed and keep trying.
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { PullRequestFacts } from '../facts/types.js';
import type { AppConfig } from './config.js';
import type { PullRef } from './pull-ref.js';
import { writeCheckRun, type CheckRunPlan } from './checkrun.js';
import { AfterVerdictError, classifyError, describeError, isGone } from './errors.js';
import { GitHubPullRequestSource, NO_NEEDS } from './facts.js';
import { couldNotEvaluatePlan } from './failure-checks.js';
import type { PullRecords } from './pull-records.js';
import type { RunsWritten } from './runs-written.js';
import type { TimeScheduler } from './scheduler.js';

/** What giving up uses of the gate. */
export interface GiveUpContext {
  config: AppConfig;
  log: Log;
  installationOctokit(installationId: number): Promise<Octokit>;
  appId(): Promise<number>;
  scheduler: TimeScheduler;
  pulls: PullRecords;
  runs: RunsWritten;
  /** The pull request is closed or gone. */
  forget(ref: PullRef): void;
  /** Write the check on the head the source read (unless unchanged). */
  write(octokit: Octokit, ref: PullRef, source: GitHubPullRequestSource, facts: PullRequestFacts, plan: CheckRunPlan): Promise<boolean>;
}

/**
 * The queue gave up on `key` (retries spent, or an error that cannot be
 * explained on the check). Fail closed and keep trying: arm a slower retry
 * (a sooner freeze boundary stays), then, best effort, write the check as not
 * passing, so that no earlier success stands for a pull request that could
 * not be evaluated. A repository listing or a head lookup has no check: the
 * next event asks again.
 */
export async function giveUp(ctx: GiveUpContext, key: string, error: unknown): Promise<void> {
  const ref = ctx.pulls.ref(key);
  if (!ref) return;
  const { config, log } = ctx;
  const now = config.clock.now();
  if (error instanceof AfterVerdictError) {
    // The verdict was written before the landing hook failed: the check already tells the truth.
    // Try again later only if the hook's failure may go away (landing reports the rest itself).
    if (classifyError(error, now).retryable) ctx.scheduler.scheduleEarliest(key, new Date(now.getTime() + config.giveUpRetryMs));
    return;
  }
  ctx.scheduler.scheduleEarliest(key, new Date(now.getTime() + config.giveUpRetryMs));
  const message = describeError(error, now);
  const due = () => ctx.scheduler.due(key) ?? new Date(now.getTime() + config.giveUpRetryMs);
  try {
    const octokit = await ctx.installationOctokit(ref.installationId);
    const source = new GitHubPullRequestSource({ octokit, owner: ref.owner, repo: ref.repo, number: ref.number, appId: await ctx.appId(), checkName: config.checkName });
    let facts: PullRequestFacts;
    try {
      facts = await source.load(NO_NEEDS);
    } catch (err) {
      if (isGone(err)) {
        ctx.forget(ref);
        return;
      }
      // GitHub cannot even tell us the head: mark the run our last write went to, without reading it.
      // (A head that moved since has no run of ours yet, which does not pass either.)
      const last = ctx.runs.last(key);
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
      ctx.forget(ref);
      return;
    }
    // Nothing to supersede, and no policy known to govern it: a repository that never opted in gets no check.
    if (!source.existingCheckRun && !ctx.pulls.isGoverned(key)) return;
    await ctx.write(octokit, ref, source, facts, couldNotEvaluatePlan(message, due(), config.giveUpRetryMs, source.existingCheckRun));
    log.warn({ key }, 'merge-gate: could not evaluate; the check says so');
  } catch (err) {
    log.warn({ key, err: (err as Error).message }, 'merge-gate: could not write the failure check either; the retry will');
  }
}
