// The app's Prometheus metrics at `GET /metrics`, read when scraped from what
// the app already keeps: the state database (the outbox's deliveries, the
// landing journal, the pending requests of accepted events) and the gate's
// queue. Nothing is counted twice, and a restart loses no figure that lives in
// the database.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { MergeGate } from '../github/gate.js';
import type { Db } from '../state/db.js';
import { writeFailures, type UnrecordedWrite } from '../state/failures.js';
import { queueStats } from '../queue/core.js';
import { QueueStore } from '../queue/store.js';
import type { QueueStats } from '../queue/types.js';

export interface AppMetricsSources {
  db: Db;
  clock: Clock;
  /** The gate, once the app is loaded. */
  gate(): MergeGate | null;
  /** Accepted requests not yet written to the state database (src/intake/pending.ts). */
  unrecorded?(): number;
}

const UNRECORDED_WRITES: readonly UnrecordedWrite[] = ['pending_request', 'pending_request_removal', 'outbox_attempt'];

export function appMetrics(sources: AppMetricsSources): Registry {
  const registry = new Registry();
  const { db } = sources;
  /** A gauge of a table's rows by state, every state shown (0 included) so an alert can compare. */
  const byState = (name: string, help: string, table: 'deliveries' | 'landings', states: readonly string[]) =>
    new Gauge({
      name,
      help,
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const state of states) this.set({ state }, 0);
        for (const r of db.prepare(`SELECT state, COUNT(*) AS n FROM ${table} GROUP BY state`).all() as Array<{ state: string; n: number }>) this.set({ state: r.state }, r.n);
      },
    });
  byState('merge_gate_outbox_deliveries', 'trunk-updated deliveries in the outbox, by state (pending, delivered, given_up)', 'deliveries', ['pending', 'delivered', 'given_up']);
  new Gauge({
    name: 'merge_gate_outbox_oldest_pending_seconds',
    help: 'Age of the oldest delivery not yet acknowledged (0: none)',
    registers: [registry],
    collect() {
      const { oldest } = db.prepare("SELECT MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'").get() as { oldest: number | null };
      this.set(oldest === null ? 0 : Math.max(0, (sources.clock.now().getTime() - oldest) / 1000));
    },
  });
  byState('merge_gate_landings', 'Landings in the journal, by state (intent, landed, merged-elsewhere, abandoned)', 'landings', ['intent', 'landed', 'merged-elsewhere', 'abandoned']);
  new Gauge({
    name: 'merge_gate_pending_requests',
    help: 'What accepted webhooks asked for and is not done yet (evaluations, head lookups, re-evaluations)',
    registers: [registry],
    collect() {
      this.set((db.prepare('SELECT COUNT(*) AS n FROM pending_requests').get() as { n: number }).n);
    },
  });
  new Gauge({
    name: 'merge_gate_pending_unrecorded',
    help: 'Accepted requests whose write to the state database failed and is being retried (webhooks are answered 503 meanwhile)',
    registers: [registry],
    collect() {
      this.set(sources.unrecorded?.() ?? 0);
    },
  });
  new Counter({
    name: 'merge_gate_state_write_failures_total',
    help: 'Writes to the state database that failed (disk full, locked, I/O error) since the process started, by what was not recorded; each is retried',
    labelNames: ['what'],
    registers: [registry],
    collect() {
      this.reset();
      const failures = writeFailures(db);
      for (const what of UNRECORDED_WRITES) this.inc({ what }, failures.get(what) ?? 0);
    },
  });
  new Gauge({
    name: 'merge_gate_queue_jobs',
    help: 'Jobs in the gate queue (waiting, running or due for a retry)',
    registers: [registry],
    collect() {
      this.set(sources.gate()?.queue.size ?? 0);
    },
  });
  new Gauge({
    name: 'merge_gate_evaluations',
    help: 'Evaluations started since the process started',
    registers: [registry],
    collect() {
      this.set(sources.gate()?.stats.evaluations ?? 0);
    },
  });
  queueMetrics(registry, db);
  return registry;
}

/** Batches by outcome, as the core counts them (QueueStats.batches). */
const BATCH_OUTCOMES = ['passed', 'failed', 'timedOut', 'conflicted', 'invalidated'] as const;

/**
 * The merge queue's figures (SPEC §4a), from each queue's state in the database (the core keeps them):
 * depth per repository and branch, batches by outcome, CI runs and landings (and their ratio), time to land.
 */
function queueMetrics(registry: Registry, db: Db): void {
  const store = new QueueStore(db);
  const all = (): Array<{ repository: string; branch: string; stats: QueueStats }> => store.branches().map((b) => ({ repository: b.where.repository, branch: b.where.branch, stats: queueStats(b.state) }));
  new Gauge({
    name: 'merge_gate_queue_depth',
    help: 'Pull requests in the merge queue (in batches or waiting), per repository and base branch',
    labelNames: ['repository', 'branch'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of all()) this.set({ repository: q.repository, branch: q.branch }, q.stats.depth);
    },
  });
  new Counter({
    name: 'merge_gate_queue_batches_total',
    help: 'Batches of the merge queue by outcome (passed, failed, timedOut, conflicted, invalidated)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const queues = all();
      for (const outcome of BATCH_OUTCOMES) this.inc({ outcome }, queues.reduce((n, q) => n + q.stats.batches[outcome], 0));
    },
  });
  const sum = (pick: (s: QueueStats) => number) => all().reduce((n, q) => n + pick(q.stats), 0);
  new Counter({
    name: 'merge_gate_queue_ci_runs_total',
    help: 'CI runs the merge queue started (a staging branch built and tested)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sum((s) => s.ciRuns));
    },
  });
  new Counter({
    name: 'merge_gate_queue_landed_total',
    help: 'Pull requests the merge queue landed',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sum((s) => s.landed));
    },
  });
  new Gauge({
    name: 'merge_gate_queue_ci_runs_per_landing',
    help: 'CI runs per pull request landed by the merge queue (0: none landed yet)',
    registers: [registry],
    collect() {
      const landed = sum((s) => s.landed);
      this.set(landed === 0 ? 0 : sum((s) => s.ciRuns) / landed);
    },
  });
  new Histogram({
    name: 'merge_gate_queue_time_to_land_seconds',
    help: "Time from joining the merge queue to landing, of each queue's last 1,000 landed pull requests",
    buckets: [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400],
    registers: [registry],
    collect() {
      this.reset();
      // Zero buckets, count and sum before the first landing (reset() leaves none: the series would be missing, not 0).
      this.zero({});
      for (const q of all()) for (const ms of q.stats.timesToLand) this.observe(ms / 1000);
    },
  });
}

/** A Probot handler answering `GET /metrics`; anything else goes on to the next handler. */
export function metricsHandler(registry: Registry) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://app').pathname !== '/metrics') return false;
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(text);
    return true;
  };
}
