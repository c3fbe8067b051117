// Slots are per instance (repository, revision, deploy number): a retried
// revision's new run and its last, still stopping, run each have their own.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type SlotRow } from '../../src/deploy/store.js';

const SHA = 'a'.repeat(40);
const slotOf = (seq: number, pid: number): SlotRow => ({ repository: 'octo/app', sha: SHA, seq, pid, startTime: '1', port: 9000 + seq, dir: `/w/${SHA}-${seq}`, log: `/w/${SHA}.log`, token: `t${seq}` });

describe('slots', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-slots-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one per instance; the newest is the revision\'s slot; forgetting one leaves the other', () => {
    const store = new Store(join(dir, 'deploy.sqlite'));
    store.saveSlot(slotOf(3, 100));
    store.saveSlot(slotOf(5, 200));
    expect(store.slot('octo/app', SHA)).toEqual(slotOf(5, 200));
    store.deleteSlot('octo/app', SHA, 3);
    expect(store.slots()).toEqual([slotOf(5, 200)]);
    store.close();
  });

  it('upgrades a state file from before instances: each slot becomes its revision\'s latest run', () => {
    const file = join(dir, 'deploy.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE revisions (repository TEXT NOT NULL, sha TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER NOT NULL, reason TEXT NOT NULL, started_at INTEGER NOT NULL, deployment_id INTEGER, PRIMARY KEY (repository, sha));
              CREATE TABLE slots (repository TEXT NOT NULL, sha TEXT NOT NULL, pid INTEGER, start_time TEXT, port INTEGER NOT NULL, dir TEXT NOT NULL, log TEXT NOT NULL, token TEXT NOT NULL, PRIMARY KEY (repository, sha));`);
    old.prepare("INSERT INTO revisions VALUES ('octo/app', ?, 7, 'healthy', 0, 'health probe passed', 0, NULL)").run(SHA);
    old.prepare("INSERT INTO slots VALUES ('octo/app', ?, 42, '99', 9001, '/w/old', '/w/old.log', 'tok')").run(SHA);
    old.close();
    const store = new Store(file);
    expect(store.slots()).toEqual([{ repository: 'octo/app', sha: SHA, seq: 7, pid: 42, startTime: '99', port: 9001, dir: '/w/old', log: '/w/old.log', token: 'tok' }]);
    store.close();
    // Opening it again changes nothing.
    const again = new Store(file);
    expect(again.slots()).toHaveLength(1);
    again.close();
  });
});
