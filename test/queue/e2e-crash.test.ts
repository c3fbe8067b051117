// The merge queue survives SIGKILL (issue 19 item 7), the app in its own process
// against the fake GitHub over HTTP (test/helpers/queue-e2e.ts): killed while
// CI runs, while a staging branch is being built, between the fast-forward
// of the base and its record, and halfway through a squash batch; started again on the same state file → nothing
// lands twice, nothing lands untested, every landing announced once, orphan
// staging branches deleted. One kill per scenario: a request held back (the
// app waiting for its answer) holds the installation's other writes too, so
// the four instants cannot be reached at once in one app.
import { describe, expect } from '@jest/globals';
import { queuePolicy, queueWorld, type Scene } from '../helpers/queue-e2e.js';

const { scenario } = queueWorld();

const policy = queuePolicy('batch: 2\nspeculative: 1\nwait: 20s');

/** Every move of main went to a staging head the CI passed, and every announced landing names what main moved by. */
function landedOnlyTested(s: Scene): void {
  const staged = new Set(s.runs.map((r) => r.sha));
  const passed = new Set(s.repo.statuses.filter((x) => staged.has(x.sha) && x.context === 'ci/test' && x.state === 'SUCCESS').map((x) => x.sha));
  for (const move of s.mainMoves()) expect(passed.has(move.to)).toBe(true);
  expect(s.announced().map(([before, after]) => [before, after])).toEqual(s.mainMoves().map((m) => [m.from, m.to]));
}

/** The app started again on the same state file. */
const restart = (s: Scene) => s.world.start();

describe('the merge queue after a SIGKILL', () => {
  scenario('killed while CI runs, the result arriving while it is down: started again, it reads the result, lands once, announces once, and deletes an orphan staging branch', policy, async (s) => {
    const pulls = [2, 3].map((n) => s.pull(n));
    const before = s.repo.branches.get('main')!;
    s.ci = () => null;
    await s.queue(...pulls);
    await s.waitFor('CI running on the batch', () => s.runs.length === 1);
    // A staging branch no state knows (a process before this one made it and died).
    const orphan = 'merge-gate/queue/main/99';
    s.repo.branches.set(orphan, before);
    await s.world.kill();
    await s.report(s.runs[0].sha, 'SUCCESS'); // the webhook finds no one: lost
    await restart(s);
    await s.waitFor('both landed', () => pulls.every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor('announced', () => s.announced().length === 1);
    await s.waitFor('the orphan and the landed staging branch deleted', () => s.staging().length === 0);
    expect(s.mainMoves().map((m) => [m.from, m.to])).toEqual([[before, s.runs[0].sha]]);
    expect(s.announced()).toEqual([[before, s.runs[0].sha, [2, 3]]]);
    expect(s.runs).toHaveLength(1);
    landedOnlyTested(s);
  });

  scenario('killed while building a staging branch (the answer to a merge never came): started again, the batch is built again, tested, lands once', policy, async (s) => {
    const pulls = [2, 3].map((n) => s.pull(n));
    const before = s.repo.branches.get('main')!;
    let merges = 0;
    // The second merge into the staging branch is done, its answer held back: the app dies waiting for it.
    s.fake.chaos = ({ method, path }) => (method === 'POST' && decodeURIComponent(path).endsWith(`/repos/${s.full}/merges`) && ++merges === 2 ? { kind: 'late', ms: 60_000 } : null);
    await s.queue(...pulls);
    await s.waitFor('the second staging merge made', () => merges >= 2);
    await s.world.kill();
    s.fake.chaos = null;
    await restart(s);
    await s.waitFor('both landed', () => pulls.every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor('announced', () => s.announced().length === 1);
    await s.waitFor('no staging branch left', () => s.staging().length === 0);
    expect(s.mainMoves()).toHaveLength(1);
    expect(s.mainMoves()[0].from).toBe(before);
    expect(s.announced()).toEqual([[before, s.mainMoves()[0].to, [2, 3]]]);
    landedOnlyTested(s);
  });

  scenario('killed between the fast-forward and its record (the answer to the fast-forward never came): started again, the landing is finished, announced once, nothing moved twice', policy, async (s) => {
    const pulls = [2, 3].map((n) => s.pull(n));
    const before = s.repo.branches.get('main')!;
    s.fake.chaos = ({ method, path }) => (method === 'PATCH' && decodeURIComponent(path).endsWith(`/repos/${s.full}/git/refs/heads/main`) ? { kind: 'late', ms: 60_000 } : null);
    await s.queue(...pulls);
    await s.waitFor('main fast-forwarded', () => s.mainMoves().length === 1, 30_000);
    await s.world.kill();
    s.fake.chaos = null;
    expect(s.announced()).toEqual([]);
    await restart(s);
    await s.waitFor('announced', () => s.announced().length === 1, 30_000);
    await s.waitFor('every check says landed', () => pulls.every((p) => s.title(p).startsWith('Landed as')));
    await s.waitFor('no staging branch left', () => s.staging().length === 0);
    expect(pulls.every((p) => p.state === 'MERGED')).toBe(true);
    expect(s.mainMoves().map((m) => [m.from, m.to])).toEqual([[before, s.runs[0].sha]]);
    expect(s.announced()).toEqual([[before, s.runs[0].sha, [2, 3]]]);
    expect(s.runs).toHaveLength(1);
    landedOnlyTested(s);
  });

  scenario('killed halfway through landing a squash batch (the second merge made, its answer never came): started again, the batch is finished — each pull request merged once, the tree checked, announced once', queuePolicy('batch: 3\nspeculative: 1\nwait: 20s', 'squash'), async (s) => {
    const pulls = [2, 3, 4].map((n) => s.pull(n));
    const before = s.repo.branches.get('main')!;
    s.fake.mergeFault = (pull) => (pull === pulls[1] && !s.merges().some((m) => m.number === 3 && m.merged) ? 'hang-after' : 'none');
    try {
      await s.queue(...pulls);
      await s.waitFor('the second squash made', () => s.merges().some((m) => m.number === 3 && m.merged), 30_000);
      await s.world.kill();
    } finally {
      s.fake.mergeFault = () => 'none';
    }
    expect(s.announced()).toEqual([]);
    await restart(s);
    await s.waitFor('all three merged', () => pulls.every((p) => p.state === 'MERGED'), 30_000);
    await s.waitFor('announced', () => s.announced().length === 1, 30_000);
    await s.waitFor('every check says landed', () => pulls.every((p) => s.title(p).startsWith('Landed as')));
    await s.waitFor('no staging branch left', () => s.staging().length === 0);
    expect(s.merges().filter((m) => m.merged).map((m) => [m.number, m.sha, m.method])).toEqual(pulls.map((p) => [p.number, p.headSha, 'squash']));
    const after = s.repo.branches.get('main')!;
    expect(s.fake.treeOid(s.repo, after)).toBe(s.fake.treeOid(s.repo, s.runs[0].sha)); // main is exactly the tree CI passed
    expect(s.announced()).toEqual([[before, after, [2, 3, 4]]]);
    expect(s.runs).toHaveLength(1);
  });
});
