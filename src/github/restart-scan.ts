// After a restart: re-arm the timers that lived in memory. Every open pull
// request with our check run is looked at (one GraphQL request per 100 open
// pull requests of each repository); a check that carries the next instant
// time changes the verdict gets its timer back (a past instant fires at once),
// and a waiting check without one is re-evaluated once, in case an event was
// missed while the app was down; with landing on, so is a passing check (its
// landing may have been interrupted). GraphQL points are watched: below a
// reserve, the scan waits for the rate limit's reset.
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { PullRef } from './pull-ref.js';
import type { AppConfig } from './config.js';
import { nextChangeFromExternalId } from './checkrun.js';
import { listOpenPulls } from './open-pulls.js';

/** Below this many GraphQL points left, the restart scan waits for the reset. */
const SCAN_RESERVE = 500;

export interface RestartScanDeps {
  config: AppConfig;
  appId(): Promise<number>;
  appOctokit(): Promise<Octokit>;
  installationOctokit(installationId: number): Promise<Octokit>;
  log: Log;
  /** Landing is on: a passing check may stand for an interrupted landing. */
  landing: boolean;
  /** Re-evaluate the pull request at `at` (a time-driven boundary). */
  schedule(ref: PullRef, at: string): void;
  /** Re-evaluate the pull request soon, looking for a leftover check. */
  evaluate(ref: PullRef): void;
}

export async function resumeAfterRestart(deps: RestartScanDeps): Promise<{ installations: number; repositories: number; scheduled: number; evaluated: number }> {
  const { config } = deps;
  const appId = await deps.appId();
  const app = await deps.appOctokit();
  const installations = await app.paginate('GET /app/installations', { per_page: 100 });
  const counts = { installations: installations.length, repositories: 0, scheduled: 0, evaluated: 0 };
  const pace = async (rate: { remaining: number; resetAt: string }) => {
    if (rate.remaining >= SCAN_RESERVE) return;
    const wait = Math.max(0, Date.parse(rate.resetAt) - config.clock.now().getTime()) + 1000;
    deps.log.warn({ wait }, 'merge-gate: restart scan waits for the GraphQL rate limit to reset');
    await new Promise<void>((resolve) => config.timers.setTimeout(resolve, wait));
  };
  for (const installation of installations) {
    const octokit = await deps.installationOctokit(installation.id);
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
          deps.schedule(ref, next);
          counts.scheduled++;
        }
        // Passed and still open, with landing on: a landing the restart interrupted (between the pass and
        // the merge call, or waiting for its branch) happens now; unchanged, the evaluation writes nothing.
        if ((!next && p.check.status !== 'completed') || (deps.landing && p.check.conclusion === 'success')) {
          deps.evaluate(ref);
          counts.evaluated++;
        }
      }
    }
  }
  return counts;
}
