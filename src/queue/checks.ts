// Writing over our check on a pull request's head when no evaluation is at hand
// (after a batch landed, the pull requests are merged and no longer evaluated):
// the check as this process last wrote it (the gate's memory), else as it
// stands, read with the facts query; `make` says what to write instead (null:
// leave it). Through the check-run writer, which skips an identical write.
import type { Clock } from '../clock.js';
import { writeCheckRun, type CheckRunPlan } from '../github/checkrun.js';
import { GitHubPullRequestSource, NO_NEEDS } from '../github/facts.js';
import type { ExistingCheckRun } from '../github/nodes.js';
import type { PullRef } from '../github/pull-ref.js';
import type { Octokit } from '../octokit/types.js';

export interface CheckWriter {
  appId(): Promise<number>;
  checkName: string;
  clock: Clock;
  /** Our run on the head as this process last wrote it (null: not known, e.g. after a restart: it is read). */
  checkShown?(ref: PullRef, headSha: string): ExistingCheckRun | null;
}

/** The plan a check run carries now (to change its title and summary, and keep the rest); none: an empty one. */
export function planOf(run: ExistingCheckRun | null): CheckRunPlan {
  return {
    status: run?.status === 'completed' ? 'completed' : 'in_progress',
    conclusion: (run?.conclusion as CheckRunPlan['conclusion']) ?? null,
    title: run?.title ?? '',
    summary: run?.summary ?? '',
    text: run?.text ?? '',
    externalId: run?.externalId ?? '',
    detailsUrl: null,
    annotations: [],
  };
}

export async function rewriteCheck(octokit: Octokit, ref: PullRef, headSha: string, w: CheckWriter, make: (run: ExistingCheckRun | null) => CheckRunPlan | null): Promise<void> {
  const run = w.checkShown?.(ref, headSha) ?? (await readRun(octokit, ref, headSha, w));
  const plan = make(run);
  if (!plan) return;
  await writeCheckRun(octokit, { owner: ref.owner, repo: ref.repo, headSha, checkName: w.checkName, existing: run, knownId: run?.id ?? null, now: w.clock.now() }, plan);
}

async function readRun(octokit: Octokit, ref: PullRef, headSha: string, w: CheckWriter): Promise<ExistingCheckRun | null> {
  const source = new GitHubPullRequestSource({ octokit, owner: ref.owner, repo: ref.repo, number: ref.number, appId: await w.appId(), checkName: w.checkName });
  const facts = await source.load(NO_NEEDS);
  return facts.head.sha === headSha ? source.existingCheckRun : null;
}
