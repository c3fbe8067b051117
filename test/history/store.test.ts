// The evaluation history in real SQLite (src/history/store.ts): identical
// evaluations fold, at most N rows per pull request, newest first, pruned
// after a month without an evaluation; kept across a reopen of the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { EvaluationHistory } from '../../src/history/store.js';
import type { EvaluationRecord } from '../../src/pages/types.js';
import { openDb, type Db } from '../../src/state/db.js';
import { evaluationAt } from './records.js';

const count = (db: Db) => (db.prepare('SELECT COUNT(*) AS n FROM pull_evaluations').get() as { n: number }).n;

describe('EvaluationHistory', () => {
  const dbs: Db[] = [];
  const open = (path = ':memory:') => {
    const db = openDb(path);
    dbs.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
  });

  test('an identical evaluation folds into the latest: lastAt, seen, causes merged; a different one adds a row', () => {
    const history = new EvaluationHistory(open());
    history.record(evaluationAt(1000, { causes: ['pull_request.opened'] }));
    history.record(evaluationAt(2000, { causes: ['status'] }));
    history.record(evaluationAt(3000, { causes: ['status', 'check_run.completed'], title: 'Renamed' })); // an edited title is no new evaluation
    expect(history.list('acme/widgets', 42)).toEqual([
      { ...evaluationAt(1000), title: 'Renamed', lastAt: 3000, seen: 3, causes: ['pull_request.opened', 'status', 'check_run.completed'] },
    ]);
    history.record(evaluationAt(4000, { outcome: 'pass', causes: ['pull_request_review.submitted'] }));
    const list = history.list('ACME/Widgets', 42);
    expect(list.map((r) => [r.at, r.outcome, r.seen])).toEqual([[4000, 'pass', 1], [1000, 'fail', 3]]);
    expect(history.latest('acme/widgets', 42)?.at).toBe(4000);
    expect(history.latest('acme/widgets', 43)).toBeNull();
  });

  test('causes stay bounded when many fold', () => {
    const history = new EvaluationHistory(open());
    for (let i = 0; i < 30; i++) history.record(evaluationAt(1000 + i, { causes: [`event${i}`] }));
    const [only] = history.list('acme/widgets', 42);
    expect(only.seen).toBe(30);
    expect(only.causes).toHaveLength(8);
    expect(only.causes.at(-1)).toBe('event29');
  });

  test('at most N rows per pull request, the oldest deleted; other pull requests untouched', () => {
    const db = open();
    const history = new EvaluationHistory(db, { perPull: 5 });
    history.record(evaluationAt(1, { number: 7 }));
    for (let i = 0; i < 12; i++) history.record(evaluationAt(100 + i, { headSha: `${i}`.padStart(40, 'd') }));
    const list = history.list('acme/widgets', 42);
    expect(list.map((r) => r.at)).toEqual([111, 110, 109, 108, 107]);
    expect(history.list('acme/widgets', 7)).toHaveLength(1);
    expect(count(db)).toBe(6);
  });

  test('prune forgets pull requests not evaluated for a month, whole', () => {
    const db = open();
    const DAY = 86_400_000;
    const history = new EvaluationHistory(db, { forgetAfterMs: 30 * DAY });
    history.record(evaluationAt(0, { number: 1 }));
    history.record(evaluationAt(1, { number: 1, outcome: 'pass' }));
    history.record(evaluationAt(0, { number: 2 }));
    history.record(evaluationAt(20 * DAY, { number: 2, outcome: 'pass' }));
    expect(history.prune(40 * DAY)).toBe(2);
    expect(history.list('acme/widgets', 1)).toEqual([]);
    expect(history.list('acme/widgets', 2)).toHaveLength(2);
    // Recording prunes by itself, at most hourly.
    history.record(evaluationAt(60 * DAY, { number: 3 }));
    expect(history.list('acme/widgets', 2)).toEqual([]);
  });

  test('kept in a file across a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    try {
      const path = join(dir, 'state.db');
      const first = open(path);
      new EvaluationHistory(first).record(evaluationAt(1000));
      first.close();
      dbs.splice(dbs.indexOf(first), 1);
      const again: EvaluationRecord[] = new EvaluationHistory(open(path)).list('acme/widgets', 42);
      expect(again).toEqual([evaluationAt(1000)]);
    } finally {
      for (const db of dbs.splice(0)) db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
