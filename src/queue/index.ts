// The merge queue wired together (SPEC §4a): its store and batch journal in the
// app's state database, the runner, the batch lander, and the hooks the gate
// calls. The gate is attached once the app is loaded (its octokits, its
// evaluations); `start` then looks at every queue a previous process left.
import type { Clock, Timers } from '../clock.js';
import type { Redecorate } from '../github/gate.js';
import type { ExistingCheckRun } from '../github/nodes.js';
import type { PullRef } from '../github/pull-ref.js';
import { octokitLandingGitHub, type LandingGitHub } from '../land/github.js';
import type { Log } from '../log.js';
import type { Octokit } from '../octokit/types.js';
import type { OutboxSender, OutboxStore } from '../outbox/outbox.js';
import type { Db } from '../state/db.js';
import { octokitQueueGitHub, type QueueGitHub } from './github.js';
import { QueueHooks } from './hooks.js';
import { BatchJournal } from './journal.js';
import { BatchLander } from './land-batch.js';
import { QueueRunner, type RunnerDeps } from './runner.js';
import { QueueStore } from './store.js';

export interface QueueOptions {
  db: Db;
  outbox: OutboxStore;
  sender: Pick<OutboxSender, 'kick'>;
  urls: readonly string[];
  clock: Clock;
  timers: Timers;
  checkName: string;
  policyPath: string;
  github?: (octokit: Octokit, owner: string, repo: string, appId: number) => QueueGitHub;
  landing?: (octokit: Octokit, owner: string, repo: string) => LandingGitHub;
  newId?: () => string;
  retry?: { firstMs: number; maxMs: number };
  /** Carries out a `land` without staging (landing without land.queue: src/land/direct.ts). */
  direct?: RunnerDeps['land'];
}

/** What the queue uses of the gate. */
export interface QueueGate {
  octokit(installationId: number): Promise<Octokit>;
  requestEvaluation(ref: PullRef): void;
  refreshCheck(ref: PullRef, redecorate: Redecorate): void;
  checkShown(ref: PullRef, headSha: string): ExistingCheckRun | null;
  appId(): Promise<number>;
}

export interface Queue {
  store: QueueStore;
  journal: BatchJournal;
  runner: QueueRunner;
  hooks: QueueHooks;
  attach(gate: QueueGate, log: Log): void;
  /** After the app is loaded: orphans, the base heads, the checks of staging heads, the actions a crash left. */
  start(): Promise<void>;
  /** An event is being applied, an action carried out, or the start's look at every queue is under way. */
  busy(): boolean;
  idle(): Promise<void>;
  stop(): void;
}

export function createQueue(options: QueueOptions): Queue {
  let gate: QueueGate | null = null;
  const attached = (): QueueGate => {
    if (!gate) throw new Error('the merge queue is not attached to the gate yet');
    return gate;
  };
  let log: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  // The app's logger arrives with the gate; until then (and in tests that attach none) nothing is logged.
  const logProxy = {
    debug: (o: object, m?: string) => log.debug(o, m),
    info: (o: object, m?: string) => log.info(o, m),
    warn: (o: object, m?: string) => log.warn(o, m),
    error: (o: object, m?: string) => log.error(o, m),
  } as Log;
  const github = options.github ?? octokitQueueGitHub;
  const store = new QueueStore(options.db);
  const journal = new BatchJournal(options.db, options.outbox);
  const installationOctokit = (id: number) => attached().octokit(id);
  const requestEvaluation = (ref: PullRef) => attached().requestEvaluation(ref);
  let hooks: QueueHooks;
  const lander = new BatchLander({
    journal,
    sender: options.sender,
    urls: options.urls,
    github,
    landing: options.landing ?? octokitLandingGitHub,
    installationOctokit,
    requestEvaluation,
    basis: (pull) => hooks.basis(pull),
    policyPath: options.policyPath,
    checkName: options.checkName,
    checkShown: (ref, headSha) => gate?.checkShown(ref, headSha) ?? null, // none before the gate is attached: read
    appId: () => attached().appId(),
    clock: options.clock,
    log: logProxy,
    newId: options.newId,
  });
  const runner = new QueueRunner({
    store,
    github,
    appId: () => attached().appId(),
    installationOctokit,
    refreshCheck: (ref) => attached().refreshCheck(ref, (plan, pass) => hooks.redecorate(plan, pass)),
    land: (branch, action, octokit) => (action.stagingSha === null && options.direct ? options.direct(branch, action, octokit) : lander.land(branch, action, octokit)),
    clock: options.clock,
    timers: options.timers,
    log: logProxy,
    retry: options.retry,
  });
  hooks = new QueueHooks({ store, runner, clock: options.clock, log: logProxy });
  let starting: Promise<void> | null = null;
  return {
    store,
    journal,
    runner,
    hooks,
    attach(g, l) {
      gate = g;
      log = l;
    },
    start() {
      const run = (async () => {
        for (const record of journal.untidied()) await lander.tidy(record);
        await runner.start();
      })();
      starting = run.finally(() => {
        if (starting === tracked) starting = null;
      });
      const tracked = starting;
      return run;
    },
    busy: () => starting !== null || runner.busy(),
    async idle() {
      while (starting) await starting.catch(() => undefined);
      await runner.idle();
    },
    stop: () => runner.stop(),
  };
}
