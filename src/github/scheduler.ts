// Time-driven re-evaluation: a verdict that time alone will change (a freeze
// ending, or beginning) gets a timer for that instant, so the pull request is
// re-evaluated with no event from GitHub. One timer per pull request; a newer
// verdict replaces it. A timer is spent when it fires; if the evaluation it
// starts fails for good, the gate arms a retry here (scheduleEarliest), so the
// boundary is not lost. Timers and clock are injected.
import type { Clock, TimerHandle, Timers } from '../clock.js';

/** setTimeout's ceiling (~24.8 days); longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export class TimeScheduler {
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();

  constructor(
    private readonly deps: { timers: Timers; clock: Clock },
    private readonly fire: (key: string) => void,
  ) {}

  /** Re-evaluate `key` at `at` (ISO 8601 or Date); null clears. A past instant fires at once. */
  schedule(key: string, at: string | Date | null): void {
    this.clear(key);
    if (at === null) return;
    const when = typeof at === 'string' ? Date.parse(at) : at.getTime();
    if (Number.isNaN(when)) return;
    this.arm(key, when);
  }

  /** Re-evaluate `key` at `at`, unless it is due sooner already (a freeze boundary is never pushed back). */
  scheduleEarliest(key: string, at: Date): void {
    const timer = this.timers.get(key);
    if (timer && timer.at <= at.getTime()) return;
    this.schedule(key, at);
  }

  clear(key: string): void {
    const timer = this.timers.get(key);
    if (!timer) return;
    this.deps.timers.clearTimeout(timer.handle);
    this.timers.delete(key);
  }

  /** When `key` is due, if it is scheduled. */
  due(key: string): Date | null {
    const timer = this.timers.get(key);
    return timer ? new Date(timer.at) : null;
  }

  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const key of [...this.timers.keys()]) this.clear(key);
  }

  private arm(key: string, when: number): void {
    const delay = Math.max(0, when - this.deps.clock.now().getTime());
    const handle = this.deps.timers.setTimeout(() => {
      if (this.timers.get(key)?.handle !== handle) return;
      if (delay > MAX_DELAY || when > this.deps.clock.now().getTime()) {
        this.arm(key, when); // a chained long wait, or a timer that fired early
        return;
      }
      this.timers.delete(key);
      this.fire(key);
    }, Math.min(delay, MAX_DELAY));
    this.timers.set(key, { at: when, handle });
  }
}
