// One health probe of a running revision: an HTTP GET (2xx is healthy) or a
// command (exit 0 is healthy), bounded by the configured timeout.
import { runCommand } from './processes.js';

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error: string | null;
}

export interface ProbeTarget {
  url?: string;
  command?: string;
  timeoutMs: number;
  port: number;
  cwd: string;
  env: Record<string, string>;
}

/** `${PORT}` in the health URL is the revision's port; nothing else is substituted. */
export function healthUrl(template: string, port: number): string {
  return template.split('${PORT}').join(String(port));
}

export async function probe(target: ProbeTarget, now: () => number = () => performance.now()): Promise<ProbeResult> {
  const t0 = now();
  if (target.command !== undefined) {
    const result = await runCommand(target.command, target.cwd, target.env, target.timeoutMs);
    return { ok: result.ok, ms: now() - t0, error: result.ok ? null : `health command: ${result.detail}` };
  }
  const url = healthUrl(target.url!, target.port);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(target.timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, ms: now() - t0, error: ok ? null : `HTTP ${response.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${target.timeoutMs}ms` : (e.cause?.code ?? e.message);
    return { ok: false, ms: now() - t0, error: why };
  }
}
