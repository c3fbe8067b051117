// Prometheus metrics of one deploy trigger (its own registry, so several can
// run in one process, as in the tests).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isRuledOut, isRunning, REVISION_STATES, RULED_OUT_CAUSES, ruledOutCause, type RevisionState } from './core.js';

export class TriggerMetrics {
  readonly registry = new Registry();
  readonly deliveries = new Counter({ name: 'merge_gate_deploy_deliveries_total', help: 'trunk-updated deliveries by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly deploys = new Counter({ name: 'merge_gate_deploy_deploys_total', help: 'Revisions started', labelNames: ['repository'], registers: [this.registry] });
  readonly cutoffs = new Counter({ name: 'merge_gate_deploy_cutoffs_total', help: 'Revisions cut off by the circuit breaker', labelNames: ['repository'], registers: [this.registry] });
  readonly reaps = new Counter({ name: 'merge_gate_deploy_reaps_total', help: 'Revisions stopped by the reaper', labelNames: ['repository'], registers: [this.registry] });
  readonly signals = new Counter({ name: 'merge_gate_deploy_signals_total', help: 'Error reports accepted from services', labelNames: ['repository'], registers: [this.registry] });
  readonly probe = new Histogram({
    name: 'merge_gate_deploy_probe_seconds',
    help: 'Health probe latency',
    labelNames: ['repository', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly revisions = new Gauge({ name: 'merge_gate_deploy_revisions', help: 'Revisions by state', labelNames: ['repository', 'state'], registers: [this.registry] });
  readonly ruledOut = new Counter({
    name: 'merge_gate_deploy_ruled_out_total',
    help: 'Revisions marked bad (cut off) or failed, by cause: health, startup, signals, output, exited, start_failed, other',
    labelNames: ['repository', 'reason'],
    registers: [this.registry],
  });
  readonly desiredBad = new Gauge({
    name: 'merge_gate_deploy_desired_bad',
    help: '1 when the desired revision is bad or failed (nothing new deploys until a landing or a retry), by cause; 0 otherwise',
    labelNames: ['repository', 'reason'],
    registers: [this.registry],
  });
  readonly desiredRunning = new Gauge({ name: 'merge_gate_deploy_desired_running', help: '1 when the desired revision is starting or healthy, 0 otherwise', labelNames: ['repository'], registers: [this.registry] });
  readonly degraded = new Gauge({
    name: 'merge_gate_deploy_degraded',
    help: '1 once a state write failed in a background path: the trigger deploys nothing more until restarted (its log says why)',
    registers: [this.registry],
  });
  readonly desiredHealthy = new Gauge({ name: 'merge_gate_deploy_desired_healthy', help: '1 when the desired revision is healthy, 0 otherwise', labelNames: ['repository'], registers: [this.registry] });

  /** A revision became bad or failed with this reason. */
  countRuledOut(repository: string, state: RevisionState, reason: string): void {
    if (isRuledOut(state)) this.ruledOut.inc({ repository, reason: ruledOutCause(reason) });
  }

  /** The desired revision's gauges, set at each scrape from the stored state (null: none yet). */
  setDesired(repository: string, desired: { state: RevisionState; reason: string } | null): void {
    const cause = desired && isRuledOut(desired.state) ? ruledOutCause(desired.reason) : null;
    for (const reason of RULED_OUT_CAUSES) this.desiredBad.set({ repository, reason }, reason === cause ? 1 : 0);
    this.desiredRunning.set({ repository }, desired && isRunning(desired.state) ? 1 : 0);
    this.desiredHealthy.set({ repository }, desired?.state === 'healthy' ? 1 : 0);
  }

  setRevisionCounts(repository: string, states: readonly RevisionState[]): void {
    for (const state of REVISION_STATES) this.revisions.set({ repository, state }, states.filter((s) => s === state).length);
  }
}
