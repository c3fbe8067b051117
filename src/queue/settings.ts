// The policy as the queue's core needs it (SPEC §4a): `land.queue` in
// milliseconds, or, without it, landing one pull request at a time through the
// same core (a batch of one, no staging branch, no CI of the queue's own). Pure.
import { parseDuration } from '../duration.js';
import type { Policy } from '../policy/schema.js';
import { hasLabel } from '../rules/size.js';
import type { QueueSettings } from './types.js';

/**
 * Without `land.queue`: one pull request at a time, never retried by the queue (its checks ran on its own head). Nothing is
 * tested on a staging branch, so the timeout never starts; it is the longest the policy allows, should a core consult it.
 */
export const WITHOUT_QUEUE: QueueSettings = Object.freeze({ batch: 1, speculative: 1, waitMs: 0, timeoutMs: 24 * 3_600_000, retries: 0, staging: false });

export function queueSettings(policy: Pick<Policy, 'land'>): QueueSettings {
  const queue = policy.land?.queue;
  if (!queue) return WITHOUT_QUEUE;
  return {
    batch: queue.batch,
    speculative: queue.speculative,
    // The schema validated both with the same parser: a null here is a bug, and failing loudly beats a zero timeout.
    waitMs: durationMs(queue.wait, 'land.queue.wait'),
    timeoutMs: durationMs(queue.timeout, 'land.queue.timeout'),
    retries: queue.retries,
    staging: true,
  };
}

/** The pull request carries `land.queue.priority_label` (GitHub's label names are case-insensitive). */
export function isPriority(policy: Pick<Policy, 'land'>, labels: readonly string[]): boolean {
  const label = policy.land?.queue?.priority_label;
  return label !== undefined && hasLabel(labels, label);
}

function durationMs(text: string, key: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`${key}: ${JSON.stringify(text)} is not a duration (the policy should not have validated)`);
  return ms;
}
