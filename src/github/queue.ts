// A keyed work queue: one key per pull request (or per repository / head SHA
// lookup). For one key, jobs never overlap and bursts coalesce. Leading edge,
// for the keys enqueued with it (pull requests): the first event of a quiet
// key runs at once — the key has not run within the last `delayMs`, and the
// queue is quiet: at most one other key is waiting, running, or ran within the
// last `delayMs` (in a storm, new keys coalesce too). Otherwise a trailing
// debounce: each event replaces the job and moves its run to `delayMs` after
// itself, but never later than `maxWaitMs` after the first event of the burst;
// the newest job then runs once. An event that finds its key's run due already
// joins it. Events that arrive while the job runs mark it dirty, and it runs
// once more, `delayMs` after (the trailing edge, which later events join). A
// job may give back its slot (`release`) while it waits on something other
// than work — a paced write — so that other keys' evaluations are not held up;
// the key stays exclusive. Failures that may go away (5xx, rate limits,
// network) are retried with bounded exponential backoff, honouring GitHub's
// retry-after; when a key's job is given up, `onGiveUp` runs in its place
// (still exclusive for the key). Time comes from injected timers.
import { classifyError } from './errors.js';
import type { Clock, TimerHandle, Timers } from '../clock.js';
import type { RetryConfig } from './config.js';

/** `release()` frees the job's concurrency slot for the rest of its run (the key stays exclusive). */
export type Job = (release: () => void) => Promise<void>;

/**
 * The queue is quiet while fewer keys than this are waiting, running, or ran
 * within the delay: a key's first event then runs at once. In a storm every
 * such leading run costs one run more (the events that follow it coalesce into
 * another), so only the first key or two of a storm get one.
 */
const QUIET_KEYS = 2;

export interface QueueOptions {
  /** Coalescing delay: the quiet time after a key's last event before its job runs (unless enqueued 'leading' and quiet: then at once). */
  delayMs: number;
  /** A key's job runs at the latest this long after the first event of a burst (however busy the key stays). */
  maxWaitMs?: number;
  /** Jobs running at once, over all keys. */
  concurrency: number;
  retry: RetryConfig;
  timers: Timers;
  clock: Clock;
  /** Told about every failure: whether it will be retried, and when. */
  onError?: (key: string, error: unknown, info: { attempt: number; retryInMs: number | null }) => void;
  /**
   * Awaited when a job is given up (not retryable, or out of attempts), while
   * the key still counts as running: nothing else of the key overlaps it. Its
   * own errors are swallowed (it is the last resort). Not called for a key
   * cancelled meanwhile, nor after stop().
   */
  onGiveUp?: (key: string, error: unknown) => Promise<void>;
}

export interface QueueStats {
  /** enqueue() calls. */
  enqueued: number;
  /** Job runs, retries included. */
  runs: number;
  retries: number;
  /** Jobs given up after the last attempt, or not retryable. */
  failures: number;
}

interface Entry {
  job: Job;
  timer: TimerHandle | null;
  /** The pending timer's instant, and whether it is a coalescing one (a retry's backoff is not moved by events). */
  dueAt: number;
  coalescing: boolean;
  /** First event of the burst being coalesced: the run is due by firstAt + maxWaitMs. */
  firstAt: number;
  ready: boolean;
  running: boolean;
  dirty: boolean;
  /** Cancelled while running: it finishes, and is neither retried nor given up. */
  cancelled: boolean;
  /** Failed attempts so far for the current job. */
  failures: number;
}

export class KeyedQueue {
  readonly stats: QueueStats = { enqueued: 0, runs: 0, retries: 0, failures: 0 };
  private readonly entries = new Map<string, Entry>();
  /** Keys without an entry whose last run ended within `delayMs`, by when it ended (oldest first). */
  private readonly recent = new Map<string, number>();
  private readonly readyKeys: string[] = [];
  /** Jobs holding a concurrency slot. */
  private running = 0;
  /** Jobs running, slot or not. */
  private active = 0;
  private waiters: Array<() => void> = [];
  private runWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: QueueOptions) {}

  /**
   * Run `job` for `key` after `delayMs` (the coalescing delay by default),
   * unless a run of `key` is already due; 'leading': at once if the key and the
   * queue are quiet (the leading edge), else after the coalescing delay.
   */
  enqueue(key: string, job: Job, when: number | 'leading' = this.options.delayMs): void {
    if (this.stopped) return;
    this.stats.enqueued++;
    const entry = this.entries.get(key);
    const now = this.options.clock.now().getTime();
    if (!entry) {
      const fresh: Entry = { job, timer: null, dueAt: 0, coalescing: true, firstAt: now, ready: false, running: false, dirty: false, cancelled: false, failures: 0 };
      const delayMs = when !== 'leading' ? when : this.quiet(key, now) ? 0 : this.options.delayMs;
      this.recent.delete(key);
      this.entries.set(key, fresh);
      this.arm(key, fresh, delayMs, true);
      return;
    }
    entry.job = job; // the newest state wins
    if (entry.running) {
      entry.dirty = true;
      entry.cancelled = false; // asked for again (reopened): it runs once more after all
      return;
    }
    // Trailing debounce: a coalescing timer moves to `delayMs` after this event, capped by the burst's maximum wait.
    // (A retry's backoff stays; a place in line is already there. A run due already — a leading edge — is joined.)
    if (entry.timer !== null && entry.coalescing && entry.dueAt > now) {
      const delayMs = when === 'leading' ? this.options.delayMs : when;
      const due = Math.min(now + Math.max(0, delayMs), entry.firstAt + (this.options.maxWaitMs ?? Infinity));
      if (due !== entry.dueAt) {
        this.options.timers.clearTimeout(entry.timer);
        this.arm(key, entry, due - now, true);
      }
    }
  }

  /** Forget `key`: a pending run is dropped; a running one finishes but does not run again. */
  cancel(key: string): void {
    this.recent.delete(key);
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.timer !== null) this.options.timers.clearTimeout(entry.timer);
    entry.timer = null;
    entry.dirty = false;
    entry.cancelled = entry.running;
    if (entry.ready) {
      entry.ready = false;
      this.readyKeys.splice(this.readyKeys.indexOf(key), 1);
    }
    if (!entry.running) this.entries.delete(key);
    this.settle();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Resolves when nothing is due, waiting or running (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when no job is running or waiting for a slot (armed timers aside). */
  settled(): Promise<void> {
    if (this.active === 0 && this.readyKeys.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.runWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.entries.keys()]) this.cancel(key);
    this.recent.clear();
  }

  /** Whether `key`'s first event may run at once: it has not run within `delayMs`, and the queue is quiet (see the top). */
  private quiet(key: string, now: number): boolean {
    for (const [k, endedAt] of this.recent) {
      if (endedAt + this.options.delayMs > now) break;
      this.recent.delete(k);
    }
    return !this.recent.has(key) && this.entries.size + this.recent.size < QUIET_KEYS;
  }

  private arm(key: string, entry: Entry, delayMs: number, coalescing: boolean): void {
    const now = this.options.clock.now().getTime();
    entry.coalescing = coalescing;
    entry.dueAt = now + Math.max(0, delayMs);
    entry.timer = this.options.timers.setTimeout(() => {
      entry.timer = null;
      entry.ready = true;
      this.readyKeys.push(key);
      this.pump();
    }, Math.max(0, delayMs));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.readyKeys.length > 0) {
      const key = this.readyKeys.shift()!;
      const entry = this.entries.get(key)!;
      entry.ready = false;
      void this.run(key, entry);
    }
  }

  private async run(key: string, entry: Entry): Promise<void> {
    this.running++;
    this.active++;
    let holdsSlot = true;
    const release = () => {
      if (!holdsSlot) return;
      holdsSlot = false;
      this.running--;
      this.pump();
    };
    this.stats.runs++;
    entry.running = true;
    entry.dirty = false;
    // Still wanted: not cancelled (a closed pull request), not stopped.
    const live = () => !this.stopped && !entry.cancelled && this.entries.get(key) === entry;
    let retryIn: number | null = null;
    try {
      await entry.job(release);
      entry.failures = 0;
    } catch (error) {
      const now = this.options.clock.now();
      const cls = classifyError(error, now);
      const attempt = ++entry.failures;
      const { attempts, baseDelayMs, maxDelayMs } = this.options.retry;
      if (cls.retryable && entry.failures < attempts && live()) {
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (entry.failures - 1));
        retryIn = Math.max(backoff, cls.retryAfterMs ?? 0);
        this.stats.retries++;
      } else {
        this.stats.failures++;
        entry.failures = 0;
      }
      this.options.onError?.(key, error, { attempt, retryInMs: retryIn });
      if (retryIn === null && this.options.onGiveUp && live()) {
        try {
          await this.options.onGiveUp(key, error);
        } catch {
          // The last resort failed too; whoever gave it work has planned for that.
        }
      }
    } finally {
      entry.running = false;
      if (holdsSlot) this.running--;
      this.active--;
      const current = live();
      if (current && retryIn !== null) {
        this.arm(key, entry, retryIn, false);
      } else if (current && entry.dirty) {
        entry.dirty = false;
        entry.firstAt = this.options.clock.now().getTime();
        this.arm(key, entry, this.options.delayMs, true);
      } else if (this.entries.get(key) === entry) {
        this.entries.delete(key);
        // Its next event within `delayMs` is a trailing edge: it waits the window.
        if (!this.stopped && !entry.cancelled) this.recent.set(key, this.options.clock.now().getTime());
      }
      this.pump();
      this.settle();
    }
  }

  private settle(): void {
    if (this.active === 0 && this.readyKeys.length === 0) {
      const runWaiters = this.runWaiters;
      this.runWaiters = [];
      for (const resolve of runWaiters) resolve();
    }
    if (this.entries.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
