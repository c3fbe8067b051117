// What the queue's check says about CI on a staging branch (src/queue/describe.ts):
// "pending" only once CI reported a required check there; before, it waits for
// CI to start (the shell tells the core an empty pending list until then).
import { expect, test } from '@jest/globals';
import { decide, describe, initialQueue, type QueueState } from '../../src/queue/core.js';
import type { QueueEvent, QueueSettings } from '../../src/queue/types.js';

const SETTINGS: QueueSettings = { batch: 4, speculative: 3, waitMs: 0, timeoutMs: 60 * 60_000, retries: 1, staging: true };
const T0 = Date.parse('2026-12-05T10:00:00Z');

function run(events: QueueEvent[]): QueueState {
  let s = initialQueue('main', 'base0');
  for (const e of events) s = decide(s, e, SETTINGS, T0).state;
  return s;
}

const joined: QueueEvent[] = [{ kind: 'join', pull: { number: 1, headSha: 'h1', priority: false } }, { kind: 'built', batch: 1, sha: 's1', tree: 't1' }];

test('built, CI silent: testing, not started, nothing pending', () => {
  expect(describe(run(joined), 1)).toMatchObject({ kind: 'testing', batch: 1, pending: [], started: false });
  // A read before CI reported anything required (another check on the staging head; a restart) says the same.
  expect(describe(run([...joined, { kind: 'checks', batch: 1, sha: 's1', outcome: 'pending', pending: [] }]), 1)).toMatchObject({ pending: [], started: false });
});

test('CI reported a required check: started, and what is pending', () => {
  expect(describe(run([...joined, { kind: 'checks', batch: 1, sha: 's1', outcome: 'pending', pending: ['ci/test'] }]), 1)).toMatchObject({ pending: ['ci/test'], started: true });
});

test('passed and waiting for a batch ahead: started (it is not waiting for CI)', () => {
  const first: QueueEvent[] = [1, 2].map((n): QueueEvent => ({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: false } }));
  first.push({ kind: 'built', batch: 1, sha: 's1', tree: 't1' });
  // With the prior failure rate the queue starts with batches of one: #2's batch is built on #1's staging head.
  const b = run(first).batches.find((x) => x.pulls.some((p) => p.number === 2))!;
  expect(b.parent).toBe(1);
  const passed = run([...first, { kind: 'built', batch: b.id, sha: `s${b.id}`, tree: 't' }, { kind: 'checks', batch: b.id, sha: `s${b.id}`, outcome: 'success' }]);
  expect(describe(passed, 2)).toMatchObject({ kind: 'testing', pending: [], started: true, behind: [1] });
  expect(describe(passed, 1)).toMatchObject({ kind: 'testing', pending: [], started: false, behind: [] });
});

test('in a batch of the chain and in a probe (plan.ts): the check names the batch of the chain, where it would land', () => {
  const events: QueueEvent[] = [1, 2].map((n): QueueEvent => ({ kind: 'join', pull: { number: n, headSha: `h${n}`, priority: false } }));
  events.push({ kind: 'built', batch: 1, sha: 's1', tree: 't1' }, { kind: 'built', batch: 2, sha: 's2', tree: 't2' });
  events.push({ kind: 'checks', batch: 1, sha: 's1', outcome: 'failure', check: 'ci/test', url: null }); // #1 failed alone
  const [chain, probe] = run(events).batches;
  expect([chain.pulls[0].number, chain.onto, probe.pulls[0].number, probe.onto, probe.probe]).toEqual([2, 'base0', 1, 'base0', true]);
  events.push({ kind: 'built', batch: chain.id, sha: `s${chain.id}`, tree: 't' }, { kind: 'built', batch: probe.id, sha: `s${probe.id}`, tree: 't' });
  events.push({ kind: 'checks', batch: chain.id, sha: `s${chain.id}`, outcome: 'success' }, { kind: 'landed', batch: chain.id, after: `s${chain.id}` });
  // #1's retry is built on the new base head; its probe, on the old one, runs on.
  const s = run(events);
  const retry = s.batches.find((x) => !x.probe && x.pulls[0].number === 1)!;
  expect(s.batches.find((x) => x.id === probe.id)?.state).toBe('testing');
  expect(describe(s, 1)).toMatchObject({ kind: 'building', batch: retry.id });
});
