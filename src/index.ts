// The Probot app (SPEC §1): `npm start` runs `probot run ./lib/index.js`, which
// calls this with a Probot configured from the environment (APP_ID,
// PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST / GHE_PROTOCOL, PORT). merge-gate's
// own settings (DRY_RUN, …) come from the same environment, see
// src/github/config.ts and docs/github-app.md.
import type { ApplicationFunction } from 'probot';
import { configFromEnv } from './github/config.js';
import { mergeGateApp } from './github/app.js';

const app: ApplicationFunction = (probot, options) => mergeGateApp(configFromEnv(process.env))(probot, options);

export default app;
export { mergeGateApp } from './github/app.js';
export { configFromEnv } from './github/config.js';
