// Writes to the state database that failed (SQLITE_FULL: the disk is full;
// SQLITE_BUSY: another process holds the write lock longer than busy_timeout;
// SQLITE_IOERR …). Whoever writes from code nobody awaits (the outbox's
// attempts, timers, the journal of accepted events) catches the error, logs
// what was not recorded, counts it here and tries again later: such an error
// never becomes an unhandled rejection that kills the process. Kept per
// database so /metrics (src/metrics/app.ts) reads them beside the tables.
import type { Db } from './db.js';

/** What could not be written, as the metric's `what` label. */
export type UnrecordedWrite = 'pending_request' | 'pending_request_removal' | 'outbox_attempt';

const counts = new WeakMap<Db, Map<UnrecordedWrite, number>>();

/** Counts, logs (error level: someone should look at the disk) and returns the SQLite code. */
export function writeFailed(db: Db, log: { error(obj: object, msg: string): void }, what: UnrecordedWrite, err: unknown, details: object): string {
  const byWhat = counts.get(db) ?? new Map<UnrecordedWrite, number>();
  byWhat.set(what, (byWhat.get(what) ?? 0) + 1);
  counts.set(db, byWhat);
  const code = (err as { code?: string })?.code ?? 'unknown';
  log.error({ ...details, what, code, err: (err as Error)?.message ?? String(err) }, `merge-gate: could not write ${what.replace(/_/g, ' ')} to the state database (${code}); kept in memory, trying again`);
  return code;
}

/** Failed writes so far (since the process started), by what was not recorded. */
export function writeFailures(db: Db): ReadonlyMap<UnrecordedWrite, number> {
  return counts.get(db) ?? new Map();
}

/** Retry delays after a failed write: 1 s, doubled up to a minute. */
export const WRITE_RETRY = { firstMs: 1_000, maxMs: 60_000 } as const;
