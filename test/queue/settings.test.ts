// The policy as the queue's core reads it: land.queue in ms, or one at a time without it.
import { describe, expect, it } from '@jest/globals';
import { formatPolicyError, loadPolicyText } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';
import { isPriority, queueSettings, WITHOUT_QUEUE } from '../../src/queue/settings.js';

function policy(yaml: string): Policy {
  const r = loadPolicyText(yaml);
  if (!r.ok) throw new Error(r.errors.map(formatPolicyError).join('\n'));
  return r.policy;
}

const REQUIRED = 'checks:\n  required: [ci/test]\n';

describe('queueSettings', () => {
  it('land.queue: the configured values, durations in ms, staging on', () => {
    expect(queueSettings(policy(`${REQUIRED}land:\n  queue: { batch: 8, speculative: 5, wait: 90s, timeout: 2h, retries: 2 }\n`))).toEqual({
      batch: 8,
      speculative: 5,
      waitMs: 90_000,
      timeoutMs: 7_200_000,
      retries: 2,
      staging: true,
    });
  });

  it('land.queue with its defaults', () => {
    expect(queueSettings(policy(`${REQUIRED}land:\n  queue: {}\n`))).toEqual({ batch: 4, speculative: 3, waitMs: 30_000, timeoutMs: 3_600_000, retries: 1, staging: true });
    expect(queueSettings(policy(`${REQUIRED}land:\n  queue: { wait: 0s }\n`)).waitMs).toBe(0);
  });

  it('without land.queue (or without land): one pull request at a time, no staging, never retried, no wait', () => {
    for (const p of [policy(''), policy('preset: none\n')]) {
      expect(queueSettings(p)).toEqual({ batch: 1, speculative: 1, waitMs: 0, timeoutMs: 86_400_000, retries: 0, staging: false });
      expect(queueSettings(p)).toBe(WITHOUT_QUEUE);
    }
  });
});

describe('isPriority', () => {
  const withLabel = policy(`${REQUIRED}land:\n  queue: { priority_label: Urgent }\n`);

  it('is true when the pull request carries priority_label, in any case (GitHub\'s labels are case-insensitive)', () => {
    expect(isPriority(withLabel, ['bug', 'urgent'])).toBe(true);
    expect(isPriority(withLabel, ['URGENT'])).toBe(true);
    expect(isPriority(withLabel, ['urgent-ish', 'bug'])).toBe(false);
    expect(isPriority(withLabel, [])).toBe(false);
  });

  it('is false without priority_label or without a queue', () => {
    expect(isPriority(policy(`${REQUIRED}land:\n  queue: {}\n`), ['priority'])).toBe(false);
    expect(isPriority(policy(''), ['priority'])).toBe(false);
  });
});
