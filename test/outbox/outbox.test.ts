// The outbox on its own: a real SQLite file in a temp folder, fake time,
// transports that answer as told.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { outboxConfigFromEnv, parseDuration } from '../../src/outbox/config.js';
import { openDb, type Db } from '../../src/state/db.js';
import { signedHeaders } from '../../src/outbox/http.js';
import { backoffDelay, OutboxSender, OutboxStore, type Delivery } from '../../src/outbox/outbox.js';
import { ManualClock } from '../helpers/github-timers.js';
import Database from 'better-sqlite3';
import { writeFailures } from '../../src/state/failures.js';
import { TRUNK_SECRET } from '../helpers/landing.js';

let dir: string;
let dbs: Db[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-outbox-'));
});
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): OutboxStore {
  const db = openDb(join(dir, 'nested', 'outbox.sqlite'));
  dbs.push(db);
  return new OutboxStore(db);
}

function sender(store: OutboxStore, clock: ManualClock, answer: (d: Delivery) => string | null, errors: unknown[] = [], maxAgeMs = 3 * 86_400_000) {
  return new OutboxSender({
    store,
    transport: () => async (d) => answer(d),
    clock,
    timers: clock,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    maxAgeMs,
    random: () => 0.5,
    log: { info: () => undefined, warn: () => undefined, error: (o, m) => void errors.push([o, m]) },
  });
}

async function run(s: OutboxSender, clock: ManualClock, ms: number): Promise<void> {
  await s.settled();
  for (let t = 0; t < ms; t += 500) {
    await clock.advance(500);
    await s.settled();
  }
}

describe('backoffDelay', () => {
  test('doubles from the base, is capped, and half of it is jitter', () => {
    const b = { baseMs: 1_000, maxMs: 8_000 };
    expect([1, 2, 3, 4, 5, 30].map((n) => backoffDelay(n, b, 1))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, b, 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffDelay(10_000, b, 0.5)).toBe(6_000); // no overflow for a very old delivery
  });
});

describe('OutboxSender', () => {
  test('retries a failing target with backoff until a 2xx, then never again', async () => {
    const clock = new ManualClock();
    const store = open();
    store.enqueue('evt-1', ['https://a.example/hook'], '{}', clock.now().getTime());
    let failing = 3;
    const times: number[] = [];
    const s = sender(store, clock, () => {
      times.push(clock.now().getTime());
      return failing-- > 0 ? 'HTTP 503' : null;
    });
    s.start();
    await run(s, clock, 30_000);
    const t0 = times[0];
    expect(times.map((t) => t - t0)).toEqual([0, 750, 750 + 1_500, 750 + 1_500 + 3_000]);
    expect(store.all()).toEqual([expect.objectContaining({ eventId: 'evt-1', state: 'delivered', attempts: 4 })]);
  });

  test('each target on its own: a dead one never holds back another', async () => {
    const clock = new ManualClock();
    const store = open();
    store.enqueue('evt-1', ['https://dead.example', 'https://live.example'], '{}', clock.now().getTime());
    store.enqueue('evt-2', ['https://dead.example', 'https://live.example'], '{}', clock.now().getTime());
    const s = sender(store, clock, (d) => (d.target.includes('dead') ? 'ECONNREFUSED' : null));
    s.start();
    await s.settled();
    expect(store.all().map((d) => [d.eventId, d.target.includes('dead') ? 'dead' : 'live', d.state])).toEqual([
      ['evt-1', 'dead', 'pending'],
      ['evt-1', 'live', 'delivered'],
      ['evt-2', 'dead', 'pending'],
      ['evt-2', 'live', 'delivered'],
    ]);
  });

  test('pending deliveries survive a restart and are attempted at once when it starts', async () => {
    const clock = new ManualClock();
    const store = open();
    store.enqueue('evt-1', ['https://a.example'], '{"x":1}', clock.now().getTime());
    const first = sender(store, clock, () => 'HTTP 500');
    first.start();
    await first.settled();
    first.stop();
    dbs[0].close();
    dbs = [];

    const reopened = open();
    expect(reopened.pending()).toEqual([expect.objectContaining({ eventId: 'evt-1', attempts: 1, body: '{"x":1}' })]);
    const seen: string[] = [];
    const second = sender(reopened, clock, (d) => {
      seen.push(d.eventId);
      return null;
    });
    second.start(); // its next attempt was due later: on start it is tried now
    await second.settled();
    expect(seen).toEqual(['evt-1']);
    expect(reopened.all()[0].state).toBe('delivered');
  });

  test('a delivery older than the maximum age is given up, logged at error level, and counted', async () => {
    const clock = new ManualClock();
    const store = open();
    store.enqueue('evt-old', ['https://a.example'], '{}', clock.now().getTime());
    const errors: unknown[] = [];
    const s = sender(store, clock, () => 'HTTP 502', errors, 10_000);
    s.start();
    await run(s, clock, 60_000);
    expect(store.all()[0]).toMatchObject({ state: 'given_up' });
    expect(store.givenUpCount()).toBe(1);
    expect(s.stats.givenUp).toBe(1);
    expect(errors).toEqual([[expect.objectContaining({ eventId: 'evt-old', givenUp: 1 }), expect.stringContaining('given up')]]);
    const attempts = store.all()[0].attempts;
    await run(s, clock, 60_000);
    expect(store.all()[0].attempts).toBe(attempts); // never tried again
  });

  test('an event is enqueued once per target, however often it is enqueued', () => {
    const store = open();
    store.enqueue('evt-1', ['https://a.example'], '{}', 1);
    store.enqueue('evt-1', ['https://a.example'], '{}', 2);
    expect(store.all()).toHaveLength(1);
  });
});

describe('the state database failing under the sender', () => {
  test('an outcome that cannot be written (another process holds the write lock): logged, counted, the delivery held back and sent again later; no rejection escapes', async () => {
    const store = open();
    store.db.pragma('busy_timeout = 20'); // short, for the test (5 s in production)
    const clock = new ManualClock();
    store.enqueue('e1', ['https://a.example/hook'], '{}', clock.now().getTime());
    const other = new Database(join(dir, 'nested', 'outbox.sqlite'));
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    const sent: number[] = [];
    const errors: unknown[] = [];
    const s = new OutboxSender({
      store,
      // A real round trip's worth of asynchrony (the event loop turns between attempts).
      transport: () => async (d) => {
        await new Promise((resolve) => setImmediate(resolve));
        sent.push(d.id);
        return null;
      },
      clock,
      timers: clock,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      maxAgeMs: 86_400_000,
      random: () => 0.5,
      log: { info: () => undefined, warn: () => undefined, error: (o, m) => void errors.push([o, m]) },
    });
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      s.start();
      for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 150)); // real time in which a hot loop would send it again and again
      expect(sent).toEqual([1]);
      expect(errors).toEqual([[expect.objectContaining({ what: 'outbox_attempt', code: 'SQLITE_BUSY', eventId: 'e1', outcome: 'delivered', retryInMs: 1_000 }), expect.stringContaining('could not write outbox attempt')]]);
      expect(writeFailures(store.db).get('outbox_attempt')).toBe(1);
      expect(store.pending()).toHaveLength(1); // not recorded as delivered: it will be sent again

      other.exec('ROLLBACK');
      await clock.advance(1_000);
      for (let i = 0; i < 200 && store.pending().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(sent).toEqual([1, 1]); // again, with the same webhook-id: receivers deduplicate
      expect(store.all()).toEqual([expect.objectContaining({ state: 'delivered', attempts: 1 })]);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      s.stop();
      other.close();
    }
  });
});

describe('signing', () => {
  test('Standard Webhooks headers a receiver verifies; the timestamp is the attempt\'s', () => {
    const at = new Date();
    const headers = signedHeaders(new Webhook(TRUNK_SECRET), { eventId: 'evt-1', body: '{"a":1}' }, at);
    expect(headers['webhook-id']).toBe('evt-1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(new Webhook(TRUNK_SECRET).verify('{"a":1}', headers)).toEqual({ a: 1 });
    expect(() => new Webhook(TRUNK_SECRET).verify('{"a":2}', headers)).toThrow();
  });
});

describe('outboxConfigFromEnv', () => {
  test('defaults', () => {
    expect(outboxConfigFromEnv({})).toEqual({ urls: [], secret: null, path: '.merge-gate/outbox.sqlite', maxAgeMs: 3 * 86_400_000, backoff: { baseMs: 1_000, maxMs: 600_000 } });
  });

  test('URLs, secret, path and age', () => {
    const config = outboxConfigFromEnv({
      TRUNK_WEBHOOK_URL: ' https://a.example/hook , http://127.0.0.1:8787/hooks/trunk-updated ',
      TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
      OUTBOX_PATH: '/var/lib/merge-gate/outbox.sqlite',
      OUTBOX_MAX_AGE: '36h',
    });
    expect(config).toMatchObject({ urls: ['https://a.example/hook', 'http://127.0.0.1:8787/hooks/trunk-updated'], secret: TRUNK_SECRET, path: '/var/lib/merge-gate/outbox.sqlite', maxAgeMs: 36 * 3600_000 });
  });

  test.each([
    [{ TRUNK_WEBHOOK_URL: 'https://a.example' }, /TRUNK_WEBHOOK_SECRET is not/],
    [{ TRUNK_WEBHOOK_URL: 'not a url', TRUNK_WEBHOOK_SECRET: TRUNK_SECRET }, /not a URL/],
    [{ TRUNK_WEBHOOK_URL: 'ftp://a.example', TRUNK_WEBHOOK_SECRET: TRUNK_SECRET }, /not an http/],
    [{ TRUNK_WEBHOOK_SECRET: 'hunter2' }, /whsec_/],
    [{ OUTBOX_MAX_AGE: 'soon' }, /OUTBOX_MAX_AGE/],
    [{ OUTBOX_MAX_AGE: '0d' }, /OUTBOX_MAX_AGE/],
  ])('refuses %j', (env, message) => {
    expect(() => outboxConfigFromEnv(env)).toThrow(message);
  });

  // A timer past 2^31-1 ms fires after 1 ms: unbounded, OUTBOX_MAX_AGE or MERGE_SETTLE makes a busy loop.
  test.each([
    ['OUTBOX_MAX_AGE', '59s', '21d', '1m', '20d', 60_000, 1_728_000_000],
    ['MERGE_SETTLE', '0.5s', '61m', '1s', '1h', 1000, 3_600_000],
  ])('%s: refuses below %s and above %s with its bounds; accepts %s and %s', (name, below, above, min, max, minMs, maxMs) => {
    for (const value of [below, above]) expect(() => parseDuration(value, name)).toThrow(`${name} must be a duration from ${min} to ${max}, got "${value}"`);
    expect([parseDuration(min, name), parseDuration(max, name)]).toEqual([minMs, maxMs]);
    if (name === 'OUTBOX_MAX_AGE') expect(() => outboxConfigFromEnv({ OUTBOX_MAX_AGE: '30d' })).toThrow('OUTBOX_MAX_AGE must be a duration from 1m to 20d, got "30d"');
  });

  test('durations', () => {
    expect(['3d', '3 days', '72h', '90m', '3600', '500ms'].map((d) => parseDuration(d, 'X'))).toEqual([259_200_000, 259_200_000, 259_200_000, 5_400_000, 3_600_000, 500]);
  });
});
