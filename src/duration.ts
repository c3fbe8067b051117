// Durations as written in configuration (the deploy config, the policy): `150ms`, `2s`, `5m`, `1h`.
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
/** What parseDuration accepts, as a JSON Schema `pattern` (it trims the text first). */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?(ms|s|m|h)\\s*$';

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** `1500` → `1.5s`, `60000` → `1m`: how durations are shown back to people. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(1))}s`;
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}
