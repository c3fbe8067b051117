// What a queued pull request's check says (PullStatus; messages.ts renders it)
// and the queue's figures for /metrics and the bench. Pure.
import { ancestors, batchOf, entry, type QueueState } from './state.js';
import type { PullStatus, QueueStats } from './types.js';

/**
 * A pull request in a batch: `building` while its staging branch is built; `testing` while its checks run, and also once they passed
 * (or failed: the failure may be theirs) while batches ahead of it have yet to land (`behind`: those batches' numbers, nearest first); `landing` once it passed and is first
 * (`held` when a hold keeps it from landing). Not in a batch: `queued`, its position counting every queued pull request.
 */
export function describe(s: QueueState, n: number): PullStatus {
  const e = entry(s, n);
  if (!e) return { kind: 'absent' };
  const b = batchOf(s, n);
  if (!b) {
    return { kind: 'queued', position: s.pulls.indexOf(e) + 1, of: s.pulls.length, branch: s.branch, held: e.held };
  }
  const withOthers = b.pulls.map((p) => p.number).filter((m) => m !== n);
  const held = b.pulls.map((p) => entry(s, p.number)?.held ?? null).find((h) => h !== null) ?? null;
  if (b.state === 'building') return { kind: 'building', batch: b.id, with: withOthers, since: b.since };
  const behind = ancestors(s, b).map((a) => a.id);
  if (b.state === 'testing' || b.state === 'failed' || (b.state === 'passed' && behind.length > 0)) {
    // An empty pending list while testing: CI has reported none of the required checks yet (the shell tells it so).
    const pending = b.state === 'testing' ? b.pending : [];
    return { kind: 'testing', batch: b.id, with: withOthers, since: b.ciStartedAt ?? b.since, pending, started: b.state !== 'testing' || pending.length > 0, behind, held };
  }
  return { kind: 'landing', batch: b.id, with: withOthers, since: b.since, held };
}

export function queueStats(s: QueueState): QueueStats {
  return { ...s.stats, depth: s.pulls.length, batches: { ...s.stats.batches }, timesToLand: [...s.stats.timesToLand] };
}
