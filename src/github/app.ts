// Webhook handlers: thin shells that turn an event into "evaluate pull request
// X" (or "the pull requests whose head is S", or "every open pull request of
// this repository"). All the work happens later, in the gate's queue.
import type { ApplicationFunction, Probot } from 'probot';
import type { AppConfig } from './config.js';
import { classifyError } from './errors.js';
import { MergeGate, type DecoratePass, type GateDeps, type OnPass, type OnVerdict, type RefineFacts } from './gate.js';
import type { PullRef } from './pull-ref.js';
import { octokitFactory } from '../octokit/installation.js';
import { Pacer, PACING_DEFAULTS } from '../octokit/pacer.js';
import { TrunkWatch, type TrunkWatchDeps } from '../trunk/watch.js';
import type { PendingJournal } from '../intake/pending.js';

export const PULL_REQUEST_ACTIONS = [
  'pull_request.opened',
  'pull_request.reopened',
  'pull_request.synchronize',
  'pull_request.edited',
  'pull_request.labeled',
  'pull_request.unlabeled',
  'pull_request.ready_for_review',
  'pull_request.converted_to_draft',
] as const;

export const REVIEW_ACTIONS = ['pull_request_review.submitted', 'pull_request_review.edited', 'pull_request_review.dismissed'] as const;

export interface AppHooks {
  /** Landing plugs in here (src/land); never called with DRY_RUN=true. */
  onPass?: OnPass;
  /** The merge queue hears of every verdict here (src/queue); never called with DRY_RUN=true. */
  onVerdict?: OnVerdict;
  decoratePass?: DecoratePass;
  refineFacts?: RefineFacts;
  /** The merge queue's webhooks: what moves a queue without an evaluation (each returns at once; errors are its own). */
  queue?: QueueWebhooks;
  /** Where what accepted events asked for is recorded until done, so a crash loses none (src/intake). */
  pending?: PendingJournal;
  /** Did merge-gate land this commit, and which pull requests did it bring (the landing journal; a batch's revert covers them all)? */
  landedCommit?: TrunkWatchDeps['landedCommit'];
  /** Every verdict, for the pull request's history (src/history; DRY_RUN too). */
  onEvaluated?: GateDeps['onEvaluated'];
  /** Hands out the gate (and the Probot app, for landing's own requests) once loaded. */
  onGate?: (gate: MergeGate, app: Probot) => void;
}

export interface QueueWebhooks {
  /** `sha` is the head of one of the queue's staging branches. */
  isStaging(installationId: number, repository: string, sha: string): boolean;
  /** A check or status on a staging head changed. */
  stagingChecks(installationId: number, repository: string, sha: string): void;
  /** A push to `branch` (a queue's base moved, by anyone). */
  pushed(installationId: number, repository: string, branch: string): void;
  /** A pull request leaves its base's queue at once (a new head, closed, its base changed). */
  left(ref: PullRef, repository: string, base: string, reason: 'head-moved' | 'closed' | 'base-changed' | 'merged-elsewhere'): void;
}

interface RepoPayload {
  installation?: { id: number };
  repository: { id: number; name: string; full_name: string; owner: { login: string } | null; default_branch?: string };
}

function repoOf(payload: RepoPayload): { installationId: number; owner: string; repo: string } | null {
  const installationId = payload.installation?.id;
  if (!installationId) return null; // not sent to an installation: nothing we may act on
  const owner = payload.repository.owner?.login ?? payload.repository.full_name.split('/')[0];
  return { installationId, owner, repo: payload.repository.name };
}

function pullRef(payload: RepoPayload & { pull_request: { number: number } }): PullRef | null {
  const repo = repoOf(payload);
  return repo ? { ...repo, number: payload.pull_request.number } : null;
}

export function mergeGateApp(config: AppConfig, hooks: AppHooks = {}): ApplicationFunction {
  return (app: Probot) => {
    // One pacer for every installation's Octokit: GitHub's limits are per installation, across pull requests.
    const pacing = { ...PACING_DEFAULTS, writeSpacingMs: config.writeSpacingMs ?? PACING_DEFAULTS.writeSpacingMs };
    const octokits = octokitFactory(app, new Pacer({ ...pacing, clock: config.clock, timers: config.timers }), {
      pluginNotificationSpacing: config.writeSpacingMs === undefined,
      requestTimeoutMs: config.githubTimeoutMs,
    });
    const gate = new MergeGate({
      config,
      installationOctokit: (id) => octokits.installation(id),
      appOctokit: () => app.auth(),
      log: app.log,
      onPass: hooks.onPass,
      onVerdict: hooks.onVerdict,
      decoratePass: hooks.decoratePass,
      refineFacts: hooks.refineFacts,
      pending: hooks.pending,
      onEvaluated: hooks.onEvaluated,
    });
    hooks.onGate?.(gate, app);
    const trunk = new TrunkWatch({ gate, config, installationOctokit: (id) => octokits.installation(id), appOctokit: () => app.auth(), log: app.log, landedCommit: hooks.landedCommit });
    const resumed = gate.resumePending((r) => {
      if (r.kind === 'deployment') trunk.deploymentStatus(r.installationId, r.owner, r.repo, r.environment, r.state);
    });
    if (resumed > 0) app.log.info({ resumed }, 'merge-gate: evaluating again what events asked for before the last stop');

    /**
     * Ends every handler that asks for work: while an accepted request could not be written to the state
     * database (a full disk, a write lock held elsewhere), the webhook is answered 503 (GitHub shows a failed
     * delivery, which can be redelivered) rather than 2xx for work a crash would lose. The work is queued anyway.
     */
    const refuseIfUnrecorded = (): void => {
      const unrecorded = hooks.pending?.unrecorded?.() ?? 0;
      if (unrecorded > 0) {
        throw Object.assign(new Error(`merge-gate: the state database cannot be written (${unrecorded} accepted request(s) not recorded); redeliver this webhook once it can`), { status: 503 });
      }
    };

    const isOurs = async (appId: number | null | undefined) => typeof appId === 'number' && appId === (await gate.appId());

    /** A check or status on `sha`: its pull requests, from the payload when it lists them, else by head SHA (forks). */
    const byHead = (payload: RepoPayload, sha: string, pulls: ReadonlyArray<{ number: number; base: { repo: { id: number } } }>, cause: string) => {
      const repo = repoOf(payload);
      if (!repo) return;
      if (hooks.queue?.isStaging(repo.installationId, payload.repository.full_name, sha)) return hooks.queue.stagingChecks(repo.installationId, payload.repository.full_name, sha);
      const own = pulls.filter((p) => p.base.repo.id === payload.repository.id);
      if (own.length > 0) for (const p of own) gate.requestEvaluation({ ...repo, number: p.number }, { cause });
      else gate.requestHeadSha(repo.installationId, repo.owner, repo.repo, sha, cause);
    };

    app.on([...PULL_REQUEST_ACTIONS], async (context) => {
      const ref = pullRef(context.payload);
      if (!ref || context.payload.pull_request.state !== 'open') return;
      const { payload } = context;
      if (payload.action === 'synchronize') hooks.queue?.left(ref, payload.repository.full_name, payload.pull_request.base.ref, 'head-moved');
      const baseWas = payload.action === 'edited' ? (payload.changes as { base?: { ref?: { from?: string } } }).base?.ref?.from : undefined;
      if (baseWas && baseWas !== payload.pull_request.base.ref) hooks.queue?.left(ref, payload.repository.full_name, baseWas, 'base-changed');
      gate.noteHead(ref, context.payload.pull_request.head.sha);
      gate.requestEvaluation(ref, { cause: `pull_request.${payload.action}` });
      refuseIfUnrecorded();
    });

    app.on('pull_request.closed', async (context) => {
      const ref = pullRef(context.payload);
      if (ref) gate.forget(ref);
      const pull = context.payload.pull_request;
      if (ref) hooks.queue?.left(ref, context.payload.repository.full_name, pull.base.ref, pull.merged ? 'merged-elsewhere' : 'closed');
      refuseIfUnrecorded();
    });

    app.on([...REVIEW_ACTIONS], async (context) => {
      const ref = pullRef(context.payload);
      if (ref && context.payload.pull_request.state === 'open') gate.requestEvaluation(ref, { cause: `pull_request_review.${context.payload.action}` });
      refuseIfUnrecorded();
    });

    // Other apps' checks finishing; never our own (writing our check would trigger us again).
    app.on('check_run.completed', async (context) => {
      const run = context.payload.check_run;
      if (await isOurs(run.app?.id)) return;
      byHead(context.payload, run.head_sha, run.pull_requests, 'check_run.completed');
      refuseIfUnrecorded();
    });
    app.on('check_suite.completed', async (context) => {
      const suite = context.payload.check_suite;
      if (await isOurs(suite.app?.id)) return;
      byHead(context.payload, suite.head_sha, suite.pull_requests, 'check_suite.completed');
      refuseIfUnrecorded();
    });

    // The Re-run button on our own check.
    app.on('check_run.rerequested', async (context) => {
      const run = context.payload.check_run;
      if (!(await isOurs(run.app?.id))) return;
      byHead(context.payload, run.head_sha, run.pull_requests, 'check_run.rerequested');
      refuseIfUnrecorded();
    });
    app.on('check_suite.rerequested', async (context) => {
      const suite = context.payload.check_suite;
      if (!(await isOurs(suite.app?.id))) return;
      byHead(context.payload, suite.head_sha, suite.pull_requests, 'check_suite.rerequested');
      refuseIfUnrecorded();
    });

    // Commit statuses carry no pull request: always by head SHA.
    app.on('status', async (context) => {
      byHead(context.payload, context.payload.sha, [], 'status');
      refuseIfUnrecorded();
    });

    // The policy changed on a default branch: re-evaluate what it governs.
    app.on('push', async (context) => {
      const { payload } = context;
      const repo = repoOf(payload);
      if (repo && payload.ref.startsWith('refs/heads/') && !payload.deleted) hooks.queue?.pushed(repo.installationId, payload.repository.full_name, payload.ref.slice('refs/heads/'.length));
      if (!repo || payload.ref !== `refs/heads/${payload.repository.default_branch}`) return;
      const touched =
        payload.commits.length >= 2048 || // GitHub lists at most 2,048 commits: assume the worst
        payload.commits.some((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])].includes(config.policyPath));
      if (!touched) return;
      // The organisation's `.github` repository holds the fallback policy of every repository without one.
      if (repo.repo === '.github') gate.requestInstallation(repo.installationId);
      else gate.requestRepository(repo.installationId, repo.owner, repo.repo);
      refuseIfUnrecorded();
    });

    // The deployed trunk's health changed (or a deployment started): holds start or end, a revert may be due.
    app.on('deployment_status', async (context) => {
      const repo = repoOf(context.payload);
      const { deployment_status: status, deployment } = context.payload;
      const environment = status.environment ?? deployment.environment;
      if (repo && environment) trunk.deploymentStatus(repo.installationId, repo.owner, repo.repo, environment, status.state);
      refuseIfUnrecorded();
    });

    if (config.scheduleOnStart) {
      // Until it succeeds (GitHub may be failing, or rate limiting, at start): a scan repeated is harmless.
      const scan = (): void => {
        gate.resumeAfterRestart().then(
          (counts) => app.log.info(counts, 'merge-gate: re-armed time-driven re-evaluations after start'),
          (err) => {
            const retryInMs = Math.max(config.giveUpRetryMs, classifyError(err, config.clock.now()).retryAfterMs ?? 0);
            app.log.error({ err, retryInMs }, 'merge-gate: restart scan failed; trying again');
            config.timers.setTimeout(scan, retryInMs);
          },
        );
      };
      scan();
    }
  };
}
