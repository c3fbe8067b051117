// The queue's store and batch journal on real SQLite (src/queue/store.ts,
// journal.ts): state and actions in one transaction, the staging branches and
// dequeued heads noted with them, and a batch landing recorded with its one
// trunk-updated.
import { describe, expect, test } from '@jest/globals';
import { openDb } from '../../src/state/db.js';
import { OutboxStore } from '../../src/outbox/outbox.js';
import { initialQueue } from '../../src/queue/core.js';
import { BatchJournal } from '../../src/queue/journal.js';
import { queueKey, QueueStore, type QueueSetup } from '../../src/queue/store.js';
import { trunkUpdated } from '../../src/land/decide.js';
import type { QueueAction } from '../../src/queue/types.js';

const where = { installationId: 1, repository: 'Octo/App', branch: 'main' };
const setup: QueueSetup = { settings: { batch: 4, speculative: 2, waitMs: 0, timeoutMs: 60_000, retries: 1, staging: true }, method: 'merge', required: ['ci/test'], allowNeutral: false };
const pull = { number: 7, headSha: 'h7', priority: false };

describe('QueueStore', () => {
  test('the state and its actions are written together, builds noted as staging branches of ours and dequeues as heads that do not join again', () => {
    const store = new QueueStore(openDb(':memory:'));
    const actions: QueueAction[] = [
      { kind: 'build', batch: 3, ref: 'merge-gate/queue/main/3', onto: 'b0', pulls: [pull] },
      { kind: 'dequeue', number: 9, headSha: 'h9', why: { kind: 'conflict', with: 'main' } },
    ];
    const saved = store.save(where, initialQueue('main', 'b0'), setup, actions, null, 1);
    const key = queueKey(where);
    expect(store.actions(key)).toEqual(saved);
    expect(store.stagingRefs(key)).toEqual(['merge-gate/queue/main/3']);
    expect(store.dequeued('octo/app#9')).toEqual({ headSha: 'h9', why: { kind: 'conflict', with: 'main' } });
    // The build's answer taken in: the action is gone in the same write.
    store.built(key, 'merge-gate/queue/main/3', 's3');
    store.save(where, initialQueue('main', 'b0'), setup, [], saved[0].id, 2);
    expect(store.actions(key).map((a) => a.action.kind)).toEqual(['dequeue']);
    expect(store.stagingBySha(1, 'octo/app', 's3')).toEqual([{ key, batch: 3 }]);
    expect(store.stagingBySha(2, 'octo/app', 's3')).toEqual([]);
  });

  test('a write that fails half way leaves nothing of it: no state, no action', () => {
    const store = new QueueStore(openDb(':memory:'));
    const poisoned = { kind: 'notify', numbers: [1n] } as unknown as QueueAction; // JSON.stringify throws on a BigInt
    expect(() => store.save(where, initialQueue('main', 'b0'), setup, [{ kind: 'wake', at: 5 }, poisoned], null, 1)).toThrow();
    expect(store.branch(queueKey(where))).toBeNull();
    expect(store.actions(queueKey(where))).toEqual([]);
  });
});

describe('BatchJournal', () => {
  test('a landing is recorded with its one trunk-updated, once; a failed attempt may be made again, an intent not replaced', () => {
    const db = openDb(':memory:');
    const outbox = new OutboxStore(db);
    const journal = new BatchJournal(db, outbox);
    const id = { key: queueKey(where), batch: 3, stagingSha: 's3' };
    const intent = { ...id, installationId: 1, repository: 'Octo/App', branch: 'main', stagingTree: 't3', method: 'merge' as const, before: 'b0', pulls: [{ number: 7, headSha: 'h7', title: 'T', url: 'https://github.com/Octo/App/pull/7', author: 'a' }], targets: ['http://x'], deleteBranch: false };
    expect(journal.intend(intent, 1).state).toBe('intent');
    journal.failed(id, 2);
    expect(journal.intend({ ...intent, before: 'b1' }, 3)).toMatchObject({ state: 'intent', before: 'b1' });
    expect(journal.intend({ ...intent, before: 'b2' }, 4).before).toBe('b1'); // an intent under way is kept
    let n = 0;
    const event = () => trunkUpdated({ id: `e${++n}`, repository: 'Octo/App', branch: 'main', before: 'b1', after: 's3', pull_requests: [{ number: 7, title: 'T', url: 'u', author: 'a', head_sha: 'h7' }], landed_at: '2026-12-05T04:00:00Z' });
    expect(journal.landed(id, 's3', event, 5).fresh).toBe(true);
    expect(journal.landed(id, 's3', event, 6).fresh).toBe(false);
    expect(outbox.all().map((d) => [d.eventId, d.target])).toEqual([['e1', 'http://x']]);
    expect(journal.untidied().map((r) => r.batch)).toEqual([3]);
    journal.tidied(id);
    expect(journal.untidied()).toEqual([]);
  });
});
