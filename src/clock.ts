// The clock and timers every time-driven part of the app uses: injected, so
// tests replace them and no decision reads the machine's time by itself.

/** The wall clock. Injected everywhere a decision depends on "now". */
export interface Clock {
  now(): Date;
}

export type TimerHandle = unknown;

/** setTimeout / clearTimeout, injectable so tests drive time with fake timers. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = { now: () => new Date() };

/** Looks the globals up at call time, so `jest.useFakeTimers()` applies even after construction. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // Timers must never keep a process alive on their own (tests, `probot run` shutdown).
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
