// The Octokit merge-gate talks to GitHub with, per installation: Probot's own
// production Octokit (the class `probot run` builds: app authentication with
// its token cache, retries, the throttling plugin), constructed the way
// Probot's `app.auth(id)` constructs it, with two additions:
//   - the throttling plugin configured to pace content-creating requests only
//     (src/octokit/pacer.ts). The plugin puts every write *and every GraphQL
//     query* through its `write` group (one a second); here that group lets
//     requests through, and its `global` group — which every request passes,
//     with the request's options in hand — paces by what the request is. The
//     plugin still handles the rest: the auth, search and notification
//     groups, and retrying after a primary rate limit.
//   - conditional reads (src/octokit/conditional.ts): the policy file is read
//     with its ETag, and GitHub does not count a 304.
//   - a deadline on each request (src/octokit/timeout.ts): one GitHub never
//     answers fails and is retried instead of holding the installation's writes.
// Tests that replace Probot's Octokit class (throttle disabled) get the same
// construction with their class.
import type { Probot } from 'probot';
import type { Octokit } from './types.js';
import { conditionalReads, ConditionalCache } from './conditional.js';
import { DETAILS_ONLY, Pacer, URGENT, type PacedRequest } from './pacer.js';
import { GITHUB_TIMEOUT_MS, timedFetch } from './timeout.js';

interface RequestOptionsLike {
  method?: string;
  url?: string;
  query?: unknown;
  request?: { mergeGatePace?: string };
}

/** How a request is paced: content-creating or not, which budget, how urgent. */
export function classifyRequest(options: RequestOptionsLike): PacedRequest {
  const method = (options.method ?? 'GET').toUpperCase();
  const path = new URL(options.url ?? '/', 'http://github.test').pathname;
  const pace = options.request?.mergeGatePace;
  const priority = pace === DETAILS_ONLY.mergeGatePace ? 1 : pace === URGENT.mergeGatePace ? -1 : 0;
  if (method === 'POST' && path.endsWith('/graphql')) {
    // A mutation creates content; a query only spends points. Unsure (no text): paced, to be safe.
    const text = typeof options.query === 'string' ? options.query.replace(/#[^\n]*/g, '') : 'mutation';
    return { write: /\bmutation\b/.test(text), resource: 'graphql', priority };
  }
  return { write: method !== 'GET' && method !== 'HEAD', resource: 'core', priority };
}

/** The part of a Bottleneck.Group that the throttling plugin calls. */
interface GroupLike {
  key(id: string): { schedule(options: object, fn: (...args: any[]) => any, ...args: any[]): Promise<any> };
}

/**
 * The `throttle` options that make the plugin pace through `pacer`. With
 * `pluginNotificationSpacing` false, the plugin's own 3 s between writes that
 * notify people is lifted too, and the pacer's spacing governs every write.
 */
export function pacedThrottleOptions(pacer: Pacer, installationId: number, pluginNotificationSpacing = true): Record<string, unknown> {
  const through: GroupLike = { key: () => ({ schedule: async (_options, fn, ...args) => fn(...args) }) };
  const paced: GroupLike = {
    key: (id) => ({
      schedule: (_options, request, options: RequestOptionsLike) => pacer.run(id, classifyRequest(options), () => request(options)),
    }),
  };
  return { id: String(installationId), write: through, global: paced, ...(pluginNotificationSpacing ? {} : { notifications: through }) };
}

export interface OctokitFactory {
  /** The installation's Octokit (one per installation, reused: tokens refresh by themselves). */
  installation(installationId: number): Promise<Octokit>;
  readonly pacer: Pacer;
}

export function octokitFactory(
  app: Probot,
  pacer: Pacer,
  options: { pluginNotificationSpacing?: boolean; conditional?: ConditionalCache; requestTimeoutMs?: number } = {},
): OctokitFactory {
  const conditional = options.conditional ?? new ConditionalCache();
  const byInstallation = new Map<number, Promise<Octokit>>();
  const build = async (installationId: number): Promise<Octokit> => {
    // The app's Octokit carries Probot's defaults (auth, token cache, base URL, log, throttle handlers).
    const appOctokit = await app.auth();
    const OctokitClass = appOctokit.constructor as new (options: object) => Octokit;
    // Probot's request options (its fetch, if it was given one) kept; the instance's own hook is Octokit's to set.
    const { hook: _hook, ...request } = (appOctokit.request.endpoint.DEFAULTS.request ?? {}) as { hook?: unknown; fetch?: typeof fetch };
    const octokit = new OctokitClass({
      auth: { installationId },
      throttle: pacedThrottleOptions(pacer, installationId, options.pluginNotificationSpacing ?? true),
      request: { ...request, fetch: timedFetch(options.requestTimeoutMs ?? GITHUB_TIMEOUT_MS, request.fetch) },
    });
    conditionalReads(octokit, conditional, String(installationId));
    return octokit;
  };
  return {
    pacer,
    installation(installationId) {
      let octokit = byInstallation.get(installationId);
      if (!octokit) {
        octokit = build(installationId);
        octokit.catch(() => byInstallation.delete(installationId));
        byInstallation.set(installationId, octokit);
      }
      return octokit;
    },
  };
}
