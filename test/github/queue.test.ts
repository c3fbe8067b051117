// The keyed queue on its own, with jest's fake timers.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { KeyedQueue, type QueueOptions } from '../../src/github/queue.js';
import { systemClock, systemTimers } from '../../src/clock.js';
import { StaleReadError } from '../../src/github/errors.js';

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-22T10:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

function queue(options: Partial<QueueOptions> = {}): KeyedQueue {
  return new KeyedQueue({
    delayMs: 1000,
    concurrency: 4,
    retry: { attempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
    // The app's real timers and clock: they look the globals up when called, so jest's fakes apply.
    timers: systemTimers,
    clock: systemClock,
    ...options,
  });
}

/** A job that records its runs and can be held open. */
function recorder() {
  const runs: Array<{ label: string; at: number }> = [];
  let release: (() => void) | null = null;
  let hold = false;
  const job = (label: string) => async () => {
    runs.push({ label, at: Date.now() });
    if (hold) await new Promise<void>((r) => (release = r));
  };
  return {
    runs,
    job,
    hold: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe('coalescing', () => {
  test('twenty enqueues within a second run once, the newest job, the delay after the last one (trailing debounce)', async () => {
    const q = queue();
    const r = recorder();
    for (let i = 0; i < 20; i++) {
      q.enqueue('pr#1', r.job(`event ${i}`));
      await jest.advanceTimersByTimeAsync(45);
    }
    // The last event came at 855 ms: its run is due at 1,855 ms.
    await jest.advanceTimersByTimeAsync(900);
    expect(r.runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(100);
    expect(r.runs.map((x) => x.label)).toEqual(['event 19']);
    expect(r.runs[0].at - Date.parse('2026-11-22T10:00:00Z')).toBe(1855);
    await q.idle();
    expect(q.stats).toEqual({ enqueued: 20, runs: 1, retries: 0, failures: 0 });
  });

  test('a steady stream cannot starve the pull request: it runs at the latest maxWaitMs after the first event of a burst', async () => {
    const q = queue({ maxWaitMs: 2000 });
    const r = recorder();
    const start = Date.now();
    for (let i = 0; i < 50; i++) {
      q.enqueue('pr#1', r.job(`event ${i}`));
      await jest.advanceTimersByTimeAsync(100);
    }
    // Bursts start at 0 and at 2,000 ms (the first event after the run): runs at 2,000 and 4,000 ms.
    expect(r.runs.map((x) => x.at - start)).toEqual([2000, 4000]);
    await jest.advanceTimersByTimeAsync(1000);
    // And the final state, the delay after the last event (4,900 ms).
    expect(r.runs.map((x) => x.at - start)).toEqual([2000, 4000, 5900]);
    expect(r.runs.at(-1)!.label).toBe('event 49');
  });

  test('a shorter delay asked for later brings the run forward (a time-driven re-evaluation is not pushed back)', async () => {
    const q = queue();
    const r = recorder();
    const start = Date.now();
    q.enqueue('pr#1', r.job('event'));
    await jest.advanceTimersByTimeAsync(100);
    q.enqueue('pr#1', r.job('now'), 0);
    await jest.advanceTimersByTimeAsync(0);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([['now', 100]]);
  });

  test('a job that releases its slot lets other keys run meanwhile, and its own key stays exclusive', async () => {
    const q = queue({ concurrency: 1, delayMs: 0 });
    const log: string[] = [];
    let finishWrite!: () => void;
    q.enqueue('pr#1', async (release) => {
      log.push('pr#1 read');
      release(); // waiting on a paced write from here on
      await new Promise<void>((r) => (finishWrite = r));
      log.push('pr#1 wrote');
    });
    await jest.advanceTimersByTimeAsync(0);
    q.enqueue('pr#2', async () => void log.push('pr#2 evaluated'));
    q.enqueue('pr#1', async () => void log.push('pr#1 again'));
    await jest.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['pr#1 read', 'pr#2 evaluated']); // pr#1's second run waits for its first
    let settled = false;
    void q.settled().then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false); // a released job is still running
    finishWrite();
    await jest.advanceTimersByTimeAsync(0);
    await q.idle();
    expect(log).toEqual(['pr#1 read', 'pr#2 evaluated', 'pr#1 wrote', 'pr#1 again']);
  });

  test('keys are independent', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('pr#1', r.job('a'));
    q.enqueue('pr#2', r.job('b'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(r.runs.map((x) => x.label).sort()).toEqual(['a', 'b']);
  });
});

describe('leading edge (pull requests: enqueued \'leading\')', () => {
  test('the first event of a quiet key runs at once', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('pr#1', r.job('opened'), 'leading');
    await jest.advanceTimersByTimeAsync(0);
    expect(r.runs).toEqual([{ label: 'opened', at: Date.parse('2026-11-22T10:00:00Z') }]);
    await q.idle();
    expect(q.stats).toEqual({ enqueued: 1, runs: 1, retries: 0, failures: 0 });
  });

  test('an event that finds the leading run not started yet joins it: one run, the newest job', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('pr#1', r.job('opened'), 'leading');
    q.enqueue('pr#1', r.job('labeled'), 'leading');
    await jest.advanceTimersByTimeAsync(0);
    expect(r.runs.map((x) => x.label)).toEqual(['labeled']);
    await jest.advanceTimersByTimeAsync(5000);
    expect(r.runs).toHaveLength(1);
  });

  test('trailing edge: events during the leading run and soon after it give exactly one more run, the delay after the last', async () => {
    const q = queue();
    const r = recorder();
    const start = Date.now();
    r.hold();
    q.enqueue('pr#1', r.job('opened'), 'leading');
    await jest.advanceTimersByTimeAsync(0); // at once
    q.enqueue('pr#1', r.job('labeled'), 'leading');
    await jest.advanceTimersByTimeAsync(300);
    r.release(); // the leading run ends at 300 ms
    await jest.advanceTimersByTimeAsync(500);
    q.enqueue('pr#1', r.job('review'), 'leading'); // soon after: joins the trailing run, which moves to 1,800 ms
    await jest.advanceTimersByTimeAsync(999);
    expect(r.runs.map((x) => x.label)).toEqual(['opened']);
    await jest.advanceTimersByTimeAsync(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([
      ['opened', 0],
      ['review', 1800],
    ]);
    expect(q.stats.runs).toBe(2);
  });

  test('after a run, the key’s events within the delay coalesce: one more run, the newest job, the delay after the last one', async () => {
    const q = queue();
    const r = recorder();
    const start = Date.now();
    for (let i = 0; i < 20; i++) {
      q.enqueue('pr#1', r.job(`event ${i}`), 'leading');
      await jest.advanceTimersByTimeAsync(45);
    }
    // The first ran at once; the last came at 855 ms: the run of the other nineteen is due at 1,855 ms.
    await jest.advanceTimersByTimeAsync(900);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([['event 0', 0]]);
    await jest.advanceTimersByTimeAsync(100);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([
      ['event 0', 0],
      ['event 19', 1855],
    ]);
    await q.idle();
    expect(q.stats).toEqual({ enqueued: 20, runs: 2, retries: 0, failures: 0 });
  });

  test('once the delay has passed since its last run, a key is quiet again: its next event runs at once', async () => {
    const q = queue();
    const r = recorder();
    const start = Date.now();
    q.enqueue('pr#1', r.job('a'), 'leading');
    await jest.advanceTimersByTimeAsync(1000);
    q.enqueue('pr#1', r.job('b'), 'leading');
    await jest.advanceTimersByTimeAsync(0);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([
      ['a', 0],
      ['b', 1000],
    ]);
  });

  test('in a storm (two keys or more waiting, running or run within the delay), a new key waits the delay too; quiet again after it', async () => {
    const q = queue();
    const r = recorder();
    const start = Date.now();
    q.enqueue('pr#1', r.job('1'), 'leading');
    await jest.advanceTimersByTimeAsync(10);
    q.enqueue('pr#2', r.job('2'), 'leading'); // one key just ran: still quiet
    await jest.advanceTimersByTimeAsync(10);
    q.enqueue('pr#3', r.job('3'), 'leading'); // two ran within the delay: busy
    q.enqueue('pr#4', r.job('4'), 'leading');
    await jest.advanceTimersByTimeAsync(2000);
    q.enqueue('pr#5', r.job('5'), 'leading'); // everything ran more than the delay ago
    await jest.advanceTimersByTimeAsync(0);
    expect(r.runs.map((x) => [x.label, x.at - start])).toEqual([
      ['1', 0],
      ['2', 10],
      ['3', 1020],
      ['4', 1020],
      ['5', 2020],
    ]);
  });

  test('the cap holds: a steady stream after a leading run still runs at the latest maxWaitMs after the first event of each burst', async () => {
    const q = queue({ maxWaitMs: 2000 });
    const r = recorder();
    const start = Date.now();
    for (let i = 0; i < 50; i++) {
      q.enqueue('pr#1', r.job(`event ${i}`), 'leading');
      await jest.advanceTimersByTimeAsync(100);
    }
    // The first event runs at once; bursts then start at 100 ms and at 2,100 ms (the first event after a run).
    expect(r.runs.map((x) => x.at - start)).toEqual([0, 2100, 4100]);
    await jest.advanceTimersByTimeAsync(1000);
    // And the final state, the delay after the last event (4,900 ms).
    expect(r.runs.map((x) => x.at - start)).toEqual([0, 2100, 4100, 5900]);
    expect(r.runs.at(-1)!.label).toBe('event 49');
  });

  test('keys enqueued without it keep the trailing debounce, even on a quiet queue', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('repo', r.job('scan'));
    await jest.advanceTimersByTimeAsync(999);
    expect(r.runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(r.runs.map((x) => x.label)).toEqual(['scan']);
  });
});

describe('no overlap', () => {
  test('events while a job runs give exactly one more run, after it, of the newest job', async () => {
    const q = queue();
    const r = recorder();
    r.hold();
    q.enqueue('pr#1', r.job('first'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(r.runs.map((x) => x.label)).toEqual(['first']);
    for (let i = 0; i < 5; i++) q.enqueue('pr#1', r.job(`during ${i}`));
    await jest.advanceTimersByTimeAsync(5000);
    expect(r.runs).toHaveLength(1); // still held: nothing overlaps
    r.release();
    await jest.advanceTimersByTimeAsync(1000);
    expect(r.runs.map((x) => x.label)).toEqual(['first', 'during 4']);
    await q.idle();
    expect(q.size).toBe(0);
  });

  test('concurrency bounds jobs over all keys', async () => {
    const q = queue({ concurrency: 2 });
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    for (let i = 0; i < 5; i++) {
      q.enqueue(`pr#${i}`, async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
      });
    }
    await jest.advanceTimersByTimeAsync(1000);
    expect(running).toBe(2);
    while (releases.length) {
      releases.shift()!();
      await jest.advanceTimersByTimeAsync(0);
    }
    await q.idle();
    expect(most).toBe(2);
    expect(q.stats.runs).toBe(5);
  });
});

describe('retries', () => {
  const httpError = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${status}`), { status, response: { headers } });

  test('a 502 is retried with exponential backoff, bounded', async () => {
    const errors: Array<{ attempt: number; retryInMs: number | null }> = [];
    const q = queue({ onError: (_k, _e, info) => errors.push(info) });
    const at: number[] = [];
    q.enqueue('pr#1', async () => {
      at.push(Date.now());
      throw httpError(502);
    });
    await jest.advanceTimersByTimeAsync(60_000);
    await q.idle();
    const start = Date.parse('2026-11-22T10:00:00Z');
    expect(at.map((t) => t - start)).toEqual([1000, 2000, 4000]); // delay, +1 s, +2 s
    expect(errors).toEqual([
      { attempt: 1, retryInMs: 1000 },
      { attempt: 2, retryInMs: 2000 },
      { attempt: 3, retryInMs: null },
    ]);
    expect(q.stats).toMatchObject({ runs: 3, retries: 2, failures: 1 });
  });

  test('retry-after from GitHub is honoured when longer than the backoff', async () => {
    const q = queue();
    const at: number[] = [];
    let calls = 0;
    q.enqueue('pr#1', async () => {
      at.push(Date.now());
      if (++calls === 1) throw httpError(429, { 'retry-after': '60' });
    });
    await jest.advanceTimersByTimeAsync(120_000);
    expect(at[1] - at[0]).toBe(60_000);
  });

  test('a stale read is retried; a 404 is not', async () => {
    const q = queue();
    let stale = 0;
    let missing = 0;
    q.enqueue('a', async () => {
      if (++stale === 1) throw new StaleReadError('moved');
    });
    q.enqueue('b', async () => {
      missing++;
      throw httpError(404);
    });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(stale).toBe(2);
    expect(missing).toBe(1);
  });

  test('an event during the backoff does not cut it short', async () => {
    const q = queue();
    const at: number[] = [];
    q.enqueue('pr#1', async () => {
      at.push(Date.now());
      throw httpError(500);
    });
    await jest.advanceTimersByTimeAsync(1000);
    q.enqueue('pr#1', async () => void at.push(Date.now()));
    await jest.advanceTimersByTimeAsync(999);
    expect(at).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(at).toHaveLength(2);
  });
});

describe('giving up', () => {
  const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status, response: { headers: {} } });

  test('onGiveUp runs once, after the last attempt, with the error', async () => {
    const gaveUp: Array<{ key: string; error: unknown; at: number }> = [];
    const q = queue({ onGiveUp: async (key, error) => void gaveUp.push({ key, error, at: Date.now() }) });
    let runs = 0;
    q.enqueue('pr#1', async () => {
      runs++;
      throw httpError(502);
    });
    await jest.advanceTimersByTimeAsync(60_000);
    await q.idle();
    expect(runs).toBe(3);
    expect(gaveUp).toEqual([{ key: 'pr#1', error: expect.objectContaining({ status: 502 }), at: Date.parse('2026-11-22T10:00:04Z') }]);
  });

  test('an error that is not retryable is given up at once', async () => {
    const gaveUp: string[] = [];
    const q = queue({ onGiveUp: async (key) => void gaveUp.push(key) });
    q.enqueue('pr#1', async () => {
      throw httpError(404);
    });
    await jest.advanceTimersByTimeAsync(1000);
    expect(gaveUp).toEqual(['pr#1']);
    expect(q.stats).toMatchObject({ runs: 1, retries: 0, failures: 1 });
  });

  test('onGiveUp holds the key: an event meanwhile runs after it, once', async () => {
    const log: string[] = [];
    let release: () => void = () => undefined;
    const q = queue({
      retry: { attempts: 1, baseDelayMs: 1000, maxDelayMs: 1000 },
      onGiveUp: async () => {
        log.push('give-up start');
        await new Promise<void>((r) => (release = r));
        log.push('give-up end');
      },
    });
    q.enqueue('pr#1', async () => {
      log.push('job 1');
      throw httpError(502);
    });
    await jest.advanceTimersByTimeAsync(1000);
    q.enqueue('pr#1', async () => void log.push('job 2'));
    await jest.advanceTimersByTimeAsync(5000);
    expect(log).toEqual(['job 1', 'give-up start']);
    release();
    await jest.advanceTimersByTimeAsync(1000);
    expect(log).toEqual(['job 1', 'give-up start', 'give-up end', 'job 2']);
  });

  test('a failing onGiveUp is swallowed; a key cancelled during its job is not given up', async () => {
    const gaveUp: string[] = [];
    const q = queue({
      onGiveUp: async (key) => {
        gaveUp.push(key);
        throw new Error('the last resort failed too');
      },
    });
    q.enqueue('a', async () => {
      throw httpError(404);
    });
    q.enqueue('b', async () => {
      q.cancel('b');
      throw httpError(404);
    });
    await jest.advanceTimersByTimeAsync(1000);
    await q.idle();
    expect(gaveUp).toEqual(['a']);
    expect(q.size).toBe(0);
  });
});

describe('cancel and stop', () => {
  test('cancel drops a pending run', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('pr#1', r.job('x'));
    q.cancel('pr#1');
    await jest.advanceTimersByTimeAsync(5000);
    expect(r.runs).toEqual([]);
    await q.idle();
  });

  test('cancel during a run: it finishes and does not run again', async () => {
    const q = queue();
    const r = recorder();
    r.hold();
    q.enqueue('pr#1', r.job('x'));
    await jest.advanceTimersByTimeAsync(1000);
    q.enqueue('pr#1', r.job('y'));
    q.cancel('pr#1');
    r.release();
    await jest.advanceTimersByTimeAsync(5000);
    expect(r.runs.map((x) => x.label)).toEqual(['x']);
    await q.idle();
  });

  test('stop empties the queue and refuses more', async () => {
    const q = queue();
    const r = recorder();
    q.enqueue('pr#1', r.job('x'));
    q.stop();
    q.enqueue('pr#2', r.job('y'));
    await jest.advanceTimersByTimeAsync(5000);
    expect(r.runs).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
