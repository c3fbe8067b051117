// The deploy trigger's decisions, as pure functions of state and the clock.
import { adoptionVerdict, afterProbe, breakerVerdict, chooseDesired, formatBytes, keptSamples, nextDeploy, outputVerdict, reapList, type RevisionState, type RevisionView } from '../../src/deploy/core.js';

const rev = (sha: string, state: RevisionState, seq: number): RevisionView => ({ sha, state, seq, since: 0, startedAt: 0 });
const BREAKER = { failures: 3, startupMs: 60_000, maxSignals: 5, signalWindowMs: 60_000, maxOutputRate: 1024 * 1024, outputWindowMs: 60_000 };
const facts = (over: Partial<Parameters<typeof breakerVerdict>[0]> = {}) => ({ state: 'healthy' as RevisionState, startedAt: 0, consecutiveFailures: 0, lastError: null, signalTimes: [], ...over });

describe('desired revision', () => {
  it('takes the newest trunk head: a descendant or (after a force-push) an unrelated one; never an ancestor', () => {
    expect(chooseDesired(null, 'b', 'newer')).toBe('b');
    expect(chooseDesired('a', 'b', 'newer')).toBe('b');
    expect(chooseDesired('b', 'a', 'older')).toBe('b');
    expect(chooseDesired('b', 'b', 'same')).toBe('b');
    expect(chooseDesired('b', 'x', 'unrelated')).toBe('x');
  });
});

describe('coalescing: nextDeploy', () => {
  it('starts the desired revision when nothing is starting', () => {
    expect(nextDeploy('c', [rev('a', 'healthy', 1)])).toBe('c');
    expect(nextDeploy(null, [])).toBeNull();
  });
  it('waits while a deploy is under way; the newest desired revision goes next', () => {
    expect(nextDeploy('c', [rev('b', 'starting', 2), rev('a', 'healthy', 1)])).toBeNull();
    expect(nextDeploy('d', [rev('b', 'healthy', 2), rev('a', 'healthy', 1)])).toBe('d');
  });
  it('never starts a running, bad or failed revision again; a stopped or reaped one may run again', () => {
    for (const state of ['healthy', 'bad', 'failed'] as const) expect(nextDeploy('a', [rev('a', state, 1)])).toBeNull();
    for (const state of ['stopped', 'reaped'] as const) expect(nextDeploy('a', [rev('a', state, 1)])).toBe('a');
  });
});

describe('circuit breaker', () => {
  it('cuts a healthy revision off after `failures` consecutive failed probes, with the last error', () => {
    expect(breakerVerdict(facts({ consecutiveFailures: 2, lastError: 'HTTP 500' }), BREAKER, 1000)).toBeNull();
    expect(breakerVerdict(facts({ consecutiveFailures: 3, lastError: 'HTTP 500' }), BREAKER, 1000)).toBe('3 consecutive failed health probes (last: HTTP 500)');
  });
  it('gives a starting revision until health.startup, whatever its probes say', () => {
    const starting = facts({ state: 'starting', startedAt: 1000, consecutiveFailures: 10, lastError: 'ECONNREFUSED' });
    expect(breakerVerdict(starting, BREAKER, 60_999)).toBeNull();
    expect(breakerVerdict(starting, BREAKER, 61_000)).toBe('not healthy within 1m of starting (last probe: ECONNREFUSED)');
  });
  it('cuts off on more than signals.max reports within signals.window; older reports do not count', () => {
    const now = 100_000;
    const five = [now - 1, now - 2, now - 3, now - 4, now - 5];
    expect(breakerVerdict(facts({ signalTimes: five }), BREAKER, now)).toBeNull();
    expect(breakerVerdict(facts({ signalTimes: [...five, now - 60_000] }), BREAKER, now)).toBeNull();
    expect(breakerVerdict(facts({ signalTimes: [...five, now - 59_999] }), BREAKER, now)).toBe('6 error reports from the service within 1m (more than 5)');
  });
  it('counts only the reports of the current run: a retried revision is not cut off by its last run\'s reports', () => {
    const now = 100_000;
    const lastRun = [now - 10, now - 9, now - 8, now - 7, now - 6, now - 5];
    expect(breakerVerdict(facts({ startedAt: now - 4, signalTimes: lastRun }), BREAKER, now)).toBeNull();
    expect(breakerVerdict(facts({ startedAt: now - 4, signalTimes: [...lastRun, now - 4, now - 3, now - 2, now - 1, now, now] }), BREAKER, now)).toBe('6 error reports from the service within 1m (more than 5)');
  });
  it('leaves revisions that do not run alone', () => {
    for (const state of ['bad', 'failed', 'reaped', 'stopped'] as const) expect(breakerVerdict(facts({ state, consecutiveFailures: 9 }), BREAKER, 0)).toBeNull();
  });
  it('counts the failure streak, and a starting revision turns healthy on its first passing probe', () => {
    expect(afterProbe('starting', 4, true)).toEqual({ streak: 0, becameHealthy: true });
    expect(afterProbe('healthy', 1, false)).toEqual({ streak: 2, becameHealthy: false });
    expect(afterProbe('healthy', 2, true)).toEqual({ streak: 0, becameHealthy: false });
  });
});

describe('output rate (logs.max_rate)', () => {
  const MB = 1024 * 1024;
  const samples = (...pairs: [number, number][]) => pairs.map(([at, bytes]) => ({ at, bytes }));

  it('cuts off once a window\'s worth is printed within the window, with what it printed', () => {
    // 1MB/s over 60 s: 60MB allowed between two samples less than a window apart.
    expect(outputVerdict(samples([0, 0], [600, 60 * MB]), MB, 60_000)).toBeNull();
    expect(outputVerdict(samples([0, 0], [600, 60 * MB + 1]), MB, 60_000)).toBe('printed 60MB in 600ms, over logs.max_rate 1MB/s (averaged over 1m)');
    expect(outputVerdict(samples([0, 0], [30_000, 10 * MB], [60_000, 312 * MB]), MB, 60_000)).toBe('printed 312MB in 1m, over logs.max_rate 1MB/s (averaged over 1m)');
  });
  it('leaves a steady rate under the limit alone however long it runs, and needs two samples', () => {
    const steady = Array.from({ length: 200 }, (_, i) => ({ at: i * 2000, bytes: i * 2000 * 1000 })); // ~0.95MB/s
    expect(outputVerdict(steady, MB, 60_000)).toBeNull();
    expect(outputVerdict(samples([0, 900 * MB]), MB, 60_000)).toBeNull();
    expect(outputVerdict([], MB, 60_000)).toBeNull();
  });
  it('averages over the span when the samples are further apart than the window (a slow probe interval)', () => {
    expect(outputVerdict(samples([0, 0], [3_600_000, 3600 * MB]), MB, 60_000)).toBeNull();
    expect(outputVerdict(samples([0, 0], [3_600_000, 3601 * MB]), MB, 60_000)).toMatch(/^printed 3\.5GB in 1h, over logs\.max_rate 1MB\/s/);
  });
  it('counts only what came after a count that went down (another process: a restart)', () => {
    expect(outputVerdict(samples([0, 500 * MB], [100, 1000], [200, 2000]), MB, 60_000)).toBeNull();
    expect(outputVerdict(samples([0, 500 * MB], [100, 1000], [200, 61 * MB]), MB, 60_000)).toMatch(/^printed 61MB in 100ms/);
  });
  it('keeps the samples within the window and the one before them', () => {
    const s = samples([0, 0], [10, 1], [50, 2], [70, 3]);
    expect(keptSamples(s, 75, 30)).toEqual(samples([10, 1], [50, 2], [70, 3]));
    expect(keptSamples(s, 1000, 30)).toEqual(samples([70, 3]));
    expect(keptSamples([], 1000, 30)).toEqual([]);
  });
  it('is a reason of the breaker, for starting and healthy revisions alike, unless max_rate is off', () => {
    const flood = samples([0, 0], [500, 100 * MB]);
    for (const state of ['starting', 'healthy'] as const) expect(breakerVerdict(facts({ state, output: flood }), BREAKER, 500)).toMatch(/^printed 100MB in 500ms/);
    expect(breakerVerdict(facts({ output: flood }), { ...BREAKER, maxOutputRate: null }, 500)).toBeNull();
    expect(breakerVerdict(facts({ state: 'bad', output: flood }), BREAKER, 500)).toBeNull();
  });
  it('shows sizes 1024-based, like the config', () => {
    expect([0, 1023, 1536, 64 * 1024, MB, 1.25 * 1024 * MB].map(formatBytes)).toEqual(['0B', '1023B', '1.5KB', '64KB', '1MB', '1.3GB']);
  });
});

describe('reaper', () => {
  it('keeps the newest `keep` healthy revisions and reaps the rest', () => {
    const revisions = [rev('a', 'healthy', 1), rev('b', 'healthy', 2), rev('c', 'healthy', 3), rev('d', 'bad', 4)];
    expect(reapList(revisions, 2)).toEqual(['a']);
    expect(reapList(revisions, 1)).toEqual(['b', 'a']);
  });
  it('never reaps one still starting, nor the newest healthy one', () => {
    expect(reapList([rev('a', 'healthy', 1), rev('b', 'starting', 2), rev('c', 'starting', 3)], 1)).toEqual([]);
    expect(reapList([rev('a', 'healthy', 1)], 0)).toEqual([]);
  });
});

describe('adoption after a restart', () => {
  it('adopts only the same process: same PID and the same start time', () => {
    expect(adoptionVerdict({ pid: 10, startTime: '500' }, { startTime: '500' })).toBe('adopt');
    expect(adoptionVerdict({ pid: 10, startTime: '500' }, { startTime: '900' })).toBe('gone');
    expect(adoptionVerdict({ pid: 10, startTime: '500' }, null)).toBe('gone');
    expect(adoptionVerdict({ pid: null, startTime: null }, null)).toBe('gone');
  });
});
