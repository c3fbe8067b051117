// Landing wired into the app: the state database, the outbox and its sender
// (signed HTTP to TRUNK_WEBHOOK_URL, repository_dispatch through the
// installation), and the lander as the gate's hooks. On load, intents a crash
// left unresolved are resolved and pending deliveries attempted at once; while
// anything stays unresolved, a sweep comes back for it.
import type { AppHooks } from '../github/app.js';
import type { Clock, TimerHandle, Timers } from '../clock.js';
import type { Octokit } from '../octokit/types.js';
import type { Log } from '../log.js';
import type { OutboxConfig } from '../outbox/config.js';
import { openDb, type Db } from '../state/db.js';
import { httpTransport } from '../outbox/http.js';
import { OutboxSender, OutboxStore, type Transport } from '../outbox/outbox.js';
import type { TrunkUpdated } from './decide.js';
import { octokitLandingGitHub, type LandingGitHub } from './github.js';
import { LandingJournal } from './journal.js';
import { Lander, parseDispatchTarget, type LanderDeps } from './lander.js';
import { createQueue, type Queue, type QueueOptions } from '../queue/index.js';
import { DirectLandings } from './direct.js';
import type { PullRef } from '../github/pull-ref.js';
import { queued } from '../queue/hooks.js';

export interface LandingOptions {
  outbox: OutboxConfig;
  clock: Clock;
  timers: Timers;
  checkName: string;
  policyPath: string;
  /** An open database (tests share one); else OUTBOX_PATH is opened. */
  db?: Db;
  random?: () => number;
  fetch?: typeof fetch;
  /** Landing's GitHub (tests may wrap it); octokit-backed by default. */
  github?: LanderDeps['github'];
  mergeableRetry?: LanderDeps['mergeableRetry'];
  newId?: () => string;
  /** Timeout of one HTTP delivery attempt. */
  deliveryTimeoutMs?: number;
  /** MERGE_SETTLE: how long after a merge call without a certain answer GitHub may still finish it. */
  settleMs?: number;
  /** The merge queue's GitHub (tests may wrap it); octokit-backed by default. */
  queueGithub?: QueueOptions['github'];
  /** Backoff of a queue action that failed. */
  queueRetry?: QueueOptions['retry'];
}

export interface Landing {
  hooks: AppHooks;
  db: Db;
  store: OutboxStore;
  journal: LandingJournal;
  sender: OutboxSender;
  /** Set once the app is loaded. */
  lander: Lander | null;
  /** The merge queue (`land.queue`, src/queue): pull requests of a policy with it land through it. */
  queue: Queue;
  /** Resolves when recovery after start is done. */
  started: Promise<void>;
  /** Resolves once no sweep is running (tests wait for it before letting time pass). */
  swept(): Promise<void>;
  close(): void;
}

/** The sweep of what is unresolved (intents, tidy-ups), while something is: the first delay, doubled up to the cap. */
export const RECOVER_RETRY = { firstMs: 1_000, maxMs: 60_000 } as const;

export function createLanding(options: LandingOptions): Landing {
  const db = options.db ?? openDb(options.outbox.path);
  const store = new OutboxStore(db);
  const journal = new LandingJournal(db, store);
  const github = options.github ?? ((octokit: Octokit, owner: string, repo: string): LandingGitHub => octokitLandingGitHub(octokit, owner, repo));
  let log: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  let installationOctokit: ((id: number) => Promise<Octokit>) | null = null;
  let resolveStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));

  const http: Transport | null = options.outbox.secret
    ? httpTransport({ secret: options.outbox.secret, clock: options.clock, timers: options.timers, fetch: options.fetch, timeoutMs: options.deliveryTimeoutMs })
    : null;
  const dispatch: Transport = async (delivery) => {
    const target = parseDispatchTarget(delivery.target);
    if (!target || !installationOctokit) return 'not a repository_dispatch target, or the app is not loaded';
    const octokit = await installationOctokit(target.installationId);
    await github(octokit, target.owner, target.repo).dispatch(JSON.parse(delivery.body) as TrunkUpdated);
    return null;
  };
  const sender = new OutboxSender({
    store,
    transport: (target) => (target.startsWith('dispatch:') ? dispatch : (http ?? (async () => 'TRUNK_WEBHOOK_SECRET is not set'))),
    clock: options.clock,
    timers: options.timers,
    backoff: options.outbox.backoff,
    maxAgeMs: options.outbox.maxAgeMs,
    random: options.random,
    log: { info: (o, m) => log.info(o, m), warn: (o, m) => log.warn(o, m), error: (o, m) => log.error(o, m) },
  });

  // The sweep (Lander.sweep): at start, and again while anything is left unresolved — an intent whose merge's
  // fate is unknown (read again when resolve.ts says), a tidy-up or a read GitHub failed (after 1 s, doubled
  // each time up to a minute) — one pending at a time; the backoff is back to 1 s after a sweep without failures.
  let sweepInMs: number = RECOVER_RETRY.firstMs;
  let sweepAt: number | null = null;
  let sweepTimer: TimerHandle | null = null;
  const sweepLater = (atMs?: number): void => {
    const now = options.clock.now().getTime();
    const backoff = atMs === undefined || now + sweepInMs <= atMs;
    const at = backoff ? now + sweepInMs : atMs;
    if (sweepAt !== null && sweepAt <= at) return;
    if (sweepTimer !== null) options.timers.clearTimeout(sweepTimer);
    sweepAt = at;
    sweepTimer = options.timers.setTimeout(() => {
      sweepAt = sweepTimer = null;
      void sweep();
    }, Math.max(0, at - now));
    if (backoff) sweepInMs = Math.min(RECOVER_RETRY.maxMs, sweepInMs * 2);
  };
  let running: Promise<void> | null = null;
  const sweep = (): Promise<void> =>
    (running = landing.lander!.sweep().then(
      (counts) => {
        if (counts.landed + counts.abandoned + counts.mergedElsewhere > 0) log.info(counts, 'merge-gate: resolved landings whose merge had no certain answer');
        if (counts.failed === 0) resolveStarted();
        if (counts.failed === 0 && sweepAt === null) sweepInMs = RECOVER_RETRY.firstMs;
        if (counts.remaining > 0) sweepLater(counts.nextAt ?? undefined);
      },
      (err: Error) => {
        log.error({ err: err.message, retryInMs: sweepInMs }, 'merge-gate: the sweep of unresolved landings failed; trying again');
        sweepLater();
      },
    ));

  // Our app's slug (GET /app), asked once; asked again after a failure.
  let slug: Promise<string> | null = null;
  const appSlug = (app: Parameters<NonNullable<AppHooks['onGate']>>[1]): Promise<string> =>
    (slug ??= app
      .auth()
      .then((octokit) => octokit.request('GET /app'))
      .then((res) => String((res.data as { slug?: string } | null)?.slug ?? ''))
      .catch((err: unknown) => {
        slug = null;
        throw err;
      }));

  // Landing without land.queue: through the queue's core (direct.ts), carried out by the lander once loaded.
  let evaluate: ((ref: PullRef) => void) | null = null;
  let direct: DirectLandings | null = null;
  const queue = createQueue({
    db,
    outbox: store,
    sender,
    urls: options.outbox.urls,
    clock: options.clock,
    timers: options.timers,
    checkName: options.checkName,
    policyPath: options.policyPath,
    github: options.queueGithub,
    landing: (octokit, owner, repo) => github(octokit, owner, repo),
    newId: options.newId,
    retry: options.queueRetry,
    direct: (branch, action) => direct!.land(branch, action),
  });
  direct = new DirectLandings({
    runner: queue.runner,
    store: queue.store,
    journal,
    land: (pass) => landing.lander!.landNow(pass),
    requestEvaluation: (ref) => evaluate?.(ref),
  });
  /** A webhook's work for the queue, not awaited by the webhook (a crash loses nothing: the queue's start reads it all again). */
  const later = (what: string, work: () => Promise<unknown>): void => {
    work().catch((err: Error) => log.error({ err: err.message }, `merge-gate: the merge queue could not take ${what}`));
  };

  const landing: Landing = {
    db,
    queue,
    store,
    journal,
    sender,
    lander: null,
    started,
    swept: async () => {
      while (running) {
        const current = running;
        await current;
        if (running === current) running = null;
      }
    },
    hooks: {
      // A policy with land.queue lands through the queue (onVerdict); the others through its core too, a batch of one (direct.ts).
      onPass: (pass) => (queued(pass.policy) ? Promise.resolve() : direct!.onPass(pass)),
      onVerdict: (info) => queue.hooks.onVerdict(info),
      decoratePass: (plan, pass) => queue.hooks.decorate(plan, pass) ?? (landing.lander ? landing.lander.decorate(plan, pass) : plan),
      queue: {
        isStaging: (installationId, repository, sha) => queue.store.stagingBySha(installationId, repository, sha).length > 0,
        stagingChecks: (installationId, repository, sha) => later('a check on a staging branch', () => queue.runner.stagingChecks(installationId, repository, sha)),
        pushed: (installationId, repository, branch) => later('a push', () => queue.hooks.pushed(installationId, repository, branch)),
        left: (ref, repository, base, reason) => later('a pull request leaving', () => queue.hooks.left(ref, repository, base, reason)),
      },
      refineFacts: (pass) => (landing.lander ? landing.lander.refineFacts(pass) : Promise.resolve(pass.facts)),
      landedCommit: (repository, sha) => journal.landedCommit(repository, sha),
      onGate: (gate, app) => {
        log = app.log;
        installationOctokit = (id) => gate.octokit(id); // paced with the gate's own requests
        evaluate = (ref) => gate.requestEvaluation(ref, { cause: 'landing' });
        landing.lander = new Lander({
          journal,
          sender,
          urls: options.outbox.urls,
          github,
          installationOctokit: (id) => gate.octokit(id),
          requestEvaluation: (ref, delayMs) => gate.requestEvaluation(ref, { delayMs, cause: 'landing' }),
          checkName: options.checkName,
          policyPath: options.policyPath,
          appId: () => gate.appId(),
          clock: options.clock,
          log: app.log,
          mergeableRetry: options.mergeableRetry,
          newId: options.newId,
          sweepLater,
          appLogin: () => appSlug(app).then((slug) => `${slug}[bot]`),
          settleMs: options.settleMs,
        });
        queue.attach(
          { octokit: (id) => gate.octokit(id), requestEvaluation: (ref) => gate.requestEvaluation(ref, { cause: 'queue' }), refreshCheck: (ref, redecorate) => gate.refreshCheck(ref, redecorate), checkShown: (ref, sha) => gate.checkShown(ref, sha), appId: () => gate.appId() },
          app.log,
        );
        sender.start();
        void sweep(); // what a crash left: resolved now, and again later until it is
        later('its start', () => queue.start());
      },
    },
    close() {
      sender.stop();
      queue.stop();
      if (sweepTimer !== null) options.timers.clearTimeout(sweepTimer);
      if (!options.db) db.close();
    },
  };
  return landing;
}
