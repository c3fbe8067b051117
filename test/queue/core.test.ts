// The merge queue's pure core, rule by rule (SPEC §4a; src/queue/core.ts's header).
import { describe as group, expect, test } from '@jest/globals';
import { bisectionLevels, chooseBatchSize } from '../../src/queue/adapt.js';
import { decide, describe, initialQueue, queueStats, resume, type QueueState } from '../../src/queue/core.js';
import type { QueueAction, QueueEvent, QueueSettings } from '../../src/queue/types.js';

const SETTINGS: QueueSettings = { batch: 4, speculative: 3, waitMs: 0, timeoutMs: 60 * 60_000, retries: 1, staging: true };
const T0 = Date.parse('2026-12-05T10:00:00Z');

type Build = Extract<QueueAction, { kind: 'build' }>;
type Land = Extract<QueueAction, { kind: 'land' }>;

/** A queue under test: send events, read the actions of the last one. */
class Q {
  state: QueueState;
  actions: QueueAction[] = [];
  now = T0;
  constructor(readonly settings: QueueSettings = SETTINGS) {
    this.state = initialQueue('main', 'base0');
  }
  send(event: QueueEvent): QueueAction[] {
    const out = decide(this.state, event, this.settings, this.now);
    this.state = out.state;
    this.actions = out.actions;
    return out.actions;
  }
  join(...numbers: number[]): QueueAction[] {
    const all: QueueAction[] = [];
    for (const n of numbers) all.push(...this.send({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: false } }));
    this.actions = all;
    return all;
  }
  of<K extends QueueAction['kind']>(kind: K, actions = this.actions): Extract<QueueAction, { kind: K }>[] {
    return actions.filter((a): a is Extract<QueueAction, { kind: K }> => a.kind === kind);
  }
  builds(actions = this.actions): Build[] {
    return this.of('build', actions);
  }
  /** Answer a build: staging head s<batch>, tree t<batch>. */
  built(b: Build | number): QueueAction[] {
    const id = typeof b === 'number' ? b : b.batch;
    return this.send({ kind: 'built', batch: id, sha: `s${id}`, tree: `t${id}` });
  }
  pass(id: number): QueueAction[] {
    return this.send({ kind: 'checks', batch: id, sha: `s${id}`, outcome: 'success' });
  }
  failCi(id: number): QueueAction[] {
    return this.send({ kind: 'checks', batch: id, sha: `s${id}`, outcome: 'failure', check: 'ci/test', url: 'https://ci/1' });
  }
  nums(b: { pulls: { number: number }[] }): number[] {
    return b.pulls.map((p) => p.number);
  }
}

group('joining and order', () => {
  test('the first batch is built on the base head with up to `batch` pull requests in join order', () => {
    const q = new Q();
    q.join(1, 2, 3, 4, 5);
    const all = q.actions;
    const builds = q.builds(all);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({ batch: 1, ref: 'merge-gate/queue/main/1', onto: 'base0' });
    expect(q.nums(builds[0]).length).toBeGreaterThanOrEqual(1);
    expect(q.nums(builds[0])).toEqual([1, 2, 3, 4].slice(0, builds[0].pulls.length));
  });

  test('priority goes first: a priority pull request joining rebuilds the batches without it', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    const acts = q.send({ kind: 'join', pull: { number: 9, headSha: 'h9', priority: true } });
    expect(q.of('delete', acts).map((a) => a.ref)).toContain('merge-gate/queue/main/1');
    const b = q.builds(acts)[0];
    expect(q.nums(b)).toEqual([9]);
    expect(b.onto).toBe('base0');
    expect(describe(q.state, 1)).toMatchObject({ kind: 'queued', position: 2, of: 3 });
  });

  test('joining again with the same head changes nothing; with a new head it goes to the back and its batch is rebuilt', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    expect(q.send({ kind: 'join', pull: { number: 1, headSha: 'h1', priority: false } })).toEqual([]);
    const acts = q.send({ kind: 'join', pull: { number: 1, headSha: 'h1b', priority: false } });
    expect(q.of('delete', acts)).toHaveLength(1);
    expect(q.nums(q.builds(acts)[0])).toEqual([2]);
    expect(describe(q.state, 1)).toMatchObject({ kind: 'queued', position: 2 });
  });
});

group('staging and speculation', () => {
  test('each batch is built on the staging head of the one ahead, never more than `speculative` at once', () => {
    const q = new Q({ ...SETTINGS, batch: 1, speculative: 2 });
    q.join(1, 2, 3);
    expect(q.builds(q.actions).map((b) => b.onto)).toEqual(['base0']);
    const second = q.builds(q.built(1));
    expect(second).toEqual([expect.objectContaining({ batch: 2, onto: 's1' })]);
    expect(q.builds(q.built(2))).toEqual([]); // two under test: the third waits for a slot
    expect(q.builds(q.pass(1))).toEqual([expect.objectContaining({ batch: 3, onto: 's2' })]);
  });

  test('while the chain is built one batch after another, its coming batches keep their slots: none goes to a less likely hedge', () => {
    const q = new Q({ ...SETTINGS, batch: 1, speculative: 4 });
    q.state.rate = { bad: 100, seen: 1000 }; // 10% failing: the chain's next batches are likelier needed than "#2 without #1"
    q.join(1);
    q.send({ kind: 'build-failed', batch: 1, message: 'API error' }); // builds pause while the rest joins
    q.join(2, 3, 4, 5, 6);
    q.now += 60_000;
    const built: Build[] = [];
    for (let next = q.builds(q.send({ kind: 'tick' })); next.length > 0; next = q.builds(q.built(next[0]))) {
      expect(next.map((b) => [q.nums(b), b.onto])).toEqual([[next[0].pulls.map((p) => p.number), next[0].onto]]);
      built.push(next[0]);
    }
    expect(built.map((b) => [q.nums(b), b.onto])).toEqual([[[1], 'base0'], [[2], 's2'], [[3], 's3'], [[4], 's4']]);
  });

  test('a batch lands only when it passed, is first and holds no held pull request; landed → the next is first', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    q.built(2);
    expect(q.of('land', q.pass(2))).toEqual([]); // batch 2 waits for batch 1
    expect(describe(q.state, 2)).toMatchObject({ kind: 'testing', batch: 2, behind: [1], pending: [] });
    q.send({ kind: 'hold', number: 1, reason: 'freeze "release"' });
    expect(q.of('land', q.pass(1))).toEqual([]);
    expect(describe(q.state, 1)).toMatchObject({ kind: 'landing', batch: 1, held: 'freeze "release"' });
    const land = q.of('land', q.send({ kind: 'hold', number: 1, reason: null }));
    expect(land).toEqual([{ kind: 'land', batch: 1, onto: 'base0', pulls: [{ number: 1, headSha: 'h1', priority: false }], stagingSha: 's1', stagingTree: 't1' }]);
    expect(q.of('land', q.send({ kind: 'landed', batch: 1, after: 's1' }))).toEqual([expect.objectContaining({ batch: 2, onto: 's1', stagingSha: 's2' })]);
    q.send({ kind: 'landed', batch: 2, after: 's2' });
    expect(queueStats(q.state)).toMatchObject({ depth: 0, landed: 2, ciRuns: 2 });
  });

  test('squash: after a landing whose head is not the staging head, the batch behind lands on that head (the shell checked the tree)', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    q.built(2);
    q.pass(2);
    q.pass(1);
    const next = q.of('land', q.send({ kind: 'landed', batch: 1, after: 'squashed1' }));
    expect(next).toEqual([expect.objectContaining({ batch: 2, onto: 'squashed1', stagingSha: 's2' })]);
  });

  test('a batch smaller than its size at the end of the queue waits `waitMs` from its first pull request joining', () => {
    const q = new Q({ ...SETTINGS, batch: 4, waitMs: 30_000 });
    q.state.rate = { bad: 0, seen: 1000 }; // a clean history: the adaptive size is the full 4
    const first = q.join(1);
    expect(q.builds(first)).toEqual([]);
    expect(q.of('wake', first)).toEqual([{ kind: 'wake', at: T0 + 30_000 }]);
    q.now += 10_000;
    expect(q.builds(q.join(2))).toEqual([]);
    q.now = T0 + 30_000;
    expect(q.nums(q.builds(q.send({ kind: 'tick' }))[0])).toEqual([1, 2]);
  });

  test('a full batch does not wait', () => {
    const q = new Q({ ...SETTINGS, batch: 2, waitMs: 30_000 });
    q.state.rate = { bad: 0, seen: 1000 };
    expect(q.nums(q.builds(q.join(1, 2))[0])).toEqual([1, 2]);
  });
});

group('the batch size', () => {
  const at = (rate: number, retries = 1) => chooseBatchSize({ bad: rate * 100_000, seen: 100_000 }, 8, 5, retries);
  test('the size that lands the most per CI run: 8 at 2% failing, 4 at 4%, 2 from 8% to 30% (a batch of one that fails costs its retry)', () => {
    expect([0.02, 0.04, 0.08, 0.1, 0.15, 0.3].map((r) => at(r))).toEqual([8, 4, 2, 2, 2, 2]);
    expect(at(0.5, 0)).toBe(1); // without retries a batch of one costs only its own failure
    expect(chooseBatchSize({ bad: 0, seen: 1000 }, 3, 5, 1)).toBe(3); // never above `batch`
  });

  test('the failure rate counts a batch failing on its own account at once, and the bad pull request found in it no more', () => {
    const q = new Q({ ...SETTINGS, batch: 2, speculative: 3, waitMs: 1000 });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2);
    q.built(1);
    const [first] = q.builds(q.failCi(1));
    expect(q.state.rate.bad).toBe(1);
    const second = q.builds(q.built(first)).find((b) => q.nums(b).join() === '2')!;
    q.built(second);
    q.pass(first.batch);
    expect(q.of('dequeue', q.failCi(second.batch))).toHaveLength(1);
    expect(q.state.rate.bad).toBe(1); // not counted again
  });

  test('bisection levels: 1 for 2, 5/3 for 3, 2 for 4, 3 for 8', () => {
    expect([1, 2, 4, 8].map((k) => bisectionLevels(k))).toEqual([0, 1, 2, 3]);
    expect(bisectionLevels(3)).toBeCloseTo(5 / 3, 12);
  });
});

group('failures', () => {
  /** Batches of 2, #1 and #2 batched together; that batch fails. The answer to the failure: the queue and its actions. */
  const pairFailed = (retries = 1) => {
    const q = new Q({ ...SETTINGS, batch: 2, speculative: 3, waitMs: 1000, retries });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2);
    q.built(1);
    return { q, acts: q.failCi(1) };
  };

  test('a failed batch is bisected: the first half on what it was built on, the second on top of the first', () => {
    const q = new Q({ ...SETTINGS, batch: 4, speculative: 3, waitMs: 1000 });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2, 3, 4, 5);
    expect(q.nums(q.builds(q.actions)[0])).toEqual([1, 2, 3, 4]);
    q.built(1);
    const acts = q.failCi(1);
    expect(q.of('delete', acts).map((a) => a.ref)).toEqual(['merge-gate/queue/main/1']);
    const [half] = q.builds(acts);
    expect(q.nums(half)).toEqual([1, 2]);
    expect(half.onto).toBe('base0');
    const [second] = q.builds(q.built(half));
    expect(q.nums(second)).toEqual([3, 4]);
    expect(second.onto).toBe(`s${half.batch}`);
    expect(q.of('dequeue', acts)).toEqual([]);
    expect(queueStats(q.state).batches.failed).toBe(1);
  });

  test('a pull request failing alone loses its place: the chain behind is rebuilt without it and lands; its retry runs beside it, then it is dequeued with the check, link and staging SHA', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    q.built(2);
    let acts = q.failCi(1); // batch 2 was built on batch 1: rebuilt without #1, on the base; #1's retry beside it (a probe)
    expect(q.builds(acts).map((b) => [q.nums(b), b.onto])).toEqual([[[2], 'base0'], [[1], 'base0']]);
    expect(q.of('dequeue', acts)).toEqual([]);
    expect(q.state.pulls.map((p) => [p.number, p.fails])).toEqual([[2, 0], [1, 1]]);
    const [without, retry] = q.builds(acts);
    q.built(without);
    q.built(retry);
    expect(q.of('land', q.pass(without.batch))).toEqual([expect.objectContaining({ batch: without.batch, onto: 'base0' })]);
    q.send({ kind: 'landed', batch: without.batch, after: `s${without.batch}` });
    acts = q.failCi(retry.batch);
    expect(q.of('dequeue', acts)).toEqual([
      { kind: 'dequeue', number: 1, headSha: 'h1', why: { kind: 'failed', check: 'ci/test', url: 'https://ci/1', stagingSha: `s${retry.batch}`, attempts: 2 } },
    ]);
  });

  test('evidence instead of a retry: a bisection half that fails alone while the rest of its batch passed has failed twice and leaves at once', () => {
    const pairFails = () => {
      const { q, acts } = pairFailed();
      const [first] = q.builds(acts);
      expect(q.nums(first)).toEqual([1]);
      return { q, first, second: q.builds(q.built(first)).find((b) => q.nums(b).join() === '2')! };
    };
    // The second half is bad: the first passed, so the pair's failure was #2's too.
    const a = pairFails();
    a.q.built(a.second);
    a.q.pass(a.first.batch);
    let acts = a.q.failCi(a.second.batch);
    expect(a.q.of('dequeue', acts)).toEqual([
      { kind: 'dequeue', number: 2, headSha: 'h2', why: { kind: 'failed', check: 'ci/test', url: 'https://ci/1', stagingSha: `s${a.second.batch}`, attempts: 1 } },
    ]);
    // The first half is bad: it fails alone, waits as a suspect, and leaves as soon as #2 passes without it (its retry not run).
    const b = pairFails();
    acts = b.q.failCi(b.first.batch);
    expect(b.q.of('dequeue', acts)).toEqual([]);
    expect(b.q.state.pulls.find((p) => p.number === 1)).toMatchObject({ fails: 1, suspect: true });
    const without = b.q.state.batches.find((x) => b.q.nums(x).join() === '2' && x.onto === 'base0')!; // "#2 without #1", hedged
    if (without.state === 'building') b.q.built(without.id);
    acts = b.q.pass(without.id);
    expect(b.q.of('dequeue', acts)).toEqual([
      { kind: 'dequeue', number: 1, headSha: 'h1', why: { kind: 'failed', check: 'ci/test', url: 'https://ci/1', stagingSha: `s${b.first.batch}`, attempts: 1 } },
    ]);
    expect(b.q.state.batches.flatMap((x) => x.pulls.map((p) => p.number))).toEqual([2]); // no retry of #1 stays
    // Its retry waits for #2, whose passing would send it away; only when #2 fails too is #1 tested again.
    const d = pairFails();
    d.q.failCi(d.first.batch);
    expect(d.q.state.batches.filter((x) => d.q.nums(x).includes(1))).toEqual([]);
    const two = d.q.state.batches.find((x) => d.q.nums(x).join() === '2')!;
    if (two.state === 'building') d.q.built(two.id);
    expect(d.q.of('dequeue', d.q.failCi(two.id))).toEqual([]);
    const retry = d.q.state.batches.find((x) => d.q.nums(x).join() === '1');
    expect(retry).toBeDefined();
    // Its retry passes: #1's failure was a flake, and #2 has now failed twice (alone, and the pair with #1 good): it leaves.
    if (retry!.state === 'building') d.q.built(retry!.id);
    expect(d.q.of('dequeue', d.q.pass(retry!.id)).map((x) => x.number)).toEqual([2]);
    expect(d.q.state.pulls.map((p) => p.number)).toEqual([1]);
    // With more retries allowed, the evidence counts one failed run, no more.
    const { q: c, acts: failedActs } = pairFailed(2);
    const [first] = c.builds(failedActs);
    const second = c.builds(c.built(first)).find((x) => c.nums(x).join() === '2')!;
    c.built(second);
    c.pass(first.batch);
    expect(c.of('dequeue', c.failCi(second.batch))).toEqual([]);
    expect(c.state.pulls.find((p) => p.number === 2)).toMatchObject({ fails: 1, suspect: true });
  });

  test('a bisection half that fails alone clears the other half: what follows is built on it, not hedged without it', () => {
    const q = new Q({ ...SETTINGS, batch: 2, speculative: 3, waitMs: 1000 });
    q.state.rate = { bad: 0, seen: 1000 };
    const buildAll = () => {
      for (let b = q.state.batches.find((x) => x.state === 'building'); b; b = q.state.batches.find((x) => x.state === 'building')) q.built(b.id);
    };
    q.join(1, 2, 3, 4, 5, 6, 7, 8);
    buildAll();
    q.failCi(1); // [1, 2] fails: its halves go behind [3, 4] and [5, 6], rebuilt
    buildAll();
    const [below, middle] = [q.state.batches.find((x) => q.nums(x).join() === '3,4')!, q.state.batches.find((x) => q.nums(x).join() === '5,6')!];
    q.pass(below.id);
    q.pass(middle.id);
    buildAll();
    const one = q.state.batches.find((x) => q.nums(x).join() === '1')!;
    q.failCi(one.id); // #1 holds what [1, 2] failed for: #2 is as likely good as any
    buildAll();
    const two = q.state.batches.find((x) => q.nums(x).join() === '2' && !x.probe)!; // (#2's probe, beside the chain, runs on)
    const withSeven = q.state.batches.filter((x) => q.nums(x).includes(7));
    expect(withSeven.length).toBeGreaterThan(0);
    expect(withSeven.map((x) => x.parent)).toEqual(withSeven.map(() => two.id));
  });

  group('a probe: a pull request under suspicion that no batch of the chain holds is tested alone on the base head, beside the chain', () => {
    const pairFails = () => {
      const { q, acts } = pairFailed();
      const [first, probe] = q.builds(acts);
      expect([q.nums(first), first.onto, q.nums(probe), probe.onto]).toEqual([[1], 'base0', [2], 'base0']);
      expect(q.state.batches.find((x) => x.id === probe.batch)?.probe).toBe(true);
      q.built(first);
      q.built(probe);
      return { q, first: first.batch, probe: probe.batch };
    };

    test('its pass clears it; once the one ahead of it has left, it lands as it was tested', () => {
      const { q, first, probe } = pairFails();
      q.pass(probe);
      expect(q.state.pulls.find((p) => p.number === 2)).toMatchObject({ lineage: null, witnesses: null });
      expect(q.of('land', q.actions)).toEqual([]); // #1 is ahead of it
      const acts = q.failCi(first); // #1 failed alone, and the pair failed with #2 good: two failed runs, it leaves
      expect(q.of('dequeue', acts).map((d) => d.number)).toEqual([1]);
      expect(q.of('land', acts)).toEqual([expect.objectContaining({ batch: probe, onto: 'base0', stagingSha: `s${probe}` })]);
    });

    test('one under way runs on while its pull requests are queued with those heads, suspected or not', () => {
      const { q, probe } = pairFails();
      q.send({ kind: 'base-moved', sha: 'pushed' }); // the chain is rebuilt on the new head; the probe's answer still tells
      expect(q.state.batches.find((x) => x.id === probe)?.state).toBe('testing');
      const first = q.state.batches.find((x) => q.nums(x).join() === '1')!;
      expect(first.onto).toBe('pushed');
      q.built(first.id);
      q.failCi(first.id); // #2 is no longer suspected (and first in the queue): its probe, most of it run, is kept
      expect(q.state.pulls.find((p) => p.number === 2)).toMatchObject({ lineage: null });
      expect(q.state.batches.find((x) => x.id === probe)?.state).toBe('testing');
      const acts = q.send({ kind: 'join', pull: { number: 2, headSha: 'h2b', priority: false } }); // its head moved
      expect(q.of('delete', acts).map((d) => d.ref)).toContain(`merge-gate/queue/main/${probe}`);
    });

    test('its failure is a run failed alone: the other half is cleared, and it leaves once that one passes', () => {
      const { q, first, probe } = pairFails();
      expect(q.of('dequeue', q.failCi(probe))).toEqual([]);
      expect(q.state.pulls.find((p) => p.number === 2)).toMatchObject({ fails: 1, suspect: true });
      expect(q.state.pulls.find((p) => p.number === 1)).toMatchObject({ lineage: null });
      expect(q.state.batches.filter((x) => q.nums(x).includes(2))).toEqual([]); // its retry waits for #1's answer
      const acts = q.pass(first);
      expect(q.of('dequeue', acts).map((d) => [d.number, d.why.kind === 'failed' && d.why.stagingSha])).toEqual([[2, `s${probe}`]]);
      expect(q.of('land', acts)).toEqual([expect.objectContaining({ batch: first })]);
    });
  });

  group('the runs on top of a failed batch, which started with it, run on for their evidence', () => {
    const MIN = 60_000;
    /** [1, 2] fails after 30 minutes; [3, 4] and [5, 6], built on it at the same instant, are still running. */
    const chainFails = () => {
      const q = new Q({ ...SETTINGS, batch: 2, speculative: 3, waitMs: 1000 });
      q.state.rate = { bad: 0, seen: 1000 };
      q.join(1, 2, 3, 4, 5, 6, 7, 8);
      for (let b = q.state.batches.find((x) => x.state === 'building'); b; b = q.state.batches.find((x) => x.state === 'building')) q.built(b.id);
      q.now += 30 * MIN;
      const acts = q.failCi(1);
      return { q, acts };
    };
    const buildAll = (q: Q) => {
      for (let b = q.state.batches.find((x) => x.state === 'building'); b; b = q.state.batches.find((x) => x.state === 'building')) q.built(b.id);
    };

    test('they are not cancelled, and their failure saves the retry of the pull request it then counts against', () => {
      const { q, acts } = chainFails();
      expect(q.of('delete', acts).map((d) => d.ref)).toEqual(['merge-gate/queue/main/1']);
      expect(q.state.batches.find((b) => b.id === 2)?.evidence).toEqual({ below: [1, 2], until: T0 + 36 * MIN });
      q.now += 20_000;
      q.failCi(2); // [1, 2, 3, 4] failed too
      q.failCi(3);
      buildAll(q);
      // #1 alone is tested; #2 is not while #1, #3 and #4 are: if they pass, #2 has failed twice with all else good.
      const one = q.state.batches.find((b) => q.nums(b).join() === '1')!;
      expect(q.state.batches.filter((b) => q.nums(b).join() === '2')).toEqual([]);
      q.now += 30 * MIN;
      for (const b of q.state.batches.filter((x) => x.state === 'testing' && !q.nums(x).includes(1))) q.pass(b.id);
      const out = q.of('dequeue', q.pass(one.id));
      expect(out.map((d) => d.number)).toEqual([2]);
      expect(out[0].why).toMatchObject({ kind: 'failed', check: 'ci/test', stagingSha: 's2' });
    });

    test('their pass clears the pull requests below them: the failure was a flake, and they are batched as any others again', () => {
      const { q } = chainFails();
      q.now += 20_000;
      q.pass(2);
      for (const n of [1, 2]) expect(q.state.pulls.find((p) => p.number === n)).toMatchObject({ witnesses: null, moreFailures: [], lineage: null, group: null, cap: null });
      expect(q.state.batches.some((b) => b.id === 2)).toBe(false); // dropped: it does not land
    });

    test('one that has not finished by its deadline is cancelled; a run that started much later is cancelled at once', () => {
      const q = new Q({ ...SETTINGS, batch: 2, speculative: 3, waitMs: 1000 });
      q.state.rate = { bad: 0, seen: 1000 };
      q.join(1, 2, 3, 4, 5, 6);
      q.built(1);
      q.now += 5 * MIN;
      q.built(2); // started 5 minutes after [1, 2]
      q.built(3);
      q.now += 25 * MIN;
      expect(q.of('delete', q.failCi(1)).map((d) => d.ref)).toEqual(['merge-gate/queue/main/1', 'merge-gate/queue/main/2', 'merge-gate/queue/main/3']);
      const r = chainFails();
      r.q.now += 6 * MIN;
      expect(r.q.of('delete', r.q.send({ kind: 'tick' })).map((d) => d.ref)).toEqual(['merge-gate/queue/main/2', 'merge-gate/queue/main/3']);
    });
  });

  test('a pull request seen passing is not made a suspect by a flaky run alone later: the batch that passed lands', () => {
    const q = new Q({ ...SETTINGS, batch: 1, speculative: 2 });
    q.state.rate = { bad: 300, seen: 1000 }; // failures are common: [3] is hedged against [2] failing
    q.join(2);
    q.built(1);
    q.join(3);
    q.built(2); // [3] on [2]
    const hedge = q.builds(q.pass(2)).find((b) => q.nums(b).join() === '3' && b.onto === 'base0')!; // [3] alone, should [2] fail
    q.built(hedge);
    q.failCi(hedge.batch); // a flake: [2, 3] passed
    expect(q.state.pulls.find((p) => p.number === 3)).toMatchObject({ fails: 0, suspect: false });
    q.pass(1);
    const acts = q.send({ kind: 'landed', batch: 1, after: 's1' });
    expect(q.of('land', acts)).toEqual([expect.objectContaining({ batch: 2, onto: 's1' })]);
  });

  test('a retry that passes lands after what overtook it, on top of it', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    const [without] = q.builds(q.failCi(1));
    expect(q.nums(without)).toEqual([2]);
    const [retry] = q.builds(q.built(without));
    q.built(retry);
    expect(q.of('land', q.pass(retry.batch))).toEqual([]); // #2 is ahead of it now
    expect(q.of('land', q.pass(without.batch))).toEqual([expect.objectContaining({ batch: without.batch })]);
    const acts = q.send({ kind: 'landed', batch: without.batch, after: `s${without.batch}` });
    expect(q.of('land', acts)).toEqual([expect.objectContaining({ batch: retry.batch, onto: `s${without.batch}`, pulls: [expect.objectContaining({ number: 1 })] })]);
  });

  test('a failed batch loses its place at once, but is blamed only once the batches below it passed', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2, 3);
    q.built(1);
    q.built(2);
    q.built(3);
    q.failCi(2); // #1 may be what failed it; #2 goes behind #3, under test on top of it
    expect(q.state.pulls.map((p) => [p.number, p.fails, p.suspect])).toEqual([[1, 0, false], [3, 0, false], [2, 0, false]]);
    q.failCi(1); // it was #1: #2 is not blamed
    expect(q.state.pulls.map((p) => [p.number, p.fails])).toEqual([[3, 0], [2, 0], [1, 1]]);

    const r = new Q({ ...SETTINGS, batch: 1 });
    r.join(1, 2);
    r.built(1);
    r.built(2);
    r.failCi(2);
    r.pass(1); // now it is #2's own failure
    expect(r.state.pulls.find((p) => p.number === 2)).toMatchObject({ fails: 1, suspect: true });
    expect(queueStats(r.state).batches.failed).toBe(1);
  });

  test('a failed priority pull request goes behind the priority ones under test, still ahead of the rest', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    for (const n of [1, 2]) q.send({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: true } });
    q.join(3);
    q.built(1);
    q.built(2);
    q.built(3);
    q.failCi(1);
    expect(q.state.pulls.map((p) => p.number)).toEqual([2, 1, 3]);
  });

  test('checks for another SHA than the staging head are ignored', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1);
    q.built(1);
    const before = q.state;
    expect(q.send({ kind: 'checks', batch: 1, sha: 'old', outcome: 'failure', check: 'ci/test', url: null })).toEqual([]);
    expect(q.state).toEqual(before);
  });

  test('a batch whose checks have not concluded by `timeout` fails: tick → retried, then dequeued as timed out', () => {
    const q = new Q({ ...SETTINGS, batch: 1, timeoutMs: 60_000 });
    q.join(1);
    expect(q.of('wake', q.built(1))).toEqual([{ kind: 'wake', at: T0 + 60_000 }]);
    q.send({ kind: 'checks', batch: 1, sha: 's1', outcome: 'pending', pending: ['ci/test'] });
    expect(describe(q.state, 1)).toMatchObject({ kind: 'testing', batch: 1, since: T0, pending: ['ci/test'] });
    q.now += 59_999;
    expect(q.builds(q.send({ kind: 'tick' }))).toEqual([]);
    q.now += 1;
    const [retry] = q.builds(q.send({ kind: 'tick' }));
    q.built(retry);
    q.now += 60_000;
    expect(q.of('dequeue', q.send({ kind: 'tick' }))).toEqual([
      { kind: 'dequeue', number: 1, headSha: 'h1', why: { kind: 'timeout', stagingSha: `s${retry.batch}`, attempts: 2, afterMs: 60_000 } },
    ]);
    expect(queueStats(q.state).batches.timedOut).toBe(2);
  });

  test('a conflict removes only the conflicting pull request, its check saying with what', () => {
    const q = new Q({ ...SETTINGS, batch: 3, waitMs: 1000 });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2, 3);
    expect(q.nums(q.builds(q.actions)[0])).toEqual([1, 2, 3]);
    q.now += 1000; // the wait is over: what is left is batched at once
    const acts = q.send({ kind: 'conflict', batch: 1, number: 2, with: '#1 (src/a.ts)' });
    expect(q.of('dequeue', acts)).toEqual([{ kind: 'dequeue', number: 2, headSha: 'h2', why: { kind: 'conflict', with: '#1 (src/a.ts)' } }]);
    expect(q.nums(q.builds(acts)[0])).toEqual([1, 3]);
    expect(queueStats(q.state).batches.conflicted).toBe(1);
  });

  test('a build that failed is planned again after a pause', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1);
    const acts = q.send({ kind: 'build-failed', batch: 1, message: 'HTTP 502' });
    expect(q.builds(acts)).toEqual([]);
    const wake = q.of('wake', acts)[0];
    q.now = wake.at;
    expect(q.builds(q.send({ kind: 'tick' }))).toEqual([expect.objectContaining({ batch: 2, onto: 'base0' })]);
  });

  test('an answer for a batch the core dropped deletes its staging branch', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1);
    q.send({ kind: 'leave', number: 1, reason: 'closed' });
    expect(q.built(1)).toEqual([{ kind: 'delete', ref: 'merge-gate/queue/main/1' }]);
  });
});

group('the base and landing', () => {
  test('a leave invalidates the batches holding it and those on top; the rest are batched again', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2, 3);
    q.built(1);
    q.built(2);
    const acts = q.send({ kind: 'leave', number: 1, reason: 'not-passing' });
    expect(q.of('delete', acts).map((a) => a.ref).sort()).toEqual(['merge-gate/queue/main/1', 'merge-gate/queue/main/2', 'merge-gate/queue/main/3']);
    expect(q.of('dequeue', acts)).toEqual([]);
    expect(q.builds(acts)).toEqual([expect.objectContaining({ onto: 'base0', pulls: [expect.objectContaining({ number: 2 })] })]);
  });

  test('a push to the base by someone else rebuilds on the new head; the head it expects changes nothing', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1);
    q.built(1);
    expect(q.send({ kind: 'base-moved', sha: 'base0' })).toEqual([]);
    const acts = q.send({ kind: 'base-moved', sha: 'pushed' });
    expect(q.of('delete', acts)).toEqual([{ kind: 'delete', ref: 'merge-gate/queue/main/1' }]);
    expect(q.builds(acts)).toEqual([expect.objectContaining({ batch: 2, onto: 'pushed' })]);
  });

  test('land-failed: base-moved or tree-mismatch rebuild on the head given; recheck waits for the hold; refused bisects', () => {
    const q = new Q({ ...SETTINGS, batch: 2 });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2);
    q.built(1);
    q.pass(1);
    let acts = q.send({ kind: 'land-failed', batch: 1, reason: 'tree-mismatch', message: 'x', merged: [], after: 'hand' });
    expect(q.builds(acts)).toEqual([expect.objectContaining({ onto: 'hand' })]);
    const id = q.builds(acts)[0].batch;
    q.built(id);
    q.pass(id);
    q.send({ kind: 'hold', number: 2, reason: 'trunk unhealthy' });
    acts = q.send({ kind: 'land-failed', batch: id, reason: 'recheck', message: 'held', merged: [], after: 'hand' });
    expect(q.of('land', acts)).toEqual([]);
    acts = q.send({ kind: 'hold', number: 2, reason: null });
    expect(q.of('land', acts)).toEqual([expect.objectContaining({ batch: id })]);
    acts = q.send({ kind: 'land-failed', batch: id, reason: 'refused', message: 'protected branch', merged: [], after: 'hand' });
    // The first half on the base head; the second beside it, on the base head too (a probe: plan.ts).
    expect(q.builds(acts).map((b) => [q.nums(b), b.onto, q.state.batches.find((x) => x.id === b.batch)?.probe ?? false])).toEqual([[[1], 'hand', false], [[2], 'hand', true]]);
  });

  test('squash stopped part way: the merged ones count landed, the rest is rebuilt on the new head', () => {
    const q = new Q({ ...SETTINGS, batch: 2 });
    q.state.rate = { bad: 0, seen: 1000 };
    q.join(1, 2);
    q.built(1);
    q.pass(1);
    const acts = q.send({ kind: 'land-failed', batch: 1, reason: 'tree-mismatch', message: 'x', merged: [1], after: 'm1' });
    expect(q.builds(acts)).toEqual([expect.objectContaining({ onto: 'm1', pulls: [expect.objectContaining({ number: 2 })] })]);
    expect(describe(q.state, 1)).toEqual({ kind: 'absent' });
    expect(queueStats(q.state).landed).toBe(1);
  });

  test('a base-moved to our own landing while it lands waits for the answer', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    q.built(2);
    q.pass(1);
    expect(q.send({ kind: 'base-moved', sha: 's1' }).filter((a) => a.kind !== 'notify')).toEqual([]);
    expect(q.of('delete', q.send({ kind: 'landed', batch: 1, after: 's1' }))).toEqual([]);
    expect(q.state.base).toBe('s1');
  });

  test('a push by someone else while a batch lands is applied after the land answer', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2);
    q.built(1);
    q.built(2);
    q.pass(1);
    q.send({ kind: 'base-moved', sha: 'theirs' });
    const acts = q.send({ kind: 'landed', batch: 1, after: 's1' });
    expect(q.state.base).toBe('theirs');
    expect(q.of('delete', acts)).toEqual([{ kind: 'delete', ref: 'merge-gate/queue/main/2' }]);
  });
});

group('without staging', () => {
  const DIRECT: QueueSettings = { ...SETTINGS, staging: false };
  test('the first pull request not held lands on its own, one at a time; land-failed: it leaves', () => {
    const q = new Q(DIRECT);
    expect(q.of('land', q.join(1))).toEqual([{ kind: 'land', batch: 1, onto: 'base0', pulls: [{ number: 1, headSha: 'h1', priority: false }], stagingSha: null, stagingTree: null }]);
    expect(q.of('land', q.join(2))).toEqual([]); // one at a time
    q.send({ kind: 'hold', number: 2, reason: 'freeze' });
    q.join(3);
    const acts = q.send({ kind: 'landed', batch: 1, after: 'm1' });
    expect(q.of('land', acts)).toEqual([expect.objectContaining({ onto: 'm1', pulls: [expect.objectContaining({ number: 3 })] })]);
    expect(q.builds(acts)).toEqual([]);
    const batch = q.of('land', acts)[0].batch;
    expect(q.of('land', q.send({ kind: 'land-failed', batch, reason: 'recheck', message: 'x', merged: [], after: null }))).toEqual([]);
    expect(describe(q.state, 3)).toEqual({ kind: 'absent' });
    expect(q.of('dequeue', q.actions)).toEqual([]);
    expect(q.of('land', q.send({ kind: 'hold', number: 2, reason: null }))).toEqual([expect.objectContaining({ onto: 'm1', pulls: [expect.objectContaining({ number: 2 })] })]);
  });
});

group('the state', () => {
  test('a round trip through JSON changes no decision; resume redoes what was under way', () => {
    const q = new Q({ ...SETTINGS, batch: 1 });
    q.join(1, 2, 3);
    q.built(1);
    q.pass(1);
    const copy = JSON.parse(JSON.stringify(q.state)) as QueueState;
    const event: QueueEvent = { kind: 'built', batch: 2, sha: 's2', tree: 't2' };
    expect(decide(copy, event, q.settings, q.now)).toEqual(decide(q.state, event, q.settings, q.now));
    expect(resume(q.state).map((a) => a.kind)).toEqual(['land', 'build']);
  });

  test('notify names the pull requests whose check changed', () => {
    const q = new Q({ ...SETTINGS, batch: 1, speculative: 1 });
    q.join(1, 2, 3);
    const acts = q.send({ kind: 'leave', number: 1, reason: 'closed' });
    expect(q.of('notify', acts)).toEqual([{ kind: 'notify', numbers: [2, 3] }]);
    expect(describe(q.state, 3)).toEqual({ kind: 'queued', position: 2, of: 2, branch: 'main', held: null });
    expect(describe(q.state, 2)).toEqual({ kind: 'building', batch: 2, with: [], since: T0 });
  });

  test('decide does not change the state it was given', () => {
    const q = new Q();
    q.join(1);
    const frozen = JSON.stringify(q.state);
    decide(q.state, { kind: 'join', pull: { number: 2, headSha: 'h2', priority: false } }, SETTINGS, T0);
    expect(JSON.stringify(q.state)).toBe(frozen);
  });
});
