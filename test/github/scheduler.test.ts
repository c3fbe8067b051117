// Time-driven re-evaluation timers, with jest's fake timers.
import { afterEach, beforeEach, expect, jest, test } from '@jest/globals';
import { TimeScheduler } from '../../src/github/scheduler.js';
import { systemClock, systemTimers } from '../../src/clock.js';

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-18T11:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

function scheduler() {
  const fired: Array<{ key: string; at: string }> = [];
  const s = new TimeScheduler({ timers: systemTimers, clock: systemClock }, (key) => fired.push({ key, at: new Date().toISOString() }));
  return { s, fired };
}

test('fires at the instant, not before', async () => {
  const { s, fired } = scheduler();
  s.schedule('pr#1', '2026-12-18T12:00:00.000Z');
  expect(s.due('pr#1')?.toISOString()).toBe('2026-12-18T12:00:00.000Z');
  await jest.advanceTimersByTimeAsync(60 * 60_000 - 1);
  expect(fired).toEqual([]);
  await jest.advanceTimersByTimeAsync(1);
  expect(fired).toEqual([{ key: 'pr#1', at: '2026-12-18T12:00:00.000Z' }]);
  expect(s.size).toBe(0);
});

test('a newer verdict replaces the timer; null clears it', async () => {
  const { s, fired } = scheduler();
  s.schedule('pr#1', '2026-12-18T12:00:00Z');
  s.schedule('pr#1', '2026-12-18T13:00:00Z');
  s.schedule('pr#2', '2026-12-18T11:30:00Z');
  s.schedule('pr#2', null);
  await jest.advanceTimersByTimeAsync(3 * 60 * 60_000);
  expect(fired).toEqual([{ key: 'pr#1', at: '2026-12-18T13:00:00.000Z' }]);
});

test('an instant in the past fires at once', async () => {
  const { s, fired } = scheduler();
  s.schedule('pr#1', '2026-12-01T00:00:00Z');
  await jest.advanceTimersByTimeAsync(0);
  expect(fired.map((f) => f.key)).toEqual(['pr#1']);
});

test('waits longer than setTimeout allows (~24.8 days) are chained', async () => {
  const { s, fired } = scheduler();
  s.schedule('pr#1', '2027-03-01T00:00:00Z'); // 72 days away
  await jest.advanceTimersByTimeAsync(71 * 24 * 3600_000);
  expect(fired).toEqual([]);
  await jest.advanceTimersByTimeAsync(2 * 24 * 3600_000);
  expect(fired).toEqual([{ key: 'pr#1', at: '2027-03-01T00:00:00.000Z' }]);
});

test('scheduleEarliest keeps a sooner instant, and replaces a later one', async () => {
  const { s, fired } = scheduler();
  s.schedule('pr#1', '2026-12-18T11:02:00Z'); // a freeze boundary in two minutes
  s.scheduleEarliest('pr#1', new Date('2026-12-18T11:05:00Z')); // a retry in five: the boundary stays
  expect(s.due('pr#1')?.toISOString()).toBe('2026-12-18T11:02:00.000Z');
  s.schedule('pr#2', '2026-12-19T00:00:00Z');
  s.scheduleEarliest('pr#2', new Date('2026-12-18T11:05:00Z'));
  s.scheduleEarliest('pr#3', new Date('2026-12-18T11:05:00Z'));
  await jest.advanceTimersByTimeAsync(24 * 3600_000);
  expect(fired).toEqual([
    { key: 'pr#1', at: '2026-12-18T11:02:00.000Z' },
    { key: 'pr#2', at: '2026-12-18T11:05:00.000Z' },
    { key: 'pr#3', at: '2026-12-18T11:05:00.000Z' },
  ]);
});

test('stop clears every timer', async () => {
  const { s, fired } = scheduler();
  s.schedule('a', '2026-12-18T12:00:00Z');
  s.schedule('b', '2026-12-18T12:00:00Z');
  s.stop();
  await jest.advanceTimersByTimeAsync(24 * 3600_000);
  expect(fired).toEqual([]);
  expect(jest.getTimerCount()).toBe(0);
});
