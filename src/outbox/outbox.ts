// The durable outbox (SPEC §4): every delivery is a row in SQLite before it is
// sent, and it is retried with exponential backoff and jitter until a 2xx,
// keeping its webhook-id. Each target is retried on its own: a dead target
// never holds back another. Pending deliveries are attempted at once on start;
// a delivery older than `maxAgeMs` is given up, logged at error level and
// counted. Time (clock, timers) and randomness are injected.
//
// Attempts run from timers nobody awaits: an outcome that cannot be written
// (SQLITE_FULL, SQLITE_BUSY) is logged, counted (src/state/failures.ts) and
// the delivery held back in memory for the backoff delay, then attempted
// again: a delivery whose success was not recorded is sent again with the same
// webhook-id (receivers deduplicate by it); none is lost, the process lives.
import type { Clock, TimerHandle, Timers } from '../clock.js';
import type { Db } from '../state/db.js';
import { WRITE_RETRY, writeFailed } from '../state/failures.js';

export interface Delivery {
  id: number;
  eventId: string;
  target: string;
  body: string;
  createdAt: number;
  attempts: number;
  nextAt: number;
  state: 'pending' | 'delivered' | 'given_up';
  doneAt: number | null;
  lastError: string | null;
}

/** Sends one delivery. Resolves to null on success, or what went wrong. */
export type Transport = (delivery: Delivery) => Promise<string | null>;

export interface BackoffOptions {
  /** Delay before the first retry; doubled each attempt. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 10 * 60_000 };

/**
 * The delay after `attempts` failed attempts: exponential, capped, with "equal
 * jitter" (half fixed, half random) so targets that failed together do not
 * come back in lockstep. Pure.
 */
export function backoffDelay(attempts: number, options: BackoffOptions, random: number): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}

interface Row {
  id: number;
  event_id: string;
  target: string;
  body: string;
  created_at: number;
  attempts: number;
  next_at: number;
  state: Delivery['state'];
  done_at: number | null;
  last_error: string | null;
}

const toDelivery = (r: Row): Delivery => ({
  id: r.id,
  eventId: r.event_id,
  target: r.target,
  body: r.body,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  state: r.state,
  doneAt: r.done_at,
  lastError: r.last_error,
});

/** The deliveries table. Synchronous (better-sqlite3): call `enqueue` inside a landing's transaction. */
export class OutboxStore {
  constructor(readonly db: Db) {}

  /** One delivery of `eventId` per target; an event already enqueued for a target is left alone. */
  enqueue(eventId: string, targets: readonly string[], body: string, now: number): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO deliveries (event_id, target, body, created_at, next_at) VALUES (?, ?, ?, ?, ?)');
    for (const target of targets) insert.run(eventId, target, body, now, now);
  }

  pending(): Delivery[] {
    return (this.db.prepare("SELECT * FROM deliveries WHERE state = 'pending' ORDER BY next_at, id").all() as Row[]).map(toDelivery);
  }

  all(): Delivery[] {
    return (this.db.prepare('SELECT * FROM deliveries ORDER BY id').all() as Row[]).map(toDelivery);
  }

  delivered(id: number, now: number): void {
    this.db.prepare("UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, done_at = ?, last_error = NULL WHERE id = ?").run(now, id);
  }

  failed(id: number, error: string, nextAt: number): void {
    this.db.prepare('UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?').run(nextAt, error.slice(0, 1000), id);
  }

  givenUp(id: number, now: number): void {
    this.db.prepare("UPDATE deliveries SET state = 'given_up', done_at = ? WHERE id = ?").run(now, id);
  }

  /** Deliveries given up, over the database's life (survives restarts). */
  givenUpCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'given_up'").get() as { n: number }).n;
  }
}

export interface OutboxLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SenderOptions {
  store: OutboxStore;
  /** Picks the transport for a target (a URL, a repository_dispatch). */
  transport(target: string): Transport;
  clock: Clock;
  timers: Timers;
  backoff?: BackoffOptions;
  /** A delivery older than this is given up. */
  maxAgeMs: number;
  random?: () => number;
  log: OutboxLog;
}

/** Works the outbox: attempts what is due, each target on its own, and arms one timer for the next due attempt. */
export class OutboxSender {
  readonly stats = { attempts: 0, delivered: 0, failed: 0, givenUp: 0 };
  private readonly inFlight = new Set<number>();
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private stopped = false;
  private waiters: Array<() => void> = [];
  /** Deliveries whose outcome could not be written, by id: not attempted again before `until`; `failures` in a row. */
  private readonly held = new Map<number, { until: number; failures: number }>();
  private readRetryMs: number = WRITE_RETRY.firstMs;

  constructor(private readonly options: SenderOptions) {}

  /** Attempt every pending delivery at once (on start, and after a landing enqueued some). */
  start(): void {
    this.stopped = false;
    this.pump(true);
  }

  /** New deliveries were enqueued: send what is due. */
  kick(): void {
    this.pump(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Resolves when no attempt is in flight and nothing pending is due now (later retries aside). */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private isSettled(): boolean {
    if (this.inFlight.size > 0) return false;
    const now = this.options.clock.now().getTime();
    return this.stopped || !this.options.store.pending().some((d) => this.dueAt(d) <= now);
  }

  /** When a delivery may be attempted: its recorded next attempt, or later if its last outcome was not recorded. */
  private dueAt(d: Delivery): number {
    return Math.max(d.nextAt, this.held.get(d.id)?.until ?? -Infinity);
  }

  private notify(): void {
    if (!this.isSettled()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(all: boolean): void {
    if (this.stopped) return;
    const now = this.options.clock.now().getTime();
    let pending: Delivery[];
    try {
      pending = this.options.store.pending();
    } catch (err) {
      // The database cannot even be read (an I/O error, a lock): look again later.
      writeFailed(this.options.store.db, this.options.log, 'outbox_attempt', err, { reading: 'pending deliveries' });
      this.arm(now + this.readRetryMs);
      this.readRetryMs = Math.min(WRITE_RETRY.maxMs, this.readRetryMs * 2);
      return;
    }
    this.readRetryMs = WRITE_RETRY.firstMs;
    let next = Infinity;
    for (const d of pending) {
      if (this.inFlight.has(d.id)) continue;
      const due = this.dueAt(d);
      if ((all && !this.held.has(d.id)) || due <= now) void this.attempt(d);
      else next = Math.min(next, due);
    }
    this.arm(next);
    this.notify();
  }

  /** Writes an attempt's outcome; if that fails, the delivery is held back (1 s, doubled up to a minute, at least `minDelayMs`) and attempted again. */
  private record(d: Delivery, outcome: string, write: () => void, minDelayMs = 0): boolean {
    try {
      write();
      this.held.delete(d.id);
      return true;
    } catch (err) {
      const failures = (this.held.get(d.id)?.failures ?? 0) + 1;
      const retryInMs = Math.max(minDelayMs, Math.min(WRITE_RETRY.maxMs, WRITE_RETRY.firstMs * 2 ** Math.min(failures - 1, 20)));
      writeFailed(this.options.store.db, this.options.log, 'outbox_attempt', err, { eventId: d.eventId, target: d.target, outcome, retryInMs });
      this.held.set(d.id, { until: this.options.clock.now().getTime() + retryInMs, failures });
      return false;
    }
  }

  private arm(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer !== null) this.options.timers.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.options.timers.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.pump(false);
      },
      Math.max(0, at - this.options.clock.now().getTime()),
    );
  }

  private async attempt(d: Delivery): Promise<void> {
    const { store, clock, log, maxAgeMs } = this.options;
    this.inFlight.add(d.id);
    try {
      if (clock.now().getTime() - d.createdAt > maxAgeMs) {
        if (!this.record(d, 'given up', () => store.givenUp(d.id, clock.now().getTime()))) return;
        this.stats.givenUp++;
        log.error(
          { eventId: d.eventId, target: d.target, attempts: d.attempts, lastError: d.lastError, givenUp: store.givenUpCount() },
          'outbox: delivery given up (older than OUTBOX_MAX_AGE)',
        );
        return;
      }
      this.stats.attempts++;
      let error: string | null;
      try {
        error = await this.options.transport(d.target)(d);
      } catch (err) {
        error = (err as Error)?.message ?? String(err);
      }
      const now = clock.now().getTime();
      if (error === null) {
        if (!this.record(d, 'delivered', () => store.delivered(d.id, now))) return;
        this.stats.delivered++;
        log.info({ eventId: d.eventId, target: d.target, attempts: d.attempts + 1 }, 'outbox: delivered');
      } else {
        const delay = backoffDelay(d.attempts + 1, this.options.backoff ?? DEFAULT_BACKOFF, (this.options.random ?? Math.random)());
        this.stats.failed++;
        if (!this.record(d, 'failed', () => store.failed(d.id, error, now + delay), delay)) return;
        log.warn({ eventId: d.eventId, target: d.target, attempts: d.attempts + 1, retryInMs: delay, err: error }, 'outbox: delivery failed; will retry');
      }
    } finally {
      this.inFlight.delete(d.id);
      // Re-arm for this delivery's next attempt (and anything that fell due meanwhile).
      this.pump(false);
    }
  }
}
