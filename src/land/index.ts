// Landing wired into the app: the state database, the outbox and its sender
// (signed HTTP to TRUNK_WEBHOOK_URL, repository_dispatch through the
// installation), and the lander as the gate's hooks. On load, intents a crash
// left unresolved are resolved and pending deliveries attempted at once.
import type { AppHooks } from '../github/app.js';
import type { Clock, Timers } from '../clock.js';
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
}

export interface Landing {
  hooks: AppHooks;
  db: Db;
  store: OutboxStore;
  journal: LandingJournal;
  sender: OutboxSender;
  /** Set once the app is loaded. */
  lander: Lander | null;
  /** Resolves when recovery after start is done. */
  started: Promise<void>;
  close(): void;
}

/** Resolving the landings a crash interrupted, when GitHub fails: the first retry's delay, doubled up to the cap. */
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

  // A tidy-up after landing that failed while running is tried again: after 1 s, doubled each time up to a
  // minute, one attempt pending at a time; back to 1 s once nothing is left to tidy.
  let tidyRetryMs: number = RECOVER_RETRY.firstMs;
  let tidyPending = false;
  const retryTidy = (): void => {
    if (tidyPending) return;
    tidyPending = true;
    options.timers.setTimeout(() => {
      tidyPending = false;
      void landing.lander?.retidy().then(
        () => {
          if (!tidyPending) tidyRetryMs = RECOVER_RETRY.firstMs;
        },
        (err: Error) => {
          log.error({ err: err.message }, 'merge-gate: tidying up after landings failed; trying again');
          retryTidy();
        },
      );
    }, tidyRetryMs);
    tidyRetryMs = Math.min(RECOVER_RETRY.maxMs, tidyRetryMs * 2);
  };

  const landing: Landing = {
    db,
    store,
    journal,
    sender,
    lander: null,
    started,
    hooks: {
      onPass: (pass) => landing.lander!.onPass(pass),
      decoratePass: (plan, pass) => (landing.lander ? landing.lander.decorate(plan, pass) : plan),
      refineFacts: (pass) => (landing.lander ? landing.lander.refineFacts(pass) : Promise.resolve(pass.facts)),
      onGate: (gate, app) => {
        log = app.log;
        installationOctokit = (id) => gate.octokit(id); // paced with the gate's own requests
        landing.lander = new Lander({
          journal,
          sender,
          urls: options.outbox.urls,
          github,
          installationOctokit: (id) => gate.octokit(id),
          requestEvaluation: (ref, delayMs) => gate.requestEvaluation(ref, { delayMs }),
          checkName: options.checkName,
          policyPath: options.policyPath,
          appId: () => gate.appId(),
          clock: options.clock,
          log: app.log,
          mergeableRetry: options.mergeableRetry,
          newId: options.newId,
          retryTidy,
        });
        sender.start();
        // Until every interrupted landing is resolved (GitHub may be failing at start), try again:
        // after 1 s, doubled each time up to a minute, so that a blip delays no trunk-updated for long.
        let retryInMs: number = RECOVER_RETRY.firstMs;
        const recover = () =>
          landing.lander!.recover().then(
            (counts) => {
              if (counts.landed + counts.abandoned > 0) app.log.info(counts, 'merge-gate: resolved landings interrupted by a restart');
              resolveStarted();
            },
            (err) => {
              app.log.error({ err, retryInMs }, 'merge-gate: could not resolve landings interrupted by a restart; trying again');
              options.timers.setTimeout(() => void recover(), retryInMs);
              retryInMs = Math.min(RECOVER_RETRY.maxMs, retryInMs * 2);
            },
          );
        void recover();
      },
    },
    close() {
      sender.stop();
      if (!options.db) db.close();
    },
  };
  return landing;
}
