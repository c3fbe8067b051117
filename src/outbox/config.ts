// Where trunk-updated goes and how long it is tried (SPEC §7): the target URLs
// belong to whoever runs the app, never to a repository's policy.
import { secretProblem } from './http.js';

export interface OutboxConfig {
  /** TRUNK_WEBHOOK_URL, comma-separated. */
  urls: string[];
  /** TRUNK_WEBHOOK_SECRET (`whsec_…`); required when there are URLs. */
  secret: string | null;
  /** OUTBOX_PATH. */
  path: string;
  /** OUTBOX_MAX_AGE, in ms. */
  maxAgeMs: number;
  /** OUTBOX_RETRY_BASE_MS / OUTBOX_RETRY_MAX_MS: the backoff. */
  backoff: { baseMs: number; maxMs: number };
}

export const DEFAULT_OUTBOX_PATH = '.merge-gate/outbox.sqlite';
export const DEFAULT_MAX_AGE_MS = 3 * 24 * 3600_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3600_000, hour: 3600_000, hours: 3600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000 };

/**
 * The app's durations and their bounds. MERGE_SETTLE schedules the sweep of an
 * uncertain merge, and Node clamps a timer past 2^31-1 ms (about 24.8 days) to
 * 1 ms: unbounded, it is a busy loop. OUTBOX_MAX_AGE is only compared with
 * ages, but a bound keeps a typo (`3000d`) from keeping deliveries forever.
 */
export const DURATION_BOUNDS: Record<string, { min: string; max: string; minMs: number; maxMs: number }> = {
  OUTBOX_MAX_AGE: { min: '1m', max: '20d', minMs: 60_000, maxMs: 20 * 86_400_000 },
  MERGE_SETTLE: { min: '1s', max: '1h', minMs: 1000, maxMs: 3600_000 },
};

/** "3d", "72h", "3 days", "90m", "500ms"; a bare number is seconds. Within `name`'s bounds, if it has any. */
export function parseDuration(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] ? UNITS[m[2].toLowerCase()] : 1000) : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) throw new Error(`${name} must be a duration such as 3d, 72h, 90m or 3600s, got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * unit;
  const bounds = DURATION_BOUNDS[name];
  if (bounds && (ms < bounds.minMs || ms > bounds.maxMs)) throw new Error(`${name} must be a duration from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(text)}`);
  return ms;
}

function ms(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw new Error(`${name} must be a whole number of milliseconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function outboxConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OutboxConfig {
  const urls = (env.TRUNK_WEBHOOK_URL ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`TRUNK_WEBHOOK_URL: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`TRUNK_WEBHOOK_URL: ${url} is not an http(s) URL`);
  }
  const secret = env.TRUNK_WEBHOOK_SECRET?.trim() || null;
  if (urls.length > 0 && secret === null) throw new Error('TRUNK_WEBHOOK_URL is set but TRUNK_WEBHOOK_SECRET is not: every trunk-updated event is signed');
  if (secret !== null) {
    const problem = secretProblem(secret);
    if (problem) throw new Error(`TRUNK_WEBHOOK_SECRET: ${problem}`);
  }
  const baseMs = Math.max(1, ms(env.OUTBOX_RETRY_BASE_MS, 1_000, 'OUTBOX_RETRY_BASE_MS'));
  return {
    urls,
    secret,
    path: env.OUTBOX_PATH?.trim() || DEFAULT_OUTBOX_PATH,
    maxAgeMs: env.OUTBOX_MAX_AGE?.trim() ? parseDuration(env.OUTBOX_MAX_AGE, 'OUTBOX_MAX_AGE') : DEFAULT_MAX_AGE_MS,
    backoff: { baseMs, maxMs: Math.max(baseMs, ms(env.OUTBOX_RETRY_MAX_MS, 10 * 60_000, 'OUTBOX_RETRY_MAX_MS')) },
  };
}
