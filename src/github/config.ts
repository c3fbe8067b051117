// The app's runtime configuration: what the environment says, plus the clock
// and timers (src/clock.ts) every time-driven part uses, so tests can replace them.

import { pullPath } from '../pages/words.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../clock.js';
import { GITHUB_TIMEOUT_MS } from '../octokit/timeout.js';

export interface RetryConfig {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled each time. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface AppConfig {
  /** Our GitHub App id (APP_ID): tells our own check runs and suites from everyone else's. */
  appId: number | undefined;
  /** Name of the check run (SPEC §1). */
  checkName: string;
  /** Path of the policy file on the default branch (SPEC §1). */
  policyPath: string;
  /** DRY_RUN=true: report only, never land. */
  dryRun: boolean;
  /**
   * The coalescing window: an idle pull request's first event on a quiet app is
   * evaluated at once (leading edge); events during that evaluation or within
   * this long after it, or while the app is busy, are evaluated this long after
   * the pull request's last event (a trailing debounce). See queue.ts.
   */
  coalesceMs: number;
  /** However busy a pull request stays, it is evaluated at the latest this long after the first event of a burst. */
  coalesceMaxMs: number;
  /** Evaluations running at once, over all pull requests. */
  concurrency: number;
  retry: RetryConfig;
  /**
   * After the retries are given up on a pull request (its check is then written
   * as not passing), it is evaluated again this much later, and so on until an
   * evaluation succeeds: no event is needed, and no freeze boundary is lost.
   */
  giveUpRetryMs: number;
  /** On start, find waiting pull requests and schedule their re-evaluation. */
  scheduleOnStart: boolean;
  /**
   * Between the starts of two content-creating requests of one installation.
   * Undefined: GitHub's advice (a second), and Probot's throttling plugin also
   * keeps its own 3 s between writes that notify people (merges, comments).
   * Set: this spacing alone governs every write — for a GitHub Enterprise
   * Server whose admin set other limits, and for tests against a fake GitHub.
   */
  writeSpacingMs: number | undefined;
  /** A request to GitHub not answered within this long fails and is retried (src/octokit/timeout.ts). */
  githubTimeoutMs: number;
  /**
   * MERGE_GATE_URL, when the app's own pages are on (GITHUB_CLIENT_ID set): the public address of its port, absolute http(s), no
   * trailing slash. Each check run's `details_url` is then <pagesUrl>/pulls/<owner>/<repo>/<number> (SPEC §7). null: no such link.
   */
  pagesUrl: string | null;
  clock: Clock;
  timers: Timers;
}

export const DEFAULT_CONFIG: AppConfig = {
  appId: undefined,
  checkName: 'merge-gate',
  policyPath: '.github/merge-gate.yml',
  dryRun: false,
  coalesceMs: 2_000,
  coalesceMaxMs: 10_000,
  concurrency: 4,
  retry: { attempts: 5, baseDelayMs: 5_000, maxDelayMs: 5 * 60_000 },
  giveUpRetryMs: 5 * 60_000,
  scheduleOnStart: true,
  writeSpacingMs: undefined,
  githubTimeoutMs: GITHUB_TIMEOUT_MS,
  pagesUrl: null,
  clock: systemClock,
  timers: systemTimers,
};

function flag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  return n;
}

/** MERGE_GATE_RETRY_BASE_MS: the first retry's delay (at least 100 ms: a zero would spin); the cap stays, or rises to the base. */
function retryFromEnv(env: NodeJS.ProcessEnv): RetryConfig {
  const baseDelayMs = Math.max(100, positive(env.MERGE_GATE_RETRY_BASE_MS, DEFAULT_CONFIG.retry.baseDelayMs, 'MERGE_GATE_RETRY_BASE_MS'));
  return { ...DEFAULT_CONFIG.retry, baseDelayMs, maxDelayMs: Math.max(baseDelayMs, DEFAULT_CONFIG.retry.maxDelayMs) };
}

/** MERGE_GATE_URL as an absolute http(s) address without a trailing slash, or null when unset or when the pages are off (no GITHUB_CLIENT_ID). */
export function pagesUrlFromEnv(env: NodeJS.ProcessEnv): string | null {
  const raw = env.MERGE_GATE_URL?.trim();
  if (!raw || !env.GITHUB_CLIENT_ID?.trim()) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`MERGE_GATE_URL must be an absolute http(s) address such as https://merge-gate.example.com, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new Error(`MERGE_GATE_URL must be an absolute http(s) address without query, fragment or credentials, such as https://merge-gate.example.com, got ${JSON.stringify(raw)}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** The page of a pull request on the app's own pages (SPEC §7), or null when they are off. */
export function pullPageUrl(pagesUrl: string | null, repository: string, number: number): string | null {
  return pagesUrl === null ? null : `${pagesUrl}${pullPath(repository, number)}`;
}

/**
 * The configuration from the environment (SPEC §7). Probot itself reads
 * APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL and PORT; the
 * app adds DRY_RUN and a few tuning knobs.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AppConfig> = {}): AppConfig {
  const appId = env.APP_ID && /^\d+$/.test(env.APP_ID.trim()) ? Number(env.APP_ID) : undefined;
  return {
    ...DEFAULT_CONFIG,
    appId,
    dryRun: flag(env.DRY_RUN),
    coalesceMs: positive(env.MERGE_GATE_COALESCE_MS, DEFAULT_CONFIG.coalesceMs, 'MERGE_GATE_COALESCE_MS'),
    coalesceMaxMs: positive(env.MERGE_GATE_COALESCE_MAX_MS, DEFAULT_CONFIG.coalesceMaxMs, 'MERGE_GATE_COALESCE_MAX_MS'),
    concurrency: Math.max(1, positive(env.MERGE_GATE_CONCURRENCY, DEFAULT_CONFIG.concurrency, 'MERGE_GATE_CONCURRENCY')),
    retry: retryFromEnv(env),
    // At least a second: a zero would spin on a pull request GitHub keeps failing.
    giveUpRetryMs: Math.max(1_000, positive(env.MERGE_GATE_GIVE_UP_RETRY_MS, DEFAULT_CONFIG.giveUpRetryMs, 'MERGE_GATE_GIVE_UP_RETRY_MS')),
    scheduleOnStart: env.MERGE_GATE_SCHEDULE_ON_START === undefined ? true : flag(env.MERGE_GATE_SCHEDULE_ON_START),
    writeSpacingMs:
      env.MERGE_GATE_WRITE_SPACING_MS === undefined || env.MERGE_GATE_WRITE_SPACING_MS.trim() === ''
        ? undefined
        : positive(env.MERGE_GATE_WRITE_SPACING_MS, 0, 'MERGE_GATE_WRITE_SPACING_MS'),
    // At least a second: GitHub's slowest normal answers (a large diff, a merge) take a few.
    githubTimeoutMs: Math.max(1_000, positive(env.MERGE_GATE_GITHUB_TIMEOUT_MS, DEFAULT_CONFIG.githubTimeoutMs, 'MERGE_GATE_GITHUB_TIMEOUT_MS')),
    pagesUrl: pagesUrlFromEnv(env),
    ...overrides,
  };
}
