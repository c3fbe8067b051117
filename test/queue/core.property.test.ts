// Properties of the merge queue's core (SPEC §4a), driven through the model of
// GitHub and CI in test/helpers/queue-model.ts, which checks at every landing
// that what lands passed CI as that exact tree on the base head of that moment,
// in queue order (priority first), each pull request at most once, never a bad
// one, never a held one. fast-check draws the story: pull requests joining
// (some bad: they fail every run they are in), leaving (an approval
// dismissed), held and released (a freeze), joining again with a new head,
// pushes to the base by others, CI results (flaky failures among them), a shell
// answering the actions it was given in any order, timeouts, and crashes (the
// state through JSON, answers under way lost, what was under way redone). At
// the end every hold is released and the shell answers everything: the queue
// empties, every good pull request that did not leave has landed, every bad one
// left failed, nothing was lost.
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { QueueAction, QueueEvent, QueueSettings } from '../../src/queue/types.js';
import { QueueModel, type Method } from '../helpers/queue-model.js';

const MIN = 60_000;

type Command =
  | { kind: 'join'; n: number; bad: boolean; priority: boolean }
  | { kind: 'rejoin'; n: number }
  | { kind: 'leave'; n: number }
  | { kind: 'hold'; n: number; on: boolean }
  | { kind: 'push' }
  | { kind: 'answer'; i: number; flaky: boolean; conflict: boolean }
  | { kind: 'time'; minutes: number }
  | { kind: 'crash'; applied: boolean };

const oneIn = (n: number) => fc.integer({ min: 1, max: n }).map((x) => x === 1);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('join' as const), n: fc.integer({ min: 1, max: 12 }), bad: oneIn(4), priority: oneIn(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rejoin' as const), n: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), n: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hold' as const), n: fc.integer({ min: 1, max: 12 }), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('push' as const) }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('answer' as const), i: fc.nat(), flaky: oneIn(7), conflict: oneIn(16) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), minutes: fc.integer({ min: 1, max: 45 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), applied: fc.boolean() }) },
);

/** What the shell still owes the core: answers to actions, CI results (time passes by the `time` command: ticks). */
type Owed = { kind: 'action'; action: QueueAction } | { kind: 'ci'; batch: number; sha: string };

function run(commands: Command[], settings: QueueSettings, method: Method): QueueModel {
  const model = new QueueModel(settings, method);
  let now = Date.parse('2026-12-05T10:00:00Z');
  let owed: Owed[] = [];
  const heads = new Map<number, number>();
  const take = (actions: QueueAction[]) => {
    for (const a of actions) if (a.kind === 'build' || a.kind === 'land') owed.push({ kind: 'action', action: a });
  };
  const send = (e: QueueEvent) => take(model.send(e, now));
  const answer = (o: Owed, flaky: boolean, conflict: boolean) => {
    if (o.kind === 'ci') return send(model.ci(o.batch, o.sha, flaky));
    const a = o.action;
    if (a.kind === 'land') return send(model.land(a, now));
    if (a.kind !== 'build') return;
    const built = model.build(a, (p) => (conflict && p === a.pulls.at(-1) && a.pulls.length > 0 ? `#${a.pulls[0].number}` : null));
    send(built);
    if (built.kind === 'built') owed.push({ kind: 'ci', batch: a.batch, sha: built.sha });
  };
  const join = (n: number, priority: boolean) => {
    const v = (heads.get(n) ?? 0) + 1;
    heads.set(n, v);
    send({ kind: 'join', pull: { number: n, headSha: `h${n}.${v}`, priority } });
  };

  for (const c of commands) {
    switch (c.kind) {
      case 'join':
        if (model.landedAt.has(c.n) || model.queued.has(c.n) || model.dequeued.has(c.n)) break;
        if (c.bad) model.bad.add(c.n);
        model.left.delete(c.n);
        join(c.n, c.priority);
        break;
      case 'rejoin':
        if (model.queued.has(c.n)) join(c.n, model.queued.get(c.n)!.priority);
        break;
      case 'leave':
        if (model.queued.has(c.n)) send({ kind: 'leave', number: c.n, reason: 'not-passing' });
        break;
      case 'hold':
        if (model.queued.has(c.n)) send({ kind: 'hold', number: c.n, reason: c.on ? 'freeze' : null });
        break;
      case 'push':
        send({ kind: 'base-moved', sha: model.push(`x${now}`) });
        break;
      case 'answer':
        if (owed.length > 0) answer(owed.splice(c.i % owed.length, 1)[0], c.flaky, c.conflict);
        break;
      case 'time':
        now += c.minutes * MIN;
        send({ kind: 'tick' });
        break;
      case 'crash': {
        // What was under way may have happened on GitHub before the crash (a landing, a staging branch built and its CI started);
        // its answer is lost either way.
        if (c.applied) {
          for (const o of owed) {
            if (o.kind !== 'action') continue;
            if (o.action.kind === 'land') model.land(o.action, now);
            if (o.action.kind === 'build') {
              const built = model.build(o.action);
              if (built.kind === 'built') owed.push({ kind: 'ci', batch: built.batch, sha: built.sha });
            }
          }
        }
        owed = owed.filter((o) => o.kind === 'ci');
        take(model.restart());
        break;
      }
    }
  }
  // The end: holds released, every answer given in order, no more flakes.
  for (const n of [...model.held]) if (model.queued.has(n)) send({ kind: 'hold', number: n, reason: null });
  for (let steps = 0; owed.length > 0 || (model.state.pulls.length > 0 && model.state.wakeAt !== null); steps++) {
    if (steps > 5000) model.violation(`the queue does not settle: ${JSON.stringify(owed.slice(0, 5))}`);
    if (owed.length > 0) answer(owed.shift()!, false, false);
    else {
      now = Math.max(now, model.state.wakeAt!); // only waits and timeouts are left: time passes
      send({ kind: 'tick' });
    }
  }
  model.checkNothingLost();
  if (model.state.pulls.length > 0) model.violation(`still queued at the end: ${model.state.pulls.map((p) => p.number).join(' ')}`);
  for (const n of model.bad) if (model.landedAt.has(n)) model.violation(`bad #${n} landed`);
  return model;
}

const SETTINGS = fc.record({
  batch: fc.integer({ min: 1, max: 5 }),
  speculative: fc.integer({ min: 1, max: 4 }),
  waitMs: fc.constantFrom(0, 5 * MIN),
  timeoutMs: fc.constantFrom(30 * MIN, 90 * MIN),
  retries: fc.integer({ min: 0, max: 2 }),
  staging: fc.constant(true),
});

test('what lands passed CI as that exact tree on the base head, in queue order, once, never a bad or held pull request; nothing is lost', () => {
  const seen = { landed: 0, batchesLanded: 0, bisected: 0, dequeued: 0, timedOut: 0, conflicted: 0 };
  fc.assert(
    fc.property(fc.array(command, { minLength: 10, maxLength: 150 }), SETTINGS, fc.constantFrom<Method>('merge', 'squash'), (commands, settings, method) => {
      const model = run(commands, settings, method);
      const stats = model.state.stats;
      seen.landed += stats.landed;
      seen.batchesLanded += new Set(model.landing.keys()).size;
      seen.bisected += model.log.filter((l) => /"kind":"checks".*"failure"/.test(l) && /"build"/.test(l.split('→')[1])).length;
      seen.dequeued += model.dequeued.size;
      seen.timedOut += stats.batches.timedOut;
      seen.conflicted += stats.batches.conflicted;
    }),
    { numRuns: 1000 },
  );
  // The stories reach what they are meant to test.
  expect(seen.landed).toBeGreaterThan(seen.batchesLanded);
  for (const [what, count] of Object.entries(seen)) expect([what, count >= 10]).toEqual([what, true]);
});

test('without staging: one at a time, in queue order, skipping held ones; nothing is lost', () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 10, maxLength: 100 }), (commands) => {
      // No CI of the queue's own: bad pull requests are the gate's business here.
      const model = run(commands.map((c) => (c.kind === 'join' ? { ...c, bad: false } : c)), { batch: 1, speculative: 1, waitMs: 0, timeoutMs: 60 * MIN, retries: 0, staging: false }, 'squash');
      expect(model.state.batches).toEqual([]);
    }),
    { numRuns: 200 },
  );
});
