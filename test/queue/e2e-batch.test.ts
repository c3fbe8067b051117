// The merge queue end to end, the app in its own process, against the fake
// GitHub over HTTP with a CI of the test's (test/helpers/queue-e2e.ts): each
// scenario in a repository of its own, one app process for the file.
import { describe, expect } from '@jest/globals';
import { pullPayload } from '../helpers/github-app.js';
import { queuePolicy, queueWorld } from '../helpers/queue-e2e.js';

const { scenario } = queueWorld();

/** Every pull request number announced, in order. */
const announcedNumbers = (announced: Array<[string, string, number[]]>) => announced.flatMap(([, , numbers]) => numbers);

describe('the merge queue, the app in its own process', () => {
  scenario('a batch landing: three pull requests on one staging branch, CI green there → one fast-forward, all three merged, one trunk-updated naming the three', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s'), async (s) => {
    const pulls = [2, 3, 4].map((n) => s.pull(n));
    const before = s.repo.branches.get('main')!;
    await s.queue(...pulls);
    await s.waitFor('every check says landed', () => pulls.every((p) => s.title(p).startsWith('Landed as')));
    await s.waitFor('one trunk-updated', () => s.announced().length > 0);

    expect(s.runs.map((r) => [r.batch, r.pulls])).toEqual([[1, [2, 3, 4]]]);
    const staged = s.runs[0].sha;
    expect(s.mainMoves()).toEqual([{ repo: s.full, branch: 'main', from: before, to: staged, force: false }]);
    expect(s.merges()).toEqual([]); // the tested commit itself became main: no merge call
    for (const p of pulls) {
      expect(p.state).toBe('MERGED');
      expect(s.title(p)).toBe(`Landed as ${staged.slice(0, 7)} in batch 1`);
    }
    await s.waitFor('the staging branch deleted', () => s.staging().length === 0);
    expect(s.announced()).toEqual([[before, staged, [2, 3, 4]]]);
    expect(s.world.receiver.received.find((r) => r.json.repository === s.full)!.json).toMatchObject({ type: 'trunk-updated', branch: 'main', pull_request: { number: 4 } });
  });

  scenario('a bad pull request isolated by bisection while the rest land: its check failed, naming the check, its link and the staging SHA', queuePolicy('batch: 4\nspeculative: 2\nwait: 20s\nretries: 0'), async (s) => {
    const pulls = [2, 3, 4, 5].map((n) => s.pull(n));
    const bad = pulls[2];
    s.ci = (run) => (run.contains.includes(bad.number) ? 'FAILURE' : 'SUCCESS');
    await s.queue(...pulls);
    await s.waitFor('the good ones landed', () => [2, 3, 5].every((n) => s.repo.pulls.get(n)!.state === 'MERGED'), 30_000);
    await s.waitFor("the bad one's check completed", () => s.check(bad)?.status === 'completed');

    expect(s.runs[0].pulls).toEqual([2, 3, 4, 5]); // one batch first, then its halves, then the culprit alone
    const alone = s.runs.filter((r) => r.pulls.length === 1 && r.pulls[0] === bad.number);
    expect(alone).toHaveLength(1);
    expect(s.check(bad)).toMatchObject({ conclusion: 'failure', title: 'left the queue: ci/test failed on its staging branch' });
    expect(s.said(bad)).toContain(alone[0].sha);
    expect(s.said(bad)).toContain(`[details](${alone[0].url})`);
    expect(s.said(bad)).toContain('`ci/test`');
    expect(bad.state).toBe('OPEN');
    expect(s.onMain(bad)).toBe(false);
    await s.waitFor('three announced', () => announcedNumbers(s.announced()).length === 3);
    expect(announcedNumbers(s.announced())).toEqual([2, 3, 5]);
    // Every move of main was a fast-forward to a staging head that passed.
    const passed = new Set(s.runs.filter((r) => r.state === 'SUCCESS').map((r) => r.sha));
    for (const move of s.mainMoves()) expect(passed.has(move.to)).toBe(true);
    await s.waitFor('no staging branch left', () => s.staging().length === 0);
  });

  // A failed batch loses its place (SPEC §4a: the batches behind go on without it), so the one behind may land first.
  // With retries: 1 its failed batch, the other pull request passing, would count as its second failed run (the next scenario).
  scenario('a flaky pull request (its batch and its first run alone fail) is tested again alone (retries: 2) and lands', queuePolicy('batch: 2\nspeculative: 2\nwait: 20s\nretries: 2'), async (s) => {
    const [flaky, other] = [2, 3].map((n) => s.pull(n));
    let batchFlaked = false;
    let aloneFlaked = false;
    s.ci = (run) => {
      if (!run.contains.includes(flaky.number)) return 'SUCCESS';
      if (run.pulls.length > 1 && !batchFlaked) return (batchFlaked = true), 'FAILURE';
      if (run.pulls.length === 1 && run.pulls[0] === flaky.number && !aloneFlaked) return (aloneFlaked = true), 'FAILURE';
      return 'SUCCESS';
    };
    await s.queue(flaky, other);
    await s.waitFor('both landed', () => flaky.state === 'MERGED' && other.state === 'MERGED', 30_000);
    const alone = s.runs.filter((r) => r.pulls.length === 1 && r.pulls[0] === flaky.number).map((r) => r.state);
    expect(alone).toEqual(['FAILURE', 'SUCCESS']); // failed alone once, passed on its retry
    await s.waitFor('two announced', () => announcedNumbers(s.announced()).length === 2);
    expect([...announcedNumbers(s.announced())].sort()).toEqual([2, 3]); // each announced once
    await s.waitFor('its check says landed', () => /^Landed as [0-9a-f]{7} in batch \d+$/.test(s.title(flaky)));
  });

  // Its retry may start (the other half's result can come after its run alone), but it never concludes here: only the evidence can send it away.
  scenario('evidence instead of a retry (retries: 1): it failed its batch, then alone, and the other passed: it leaves without its retry concluding', queuePolicy('batch: 2\nspeculative: 2\nwait: 20s\nretries: 1'), async (s) => {
    const [bad, other] = [2, 3].map((n) => s.pull(n));
    let aloneRuns = 0;
    s.ci = (run) => {
      if (!run.contains.includes(bad.number)) return 'SUCCESS';
      if (run.pulls.length === 1 && run.pulls[0] === bad.number && aloneRuns++ > 0) return null; // its retry: never concludes
      return 'FAILURE';
    };
    await s.queue(bad, other);
    await s.waitFor('the other landed', () => other.state === 'MERGED', 30_000);
    await s.waitFor("the bad one's check completed", () => s.check(bad)?.status === 'completed');
    expect(s.runs[0].pulls).toEqual([2, 3]);
    const alone = s.runs.filter((r) => r.pulls.length === 1 && r.pulls[0] === bad.number);
    expect(alone[0].state).toBe('FAILURE');
    expect(s.check(bad)).toMatchObject({ conclusion: 'failure', title: 'left the queue: ci/test failed on its staging branch' });
    expect(s.said(bad)).toContain(alone[0].sha);
    expect(s.said(bad)).toContain('1 attempt)');
    expect(bad.state).toBe('OPEN');
    await s.waitFor('no staging branch left', () => s.staging().length === 0);
  });

  // A fourth pull request waits behind the first batch, so that the batch rebuilt without the one that left is full again (no `wait`).
  scenario('a conflict: the pull request that conflicts leaves with a check naming what it conflicts with; the others land', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s'), async (s) => {
    const first = s.pull(2, { 'lib/shared.ts': 'export const who = "two";' });
    const clash = s.pull(3, { 'lib/shared.ts': 'export const who = "three";' });
    const others = [4, 5].map((n) => s.pull(n));
    await s.queue(first, clash, ...others);
    await s.waitFor('the others landed', () => [first, ...others].every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor("the conflicting one's check completed", () => s.check(clash)?.status === 'completed');
    expect(s.check(clash)).toMatchObject({ conclusion: 'failure', title: 'left the queue: conflicts with main and #2' });
    expect(s.said(clash)).toContain('conflicted with `main and #2`');
    expect(clash.state).toBe('OPEN');
    expect(s.onMain(clash)).toBe(false);
    expect(s.runs.map((r) => r.pulls)).toEqual([[2, 4, 5]]); // it never built: only the batch without it was tested
    await s.waitFor('announced', () => s.announced().length === 1);
    expect(announcedNumbers(s.announced())).toEqual([2, 4, 5]);
  });

  scenario('a push to the base while CI runs: the batch is rebuilt on the new head, nothing lands on the old one (its late success ignored)', queuePolicy('batch: 2\nspeculative: 1\nwait: 20s'), async (s) => {
    const pulls = [2, 3].map((n) => s.pull(n));
    s.ci = () => null; // CI keeps running
    await s.queue(...pulls);
    await s.waitFor('the first CI run', () => s.runs.length === 1);
    const pushed = s.pushByHand({ 'NOTES.md': 'by hand' });
    const stale = s.runs[0].sha;
    await s.waitFor('a second CI run, on the new head', () => s.runs.length === 2);
    expect(s.fake.ancestors(s.runs[1].sha).has(pushed.after)).toBe(true);
    await s.report(stale, 'SUCCESS'); // the old batch's CI finishes late
    await s.report(s.runs[1].sha, 'SUCCESS');
    await s.waitFor('both landed', () => pulls.every((p) => p.state === 'MERGED'));
    expect(s.mainMoves().map((m) => [m.from, m.to])).toEqual([[pushed.after, s.runs[1].sha]]);
    expect(s.fake.ancestors(s.repo.branches.get('main')!).has(stale)).toBe(false);
    await s.waitFor('announced', () => s.announced().length === 1);
    expect(s.announced()).toEqual([[pushed.after, s.runs[1].sha, [2, 3]]]);
  });

  scenario('an approval dismissed while CI runs (GitHub tells the app): the pull request leaves, the batch is rebuilt without it, the rest land', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s'), async (s) => {
    const pulls = [2, 3, 4, 5].map((n) => s.pull(n));
    const dismissed = pulls[1];
    s.ci = () => null;
    await s.queue(...pulls);
    await s.waitFor('the first CI run', () => s.runs.length === 1);
    expect(s.runs[0].pulls).toEqual([2, 3, 4]);
    // What each check says meanwhile (SPEC §4a wording).
    await s.waitFor('#5 says where it stands', () => s.title(pulls[3]).startsWith('queued: 4th of 4 for main'));
    await s.waitFor('#2 says what its batch waits for', () => /^testing in batch 1 with #3 #4 since \d\d:\d\d UTC \(ci\/test pending\)$/.test(s.title(pulls[0])));
    expect(s.check(pulls[0])).toMatchObject({ status: 'in_progress' });
    await s.dismiss(dismissed);
    await s.waitFor('a second CI run, without it', () => s.runs.length === 2);
    expect(s.runs[1].pulls).toEqual([2, 4, 5]);
    await s.report(s.runs[0].sha, 'SUCCESS'); // the batch that held it passes, too late
    await s.report(s.runs[1].sha, 'SUCCESS');
    await s.waitFor('the others landed', () => [2, 4, 5].every((n) => s.repo.pulls.get(n)!.state === 'MERGED'));
    expect(dismissed.state).toBe('OPEN');
    expect(s.onMain(dismissed)).toBe(false);
    expect(s.title(dismissed)).not.toMatch(/queue|Landed/);
    expect(s.mainMoves().map((m) => m.to)).toEqual([s.runs[1].sha]);
    await s.waitFor('announced', () => s.announced().length === 1);
    expect(announcedNumbers(s.announced())).toEqual([2, 4, 5]);
  });

  scenario('an approval dismissed while CI runs, the webhook lost: the re-check before landing catches it, it never lands, the rest do', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s'), async (s) => {
    const pulls = [2, 3, 4, 5].map((n) => s.pull(n));
    const dismissed = pulls[1];
    s.ci = (run) => (run.contains.includes(dismissed.number) ? null : 'SUCCESS');
    await s.queue(...pulls);
    await s.waitFor('the first CI run', () => s.runs.length === 1);
    await s.dismiss(dismissed, false);
    await s.report(s.runs[0].sha, 'SUCCESS');
    await s.waitFor('the others landed', () => [2, 4, 5].every((n) => s.repo.pulls.get(n)!.state === 'MERGED'), 30_000);
    expect(dismissed.state).toBe('OPEN');
    expect(s.onMain(dismissed)).toBe(false);
    for (const move of s.mainMoves()) expect(s.fake.ancestors(move.to).has(dismissed.headSha)).toBe(false);
    await s.waitFor('announced', () => s.announced().length === 1);
    expect(announcedNumbers(s.announced())).toEqual([2, 4, 5]);
  });

  scenario('priority_label: the labelled pull request goes ahead of those queued before it', queuePolicy('batch: 1\nspeculative: 1\nwait: 0s\npriority_label: urgent'), async (s) => {
    const [a, b] = [2, 3].map((n) => s.pull(n));
    const urgent = s.pull(4, undefined, ['urgent']);
    s.ci = (run) => (s.runs.length === 0 ? null : 'SUCCESS'); // the first run (#2 alone) hangs until #4 has joined
    await s.queue(a, b);
    await s.waitFor('the first CI run', () => s.runs.length === 1);
    expect(s.runs[0].pulls).toEqual([2]);
    await s.open(urgent);
    await s.waitFor('all landed', () => [a, b, urgent].every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor('announced', () => s.announced().length === 3);
    expect(announcedNumbers(s.announced())).toEqual([4, 2, 3]);
  });

  scenario('priority_label added while queued: the pull request moves ahead of those queued before it', queuePolicy('batch: 1\nspeculative: 1\nwait: 0s\npriority_label: urgent'), async (s) => {
    const [a, b, c] = [2, 3, 4].map((n) => s.pull(n));
    s.ci = (run) => (s.runs.length === 0 ? null : 'SUCCESS'); // the first run (#2 alone) hangs until #4 is labelled
    await s.queue(a, b, c);
    await s.waitFor('the first CI run', () => s.runs.length === 1);
    c.labels.push('urgent');
    const labeled = pullPayload('pull_request', 'labeled', s.fake, s.repo, c);
    labeled.label = { name: 'urgent', color: 'ededed', default: false };
    await s.world.send('pull_request', labeled);
    await s.waitFor('all landed', () => [a, b, c].every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor('announced', () => s.announced().length === 3);
    expect(announcedNumbers(s.announced())).toEqual([4, 2, 3]);
  });

  const errorScene = (name: string, policy: string, error: string) =>
    scenario(`land.queue ${name} is a policy error: the check fails closed, nothing is staged or lands`, policy, async (s) => {
      const pull = s.pull(2);
      await s.open(pull);
      await s.waitFor('the check', () => s.check(pull)?.status === 'completed');
      expect(s.check(pull)).toMatchObject({ conclusion: 'failure' });
      expect(s.check(pull)!.text).toContain(error);
      expect(s.staging()).toEqual([]);
      expect(s.mainMoves()).toEqual([]);
      expect(s.merges()).toEqual([]);
      expect(pull.state).toBe('OPEN');
    });
  errorScene('without checks.required', 'version: 1\nreviews:\n  required: 1\nland:\n  method: merge\n  queue:\n    batch: 4\n', 'land.queue: needs checks.required');
  errorScene('with up_to_date: true', 'version: 1\nchecks:\n  required: [ci/test]\nland:\n  up_to_date: true\n  queue: {}\n', 'land.queue: cannot be used with land.up_to_date: true');
});
