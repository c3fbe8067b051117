// Fake time for the app. The app takes its clock and timers by injection
// (AppConfig.clock / .timers); tests hand it this manual clock, so time only
// moves when a test says so, while Probot, fetch and nock keep the process's
// real timers (faking those globally stalls the HTTP stack).
import type { Clock, TimerHandle, Timers } from '../../src/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock, Timers {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private armedWaiters: Array<() => void> = [];

  constructor(start: string | Date = '2026-11-22T10:00:00Z') {
    this.t = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    const waiters = this.armedWaiters;
    this.armedWaiters = [];
    for (const resolve of waiters) resolve();
    return id;
  }

  /** Resolves once a timer is armed (at once when one already is): waits on the code under test, not on the event loop. */
  armed(): Promise<void> {
    if (this.pending.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.armedWaiters.push(resolve));
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** The instant (ms) of the next timer armed, or null when none is. */
  nextAt(): number | null {
    let at: number | null = null;
    for (const p of this.pending.values()) if (at === null || p.at < at) at = p.at;
    return at;
  }

  /** Timers armed and not yet fired. */
  get timerCount(): number {
    return this.pending.size;
  }

  /** Jump to an instant without firing anything (like jest.setSystemTime). */
  set(at: string | Date): void {
    this.t = new Date(at).getTime();
  }

  /**
   * Move time forward by `ms`, firing due timers in order of their instant;
   * `between` is awaited after each one (e.g. until the evaluations it started are done).
   */
  async advance(ms: number, between: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, Pending] | null = null;
      for (const entry of this.pending) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      }
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await between();
    }
    this.t = end;
    await between();
  }
}
