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
import { outboxConfigFromEnv } from './outbox/config.js';
import { PendingRequests } from './intake/pending.js';

const app: ApplicationFunction = (probot, options) => {
  const config = configFromEnv(process.env);
  const landing = createLanding({ outbox: outboxConfigFromEnv(process.env), clock: config.clock, timers: config.timers, checkName: config.checkName, policyPath: config.policyPath });
  // Accepted events are recorded in the same state database as the outbox, so a crash loses none.
  return mergeGateApp(config, { ...landing.hooks, pending: new PendingRequests(landing.db) })(probot, options);
};

export default app;
export { mergeGateApp } from './github/app.js';
export { configFromEnv } from './github/config.js';
export { createLanding } from './land/index.js';
