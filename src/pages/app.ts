// The pages as the app serves them: the routes (routes.ts) given the state
// database's views (views.ts) and the renderings (queue-page.ts, pull-page.ts).
// Nothing here asks GitHub anything but the sign-in checks routes.ts makes.
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import type { Db } from '../state/db.js';
import { PAGES_CSP } from './layout.js';
import { pagesMetrics } from './metrics.js';
import { renderPullPage } from './pull-page.js';
import { queueApiJson, renderQueuePage } from './queue-page.js';
import { pagesHandler, type PagesHandler } from './routes.js';
import type { PagesConfig } from './types.js';
import { pullView, queueViews } from './views.js';

export interface AppPagesDeps {
  config: PagesConfig;
  db: Db;
  clock: Clock;
  log: Log;
  /** The app's /metrics registry: sign-ins, failures and page views are counted there. */
  registry: Registry;
}

export function appPages({ config, db, clock, log, registry }: AppPagesDeps): PagesHandler {
  const now = () => clock.now().getTime();
  return pagesHandler({
    config,
    clock,
    log,
    metrics: pagesMetrics(registry),
    render: { queuePage: renderQueuePage, pullPage: renderPullPage, queueJson: queueApiJson, csp: PAGES_CSP },
    views: { queues: () => queueViews(db, now()), pull: (repository, number) => pullView(db, repository, number, now()) },
  });
}
