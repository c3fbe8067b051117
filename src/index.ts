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
import type { MergeGate } from './github/gate.js';
import { appMetrics, metricsHandler } from './metrics/app.js';
import { lockState } from './state/lock.js';

/** One app per state file (src/state/lock.ts): a second one on the same OUTBOX_PATH exits with one line naming the holder. */
function lockOrExit(path: string): void {
  try {
    lockState(path, 'merge-gate app'); // held until the process ends: the kernel releases it, however it ends
  } catch (err) {
    process.stderr.write(`merge-gate: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

const app: ApplicationFunction = (probot, options) => {
  const config = configFromEnv(process.env);
  const outbox = outboxConfigFromEnv(process.env);
  lockOrExit(outbox.path);
  const landing = createLanding({
    outbox,
    clock: config.clock,
    timers: config.timers,
    checkName: config.checkName,
    policyPath: config.policyPath,
    settleMs: process.env.MERGE_SETTLE?.trim() ? parseDuration(process.env.MERGE_SETTLE, 'MERGE_SETTLE') : undefined,
  });
  let gate: MergeGate | null = null;
  const pending = new PendingRequests(landing.db, { log: probot.log, timers: config.timers });
  // GET /metrics beside the webhooks, read from the state database and the queue (none without an HTTP server).
  if (typeof options.addHandler === 'function') {
    try {
      options.addHandler(metricsHandler(appMetrics({ db: landing.db, clock: config.clock, gate: () => gate, unrecorded: () => pending.unrecorded() })));
    } catch {
      // Probot loaded without a server (`probot receive`, some tests): no endpoint to add it to.
    }
  }
  // Accepted events are recorded in the same state database as the outbox, so a crash loses none.
  return mergeGateApp(config, {
    ...landing.hooks,
    pending,
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
