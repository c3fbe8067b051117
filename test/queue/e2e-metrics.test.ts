// The merge queue's figures at GET /metrics, over HTTP, with merge-gate started
// as `npm start` starts it (`probot run`, its own process; test/helpers/probot-process.ts)
// and driven through signed webhooks against the fake GitHub, a CI played by the
// test on the staging branches (test/helpers/queue-e2e.ts): the values the
// scenario implies, scraped while a batch is under test, after it landed, and
// after a pull request failed alone.
import { describe, expect } from '@jest/globals';
import { queuePolicy, queueWorld } from '../helpers/queue-e2e.js';

const { scenario } = queueWorld({ probot: true });

/** One sample's value from Prometheus text (`name` with its labels as written); undefined when absent. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('GET /metrics with the app as npm start runs it', () => {
  scenario(
    'queue depth, batches by outcome, CI runs per landing and the time to land histogram say what happened',
    queuePolicy('batch: 2\nspeculative: 1\nwait: 20s\nretries: 0'),
    async (s) => {
      const scrape = async () => {
        const res = await fetch(s.world.metricsUrl!);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        return res.text();
      };
      const depth = `merge_gate_queue_depth{repository="${s.full}",branch="main"}`;
      const batches = (outcome: string) => `merge_gate_queue_batches_total{outcome="${outcome}"}`;

      // Two pull requests tested together; CI keeps running (pending only) until the test says.
      const [a, b] = [2, 3].map((n) => s.pull(n));
      s.ci = () => null;
      const started = Date.now();
      await s.queue(a, b);
      await s.waitFor('the batch under test', () => s.runs.length === 1 && [a, b].every((p) => /^testing in batch 1 .*\(ci\/test pending\)$/.test(s.title(p))));
      let text = await scrape();
      expect(sample(text, depth)).toBe(2);
      for (const outcome of ['passed', 'failed', 'timedOut', 'conflicted', 'invalidated']) expect(sample(text, batches(outcome))).toBe(0);
      expect(sample(text, 'merge_gate_queue_ci_runs_total')).toBe(1);
      expect(sample(text, 'merge_gate_queue_landed_total')).toBe(0);
      expect(sample(text, 'merge_gate_queue_ci_runs_per_landing')).toBe(0);
      expect(sample(text, 'merge_gate_queue_time_to_land_seconds_count')).toBe(0);

      // CI green: the batch lands.
      await s.report(s.runs[0].sha, 'SUCCESS');
      await s.waitFor('both landed', () => [a, b].every((p) => s.title(p).startsWith('Landed as')));
      // The checks say "Landed" as the batch is tidied up; the queue's state takes the landing right after.
      await s.waitFor('the queue empty in /metrics', async () => sample(await scrape(), depth) === 0);
      text = await scrape();
      const landedWithinS = (Date.now() - started) / 1000;
      expect(sample(text, batches('passed'))).toBe(1);
      expect(sample(text, batches('failed'))).toBe(0);
      expect(sample(text, 'merge_gate_queue_ci_runs_total')).toBe(1);
      expect(sample(text, 'merge_gate_queue_landed_total')).toBe(2);
      expect(sample(text, 'merge_gate_queue_ci_runs_per_landing')).toBe(0.5);
      expect(sample(text, 'merge_gate_queue_time_to_land_seconds_count')).toBe(2);
      const sum = sample(text, 'merge_gate_queue_time_to_land_seconds_sum')!;
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThanOrEqual(2 * landedWithinS);
      // Each waited less than the scenario took: under a minute, both are in the first bucket.
      if (landedWithinS < 60) expect(sample(text, 'merge_gate_queue_time_to_land_seconds_bucket{le="60"}')).toBe(2);
      expect(sample(text, 'merge_gate_queue_time_to_land_seconds_bucket{le="+Inf"}')).toBe(2);

      // A third fails alone (retries: 0): one failed batch, one more CI run, nothing more landed.
      const c = s.pull(4);
      s.ci = () => 'FAILURE';
      await s.queue(c);
      // Alone, its batch waits `wait` (20 s) for a second pull request before it is built.
      await s.waitFor("the third's check completed", () => s.check(c)?.status === 'completed', 60_000);
      await s.waitFor('the queue empty in /metrics', async () => sample(await scrape(), depth) === 0);
      text = await scrape();
      expect(sample(text, batches('passed'))).toBe(1);
      expect(sample(text, batches('failed'))).toBe(1);
      expect(sample(text, 'merge_gate_queue_ci_runs_total')).toBe(2);
      expect(sample(text, 'merge_gate_queue_landed_total')).toBe(2);
      expect(sample(text, 'merge_gate_queue_ci_runs_per_landing')).toBe(1);
      expect(sample(text, 'merge_gate_queue_time_to_land_seconds_count')).toBe(2);
    },
    150_000,
  );
});
