// An Octokit for the command line (`replay --github`, `simulate`): a personal
// or Actions token, GitHub Enterprise through its API URL, and GitHub's rate
// limit read from every answer — when it runs low (or out), requests wait for
// its reset and say so, rather than failing half-way through a long replay.
import { ProbotOctokit } from 'probot';
import type { Clock } from '../clock.js';
import { advisedHold } from './pacer.js';
import type { Octokit } from './types.js';

export const DEFAULT_API_URL = 'https://api.github.com';

export interface TokenOctokitOptions {
  token: string;
  /** REST's base URL (`GITHUB_API_URL`; GitHub Enterprise: https://HOST/api/v3). */
  baseUrl: string;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** Told before each wait, in a sentence. */
  say: (line: string) => void;
  /** Wait for the reset once this few requests (points) are left. */
  low?: number;
}

/** How long to wait before the next request, from an answer's headers; 0: go on. Pure. */
export function rateLimitWait(headers: Record<string, unknown>, nowMs: number, low: number): { ms: number; remaining: number; resetAt: number } | null {
  const remaining = Number(headers['x-ratelimit-remaining']);
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining > low) return null;
  const resetAt = reset * 1000 + 500; // whole seconds: half a second past, to be on the reset's far side
  return resetAt > nowMs ? { ms: resetAt - nowMs, remaining, resetAt } : null;
}

export function tokenOctokit(options: TokenOctokitOptions): Octokit {
  const { clock, sleep, say } = options;
  const low = options.low ?? 50;
  const octokit: Octokit = new ProbotOctokit({
    auth: { token: options.token },
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    userAgent: 'merge-gate-cli',
    // The waits below are this client's; GitHub's 5xx are not retried (the command fails, says why, and a replay resumes).
    throttle: { enabled: false },
    retry: { enabled: false },
  });
  let holdUntil = 0;
  const waitIfHeld = async () => {
    const ms = holdUntil - clock.now().getTime();
    if (ms > 0) await sleep(ms);
  };
  const hold = (wait: { ms: number; resetAt: number }, why: string) => {
    holdUntil = Math.max(holdUntil, wait.resetAt);
    say(`GitHub's rate limit: ${why}; waiting ${Math.ceil(wait.ms / 1000)} s, until its reset at ${new Date(wait.resetAt).toISOString()}`);
  };
  octokit.hook.wrap('request', async (request, params) => {
    for (let attempt = 0; ; attempt++) {
      await waitIfHeld();
      try {
        const response = await request(params);
        const wait = rateLimitWait(response.headers as Record<string, unknown>, clock.now().getTime(), low);
        if (wait) hold(wait, `${wait.remaining} requests left`);
        return response;
      } catch (err) {
        // Out of budget, or a secondary limit: wait as GitHub advises, then ask again (three times at most).
        const e = err as { status?: number; response?: { headers?: Record<string, unknown> }; message?: string };
        const now = clock.now().getTime();
        const advised = advisedHold({ status: e.status, headers: e.response?.headers, message: e.message }, 'core', now, 60_000);
        if (!advised || attempt >= 2) throw err;
        hold({ ms: advised.until - now, resetAt: advised.until }, `GitHub refused a request (${e.status})`);
      }
    }
  });
  return octokit;
}
