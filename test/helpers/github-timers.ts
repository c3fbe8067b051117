// Jest fake timers for the app: timers and Date are faked, while nextTick,
// setImmediate and queueMicrotask stay real so nock and fetch keep working.
import { jest } from '@jest/globals';
import type { TestApp } from './github-app.js';

export function useAppFakeTimers(now: string | Date = '2026-11-22T10:00:00Z'): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: new Date(now) });
}

/**
 * Let time pass in steps of the coalescing delay until the queue is empty (or
 * `maxMs` has passed), waiting for running evaluations between steps.
 */
export async function drain(app: TestApp, maxMs = 60_000): Promise<void> {
  const step = Math.max(1, app.config.coalesceMs);
  await app.gate.queue.settled();
  for (let waited = 0; app.gate.queue.size > 0 && waited <= maxMs; waited += step) {
    await jest.advanceTimersByTimeAsync(step);
    await app.gate.queue.settled();
  }
}
