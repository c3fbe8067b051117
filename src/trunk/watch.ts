// The trunk loop's shell: a `deployment_status` event becomes, for a repository
// whose policy has `trunk` for that environment, a re-evaluation of its open
// pull requests (a hold starts or ends) and, with `revert: true`, a look at
// whether a revert should be proposed. Bursts coalesce per repository in the
// gate's queue, like the policy push; the revert is decided from GitHub itself.
// Each (environment, state) is a pending request in the gate's journal
// (src/intake/pending.ts) until a reaction covering it succeeded, so a crash
// after the webhook was answered loses neither the revert nor the holds.
import type { AppConfig } from '../github/config.js';
import type { Octokit } from '../octokit/types.js';
import type { Log } from '../log.js';
import type { MergeGate } from '../github/gate.js';
import { readPolicy } from '../github/policy.js';
import type { LandedCommit } from '../land/journal.js';
import { proposeRevert } from './revert.js';

export interface TrunkWatchDeps {
  gate: MergeGate;
  config: Pick<AppConfig, 'policyPath'>;
  installationOctokit(installationId: number): Promise<Octokit>;
  /** An octokit authenticated as the app, to learn its slug (its bot account merges what merge-gate lands). */
  appOctokit(): Promise<Octokit>;
  log: Log;
  /** The landing journal's word on a deployed commit (none: GitHub's alone, which links a batch's commit to one pull request at most). */
  landedCommit?(repository: string, sha: string): LandedCommit | null;
}

export class TrunkWatch {
  /** Per repository key, until its job runs: the environments whose deployment statuses arrived, with their states. */
  private readonly pending = new Map<string, Map<string, Set<string>>>();
  private slugPromise: Promise<string> | null = null;

  constructor(private readonly deps: TrunkWatchDeps) {}

  /** Our app's slug (GET /app, once). */
  appSlug(): Promise<string> {
    this.slugPromise ??= this.deps
      .appOctokit()
      .then((o) => o.request('GET /app'))
      .then((res) => res.data!.slug!)
      .catch((err) => {
        this.slugPromise = null;
        throw err;
      });
    return this.slugPromise;
  }

  /** A deployment status (`state`) was posted to `environment` in a repository. */
  deploymentStatus(installationId: number, owner: string, repo: string, environment: string, state: string): void {
    const { gate } = this.deps;
    const key = `${installationId}:trunk:${owner}/${repo}`.toLowerCase();
    const recordKey = (env: string, st: string) => `${key}:${JSON.stringify([env, st])}`;
    const env = environment.toLowerCase();
    const st = state.toLowerCase();
    gate.note(recordKey(env, st), { kind: 'deployment', installationId, owner, repo, environment: env, state: st });
    const environments = this.pending.get(key) ?? new Map<string, Set<string>>();
    const states = environments.get(env) ?? new Set<string>();
    states.add(st);
    environments.set(env, states);
    this.pending.set(key, environments);
    gate.queue.enqueue(key, async () => {
      const wanted = this.pending.get(key);
      this.pending.delete(key);
      if (!wanted?.size) return;
      const seen = [...wanted].flatMap(([e, ss]) => [...ss].map((s) => [recordKey(e, s), gate.seen(recordKey(e, s))] as const));
      try {
        await this.react(installationId, owner, repo, wanted);
        for (const [k, n] of seen) gate.done(k, n);
      } catch (error) {
        // Keep them for the retry.
        const again = this.pending.get(key) ?? new Map<string, Set<string>>();
        for (const [environment, states] of wanted) again.set(environment, new Set([...(again.get(environment) ?? []), ...states]));
        this.pending.set(key, again);
        throw error;
      }
    });
  }

  private async react(installationId: number, owner: string, repo: string, environments: Map<string, Set<string>>): Promise<void> {
    const octokit = await this.deps.installationOctokit(installationId);
    const read = await readPolicy(octokit, owner, repo, this.deps.config.policyPath);
    const trunk = read.kind === 'ok' ? read.policy.trunk : undefined;
    const states = trunk && environments.get(trunk.environment.toLowerCase());
    // Another environment (staging), or no trunk section: nothing the verdicts depend on changed.
    if (!trunk || !states) return;
    try {
      // The events' states are hints (GitHub is read for the truth): only a holding one may call for a revert.
      if (trunk.revert && (trunk.hold_on as readonly string[]).some((s) => states.has(s))) {
        const result = await proposeRevert(octokit, owner, repo, trunk, await this.appSlug(), (repository, sha) => this.deps.landedCommit?.(repository, sha) ?? null);
        if (result.kind === 'none') this.deps.log.debug({ owner, repo, why: result.why }, 'merge-gate: no revert to propose');
        else this.deps.log.info({ owner, repo, number: result.number, url: result.url }, `merge-gate: revert ${result.kind}`);
      }
    } finally {
      // After the revert, so that the held pull requests' checks link it; whatever became of it, holds start or end.
      this.deps.gate.requestRepository(installationId, owner, repo, 'deployment_status');
    }
  }
}
