// Prometheus metrics of one deploy trigger (its own registry, so several can
// run in one process, as in the tests).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REVISION_STATES, type RevisionState } from './core.js';

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

  setRevisionCounts(repository: string, states: readonly RevisionState[]): void {
    for (const state of REVISION_STATES) this.revisions.set({ repository, state }, states.filter((s) => s === state).length);
  }
}
