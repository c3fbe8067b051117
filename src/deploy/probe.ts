// One health probe of a running revision: an HTTP GET (2xx is healthy) or a
// command (exit 0 is healthy), bounded by the configured timeout.
import { runCommand } from './processes.js';

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error: string | null;
  /** The trigger's own failure, not the revision's: never counted by the breaker. */
  inconclusive?: boolean;
}

/** The trigger is out of descriptors: the probe never reached the revision. */
const LOCAL_FAILURE = /^(EMFILE|ENFILE)$/;

/**
 * A timeout that fired this much later than scheduled: the trigger's event loop
 * stalled, so the revision's silence proves nothing.
 */
export function stalled(elapsedMs: number, timeoutMs: number): boolean {
  return elapsedMs > 2 * timeoutMs + 1000;
}

export type Probe = (target: ProbeTarget) => Promise<ProbeResult>;

export interface ProbeTarget {
  url?: string;
  command?: string;
  timeoutMs: number;
  port: number;
  cwd: string;
  env: Record<string, string>;
  /** The revision's cgroup: a health command runs in it (processes.ts). */
  cgroup?: string | null;
}

/** `${PORT}` in the health URL is the revision's port; nothing else is substituted. */
export function healthUrl(template: string, port: number): string {
  return template.split('${PORT}').join(String(port));
}

/** `get` is the HTTP client (a test makes it fail as the trigger's own sockets would). */
export async function probe(target: ProbeTarget, now: () => number = () => performance.now(), get: typeof fetch = fetch): Promise<ProbeResult> {
  const t0 = now();
  if (target.command !== undefined) {
    const result = await runCommand(target.command, target.cwd, target.env, target.timeoutMs, { cgroup: target.cgroup });
    const ms = now() - t0;
    // Only the spawn itself failing for want of descriptors (the service's own output is not trusted here).
    const local = /^spawn \S+ (EMFILE|ENFILE)$/.test(result.detail) || (!result.ok && /^timed out/.test(result.detail) && stalled(ms, target.timeoutMs));
    return { ok: result.ok, ms, error: result.ok ? null : `health command: ${result.detail}`, ...(local ? { inconclusive: true } : {}) };
  }
  const url = healthUrl(target.url!, target.port);
  try {
    const response = await get(url, { signal: AbortSignal.timeout(target.timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, ms: now() - t0, error: ok ? null : `HTTP ${response.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const ms = now() - t0;
    const code = e.cause?.code ?? '';
    if (LOCAL_FAILURE.test(code)) return { ok: false, ms, error: `inconclusive: the trigger could not open a connection (${code})`, inconclusive: true };
    if (e.name === 'TimeoutError' && stalled(ms, target.timeoutMs)) return { ok: false, ms, error: `inconclusive: the trigger's event loop stalled (${Math.round(ms)}ms for a ${target.timeoutMs}ms timeout)`, inconclusive: true };
    const why = e.name === 'TimeoutError' ? `no answer within ${target.timeoutMs}ms` : e.cause?.code ?? e.message;
    return { ok: false, ms, error: why };
  }
}
