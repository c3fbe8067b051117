// A deadline on every request merge-gate sends GitHub: without one, a request
// GitHub never answers holds its installation's write slot in the pacer
// (src/octokit/pacer.ts sends writes one at a time) for as long as the
// connection stays open, and every write of the installation waits behind it.
// The deadline runs from the request's start to its answer's headers (a body
// being read is not cut off); past it the request fails as a 5xx does —
// Octokit's retry plugin tries it again, and the caller's own error handling
// applies after that. A caller that passes its own signal (the merge call and
// the fast-forward: src/land/github.ts, src/queue/github.ts) keeps its own
// deadline. Real time: it bounds I/O, it decides nothing.
import { systemTimers, type Timers } from '../clock.js';
import { formatDuration } from '../duration.js';

/** MERGE_GATE_GITHUB_TIMEOUT_MS's default: GitHub answers in well under a second; a write past this is hung. */
export const GITHUB_TIMEOUT_MS = 30_000;

type Fetch = typeof globalThis.fetch;

/** Why a request was given up: it reads like a 5xx to Octokit (a RequestError with status 500, retried). */
export class GitHubTimeoutError extends Error {
  override name = 'GitHubTimeoutError';
}

/**
 * `fetch` with a deadline of `timeoutMs` on each attempt (Octokit calls it again for each retry). `base`: the fetch
 * to call (Probot's, when it has one); by default the global one, looked up at call time (tests intercept it).
 */
export function timedFetch(timeoutMs: number, base?: Fetch, timers: Timers = systemTimers): Fetch {
  return async (input, init = {}) => {
    const send = base ?? globalThis.fetch;
    if (init.signal) return send(input, init);
    const controller = new AbortController();
    const method = init.method ?? 'GET';
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const timer = timers.setTimeout(
      () => controller.abort(new GitHubTimeoutError(`GitHub did not answer ${method} ${new URL(url).pathname} within ${formatDuration(timeoutMs)} (MERGE_GATE_GITHUB_TIMEOUT_MS); it is tried again`)),
      timeoutMs,
    );
    try {
      return await send(input, { ...init, signal: controller.signal });
    } finally {
      timers.clearTimeout(timer);
    }
  };
}
