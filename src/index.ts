// The Probot app (SPEC §1): `npm start` runs `probot run ./lib/index.js`, which
// calls this with a Probot configured from the environment (APP_ID,
// PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST / GHE_PROTOCOL, PORT). merge-gate's
// own settings (DRY_RUN, TRUNK_WEBHOOK_URL, OUTBOX_PATH, …) come from the same
// environment, see src/github/config.ts, src/outbox/config.ts,
// docs/github-app.md and docs/landing.md.
import type { ApplicationFunction } from 'probot';
import { configFromEnv } from './github/config.js';
import { mergeGateApp } from './github/app.js';
import { createLanding } from './land/index.js';
import { outboxConfigFromEnv, parseDuration } from './outbox/config.js';
import { PendingRequests } from './intake/pending.js';
import { EvaluationHistory } from './history/store.js';
import type { MergeGate } from './github/gate.js';
import { appMetrics, metricsHandler } from './metrics/app.js';
import { lockState, StateLocked } from './state/lock.js';
import { guardHttpServers, webhookBodyGuard } from './github/webhook-bodies.js';
import { pagesConfigFromEnv } from './pages/config.js';
import { appPages } from './pages/app.js';

/**
 * A setting the app cannot start with is one line naming it, and exit 1 — not a
 * stack trace (`probot run` leaves a rejected app to Node's unhandled-rejection
 * report). Every message of src/github/config.ts, src/outbox/config.ts and
 * parseDuration names its variable; the state file's are given OUTBOX_PATH here.
 */
function orExit<T>(make: () => T, variable?: string): T {
  try {
    return make();
  } catch (err) {
    const message = (err as Error).message;
    const named = variable && !(err instanceof StateLocked) ? `${variable}: ${message}` : message;
    process.stderr.write(`merge-gate: ${named}\n`);
    process.exit(1);
  }
}

const app: ApplicationFunction = (probot, options) => {
  const config = orExit(() => configFromEnv(process.env));
  const outbox = orExit(() => outboxConfigFromEnv(process.env));
  // The pages' sign-in (src/pages/config.ts): all of GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, SESSION_SECRET, or none (pages off).
  const pagesConfig = orExit(() => pagesConfigFromEnv(process.env));
  const settle = process.env.MERGE_SETTLE;
  const settleMs = settle?.trim() ? orExit(() => parseDuration(settle, 'MERGE_SETTLE')) : undefined;
  const statePath = `OUTBOX_PATH=${JSON.stringify(outbox.path)}`;
  // One app per state file (src/state/lock.ts): a second one on the same OUTBOX_PATH exits with one line naming the holder.
  orExit(() => lockState(outbox.path, 'merge-gate app'), statePath); // held until the process ends: the kernel releases it, however it ends
  const landing = orExit(() => createLanding({ outbox, clock: config.clock, timers: config.timers, checkName: config.checkName, policyPath: config.policyPath, settleMs }), statePath);
  // Webhook bodies are read under limits before Probot's middleware buffers them (src/github/webhook-bodies.ts).
  guardHttpServers(webhookBodyGuard({ log: probot.log, secret: process.env.WEBHOOK_SECRET }), probot.log);
  let gate: MergeGate | null = null;
  const pending = new PendingRequests(landing.db, { log: probot.log, timers: config.timers });
  const history = new EvaluationHistory(landing.db);
  // GET /metrics beside the webhooks, read from the state database and the queue (none without an HTTP server).
  if (typeof options.addHandler === 'function') {
    try {
      const registry = appMetrics({ db: landing.db, clock: config.clock, gate: () => gate, unrecorded: () => pending.unrecorded() });
      options.addHandler(metricsHandler(registry));
      // The pages (/queue, /pulls/…, /api/queue, sign-in) on the same port, off (404) without the OAuth client (src/pages).
      if (pagesConfig) options.addHandler(appPages({ config: pagesConfig, db: landing.db, clock: config.clock, log: probot.log, registry }));
    } catch {
      // Probot loaded without a server (`probot receive`, some tests): no endpoint to add it to.
    }
  }
  // Accepted events are recorded in the same state database as the outbox, so a crash loses none.
  return mergeGateApp(config, {
    ...landing.hooks,
    pending,
    onEvaluated: (record) => history.record(record), // each pull request's page (src/history)
    onGate: (loaded, probotApp) => {
      gate = loaded;
      landing.hooks.onGate?.(loaded, probotApp);
    },
  })(probot, options);
};

export default app;
export { mergeGateApp } from './github/app.js';
export { configFromEnv } from './github/config.js';
export { createLanding } from './land/index.js';
