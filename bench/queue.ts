// The merge queue's simulator: the app's own queue core (src/queue/core.ts)
// driven with a virtual clock against a model of GitHub and CI
// (test/helpers/queue-model.ts), which checks the invariants of SPEC §4a at
// every landing (a violation exits non-zero). 200 pull requests, a 30-minute
// CI, at most 5 CI runs in flight; a bad pull request fails every run it is
// in, a flaky failure fails a run at random. Loads: fail10, fail2, fail30
// (all 200 queued at once; 10%, 2%, 30% bad; 2% flaky) and arrivals (6 an
// hour at random, 10% bad). Beside each, one at a time: the same core with
// batches of one and one CI run in flight (test one pull request on the base
// head, land it if it passes). Seeds 1–3 each (SEEDS=1,2,3,4,5 for more),
// summed: landings per hour = all landings / the hours to the last landing.
// A deleted staging branch cancels its CI run (the slot is free again); a
// staging branch takes 20 s to build, a landing 5 s. `wait` is 0 everywhere.
// Where the CI time went (run-equivalents of 30 minutes, shares in the table):
// runs that passed, runs that failed, runs cancelled because a batch below
// them failed (they held its pull requests), and runs cancelled because the
// plan no longer needed them (hedges for a failure that did not come).
//                                                     npx tsx bench/queue.ts
import { chooseBatchSize, failureRate } from '../src/queue/adapt.js';
import { queueStats } from '../src/queue/core.js';
import type { QueueAction, QueueEvent, QueueSettings } from '../src/queue/types.js';
import { prng } from '../test/helpers/prng.js';
import { QueueModel } from '../test/helpers/queue-model.js';
import { printTable, writeResults, type Figure } from './results-file.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const PULLS = 200;
const CI_MS = 30 * MIN;
const BUILD_MS = 20_000; // the merges API calls of a staging branch
const LAND_MS = 5_000;
const SEEDS = (process.env.SEEDS ?? "1,2,3").split(",").map(Number);

interface Load {
  name: string;
  bad: number;
  flaky: number;
  /** Mean gap between arrivals (ms); 0: all queued at once. */
  arrivalGapMs: number;
}

const LOADS: Load[] = [
  { name: 'fail10', bad: 0.1, flaky: 0.02, arrivalGapMs: 0 },
  { name: 'fail2', bad: 0.02, flaky: 0.02, arrivalGapMs: 0 },
  { name: 'fail30', bad: 0.3, flaky: 0.02, arrivalGapMs: 0 },
  { name: 'arrivals', bad: 0.1, flaky: 0.02, arrivalGapMs: HOUR / 6 },
];

const QUEUE: QueueSettings = { batch: 8, speculative: 5, waitMs: 0, timeoutMs: 60 * MIN, retries: 1, staging: true };
const SERIAL: QueueSettings = { ...QUEUE, batch: 1, speculative: 1 };

/** CI time in run-equivalents (CI_MS each), by what became of the run. */
interface Spent {
  passed: number;
  failed: number;
  underFailure: number;
  unneeded: number;
}

interface Run {
  landed: number;
  /** From the first arrival to the last landing. */
  hours: number;
  ciRuns: number;
  timesMin: number[];
  sizes: number[];
  batches: Record<string, number>;
  spent: Spent;
  /** The batch size the adaptation chose at the end, and the failure rate it estimated. */
  settled: number;
  rate: number;
}

/** A min-heap of timed steps (ties in scheduling order: deterministic). */
class Timeline {
  private items: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  at(at: number, run: () => void): void {
    this.items.push({ at, seq: this.seq++, run });
    this.items.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
  next(): { at: number; run: () => void } | undefined {
    return this.items.shift();
  }
}

function simulate(load: Load, settings: QueueSettings, seed: number): Run {
  const random = prng(seed * 7919 + Math.round(load.bad * 1000));
  const model = new QueueModel(settings, 'merge');
  const time = new Timeline();
  let now = 0;
  let running = 0;
  let maxRunning = 0;
  const sizes: number[] = [];
  const cancelled = new Set<number>();
  const startedAt = new Map<number, number>();
  const spent: Spent = { passed: 0, failed: 0, underFailure: 0, unneeded: 0 };
  /** Whether the event being delivered is a failure (a failed check or a timeout): what it cancels stood on what failed. */
  let failing = false;
  const deliver = (event: QueueEvent) => {
    failing = (event.kind === 'checks' && event.outcome === 'failure') || event.kind === 'tick';
    act(model.send(event, now));
  };
  function act(actions: QueueAction[]): void {
    for (const a of actions) {
      if (a.kind === 'build') {
        sizes.push(a.pulls.length);
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (maxRunning > settings.speculative) model.violation(`${running} CI runs in flight`);
        time.at(now + BUILD_MS, () => {
          if (cancelled.has(a.batch)) return;
          const built = model.build(a);
          if (built.kind !== 'built') {
            cancelled.add(a.batch);
            running--;
            deliver(built);
            return;
          }
          startedAt.set(a.batch, now);
          deliver(built);
          const flake = random() < load.flaky;
          time.at(now + CI_MS, () => {
            if (cancelled.has(a.batch)) return;
            running--;
            cancelled.add(a.batch);
            const result = model.ci(a.batch, built.sha, flake);
            if (result.kind === 'checks' && result.outcome === 'success') spent.passed++;
            else spent.failed++;
            deliver(result);
          });
        });
      } else if (a.kind === 'land') time.at(now + LAND_MS, () => deliver(model.land(a, now)));
      else if (a.kind === 'wake') time.at(Math.max(now, a.at), () => deliver({ kind: 'tick' }));
      else if (a.kind === 'delete') {
        const batch = Number(a.ref.split('/').at(-1));
        if (!cancelled.has(batch)) {
          cancelled.add(batch); // deleting the staging branch cancels its CI run
          running--;
          spent[failing ? 'underFailure' : 'unneeded'] += (now - (startedAt.get(batch) ?? now)) / CI_MS;
        }
      }
    }
  }
  let at = 0;
  for (let n = 1; n <= PULLS; n++) {
    if (load.arrivalGapMs > 0) at += -Math.log(1 - random()) * load.arrivalGapMs;
    if (random() < load.bad) model.bad.add(n);
    const joinAt = at;
    time.at(joinAt, () => deliver({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: false } }));
  }
  for (let step = time.next(); step; step = time.next()) {
    now = step.at;
    step.run();
  }
  model.checkNothingLost();
  if (model.state.pulls.length > 0) model.violation(`${model.state.pulls.length} pull requests still queued at the end`);
  for (const n of model.bad) if (!model.dequeued.has(n)) model.violation(`bad #${n} was not dequeued`);
  const lastLanding = Math.max(...model.landedAt.values());
  const times = [...model.landedAt].map(([n, t]) => (t - model.joinedAt.get(n)!) / MIN);
  return { landed: model.landed.length, hours: lastLanding / HOUR, ciRuns: queueStats(model.state).ciRuns, timesMin: times, sizes, batches: queueStats(model.state).batches, spent,
    settled: chooseBatchSize(model.state.rate, settings.batch, settings.speculative, settings.retries), rate: failureRate(model.state.rate) };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

interface Summary {
  landingsPerHour: number;
  ciRunsPerLanding: number;
  p50: number;
  p95: number;
  sizes: Record<number, number>;
  batches: Record<string, number>;
  /** Shares of the CI time, percent. */
  spent: Spent;
  settled: number[];
  rate: number;
}

function summarise(runs: Run[]): Summary {
  const landed = runs.reduce((a, r) => a + r.landed, 0);
  const times = runs.flatMap((r) => r.timesMin);
  const sizes: Record<number, number> = {};
  for (const k of runs.flatMap((r) => r.sizes)) sizes[k] = (sizes[k] ?? 0) + 1;
  return {
    landingsPerHour: round(landed / runs.reduce((a, r) => a + r.hours, 0)),
    ciRunsPerLanding: round(runs.reduce((a, r) => a + r.ciRuns, 0) / landed),
    p50: round(percentile(times, 50), 1),
    p95: round(percentile(times, 95), 1),
    sizes,
    settled: runs.map((r) => r.settled),
    rate: round(runs.reduce((a, r) => a + r.rate, 0) / runs.length, 3),
    batches: Object.fromEntries(Object.keys(runs[0].batches).map((k) => [k, runs.reduce((a, r) => a + r.batches[k], 0)])),
    spent: shares(runs.map((r) => r.spent)),
  };
}

function shares(spent: Spent[]): Spent {
  const sum = (k: keyof Spent) => spent.reduce((a, x) => a + x[k], 0);
  const total = sum('passed') + sum('failed') + sum('underFailure') + sum('unneeded');
  const pct = (k: keyof Spent) => round((100 * sum(k)) / total, 1);
  return { passed: pct('passed'), failed: pct('failed'), underFailure: pct('underFailure'), unneeded: pct('unneeded') };
}

const started = performance.now();
const figures: Figure[] = [];
const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown> = {};
const TARGETS: Record<string, { lph?: string; runs?: string }> = { fail10: { lph: '>= 8' }, fail2: { lph: '>= 18', runs: '<= 0.7' } };
for (const load of LOADS) {
  const queue = summarise(SEEDS.map((seed) => simulate(load, QUEUE, seed)));
  const serial = summarise(SEEDS.map((seed) => simulate(load, SERIAL, seed)));
  const q = `queue.${load.name}`;
  const saturated = load.arrivalGapMs === 0;
  figures.push(
    { name: `${q}.landings_per_hour`, value: queue.landingsPerHour, unit: '/h', target: saturated ? (TARGETS[load.name]?.lph ?? `>= ${serial.landingsPerHour}`) : null },
    { name: `${q}.ci_runs_per_landing`, value: queue.ciRunsPerLanding, unit: 'runs', target: TARGETS[load.name]?.runs ?? null },
    { name: `${q}.time_to_land.p50_min`, value: queue.p50, unit: 'min', target: null },
    { name: `${q}.time_to_land.p95_min`, value: queue.p95, unit: 'min', target: null },
    { name: `${q}.serial.landings_per_hour`, value: serial.landingsPerHour, unit: '/h', target: null },
  );
  const batchSizes = Object.entries(queue.sizes).map(([k, c]) => `${k}:${c}`).join(' ');
  rows.push({
    load: load.name, 'landed/h': queue.landingsPerHour, 'runs/landing': queue.ciRunsPerLanding, 'p50 min': queue.p50, 'p95 min': queue.p95,
    'serial landed/h': serial.landingsPerHour, 'serial p50 min': serial.p50, 'settled size (per seed)': queue.settled.join(' '), 'rate seen': queue.rate,
    'CI time % (passed/failed/under a failure/unneeded)': Object.values(queue.spent).join(' / '),
    'batch sizes built (size:count)': batchSizes, 'batches (all seeds)': JSON.stringify(queue.batches),
  });
  results[load.name] = { queue, serial };
}
const adaptive = [0.02, 0.1, 0.3].map((r) => ({ rate: r, size: chooseBatchSize({ bad: r * 1000, seen: 1000 }, 8, 5, 1), estimate: round(failureRate({ bad: r * 1000, seen: 1000 }), 3) }));
printTable(`Merge queue simulation: ${PULLS} pull requests, CI ${CI_MS / MIN} min, ${QUEUE.speculative} in flight, batch ≤ ${QUEUE.batch}, ${SEEDS.length} seeds (${round((performance.now() - started) / 1000, 1)} s)`, rows);
printTable('Adaptive batch size at a steady failure rate', adaptive.map((a) => ({ 'bad rate': a.rate, 'batch size': a.size })));
writeResults('queue', { pulls: PULLS, ciMin: CI_MS / MIN, speculative: QUEUE.speculative, seeds: SEEDS, loads: results, adaptive }, figures);
