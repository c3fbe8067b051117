// The merge queue end to end, the app in its own process (test/helpers/queue-e2e.ts):
// a batch landing, and `priority_label`.
import { describe, expect } from '@jest/globals';
import { queuePolicy, scenario } from '../helpers/queue-e2e.js';

describe('the merge queue, the app in its own process', () => {
  scenario('a batch landing: three pull requests on one staging branch, CI green there → one fast-forward, all three merged, one trunk-updated naming the three', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s'), async (w) => {
    const pulls = [2, 3, 4].map((n) => w.pull(n));
    const before = w.repo.branches.get('main')!;
    await w.open(...pulls);
    await w.waitFor('main fast-forwarded', () => w.mainMoves().length > 0);
    await w.waitFor('every check says landed', () => pulls.every((p) => w.title(p).startsWith('Landed as')));
    await w.waitFor('one trunk-updated', () => w.receiver.received.length > 0);

    expect(w.runs.map((r) => [r.batch, r.pulls])).toEqual([[1, [2, 3, 4]]]);
    const staged = w.runs[0].sha;
    expect(w.mainMoves()).toEqual([{ repo: 'octo/app', branch: 'main', from: before, to: staged, force: false }]);
    expect(w.fake.merges).toEqual([]); // the tested commit itself became main: no merge call
    for (const p of pulls) {
      expect(p.state).toBe('MERGED');
      expect(w.title(p)).toBe(`Landed as ${staged.slice(0, 7)} in batch 1`);
    }
    await w.waitFor('the staging branch deleted', () => w.staging().length === 0);
    expect(w.announced()).toEqual([[before, staged, [2, 3, 4]]]);
    expect(w.receiver.received[0].json).toMatchObject({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', pull_request: { number: 4 } });
  });
});
