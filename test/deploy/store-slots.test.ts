// Slots are per instance (repository, revision, deploy number): a retried
// revision's new run and its last, still stopping, run each have their own.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashToken, Store, tokenMatches, type SlotRow } from '../../src/deploy/store.js';

const SHA = 'a'.repeat(40);
const slotOf = (seq: number, pid: number): SlotRow => ({ repository: 'octo/app', sha: SHA, seq, pid, startTime: '1', port: 9000 + seq, dir: `/w/${SHA}-${seq}`, log: `/w/${SHA}.log`, tokenHash: hashToken(`t${seq}`), cgroup: null });

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
    expect(store.slots()).toEqual([{ repository: 'octo/app', sha: SHA, seq: 7, pid: 42, startTime: '99', port: 9001, dir: '/w/old', log: '/w/old.log', tokenHash: hashToken('tok'), cgroup: null }]);
    store.close();
    // Opening it again changes nothing.
    const again = new Store(file);
    expect(again.slots()).toHaveLength(1);
    again.close();
  });

  it('upgrades a state file with plain signal tokens: each is hashed at open, none is left in the file', () => {
    const file = join(dir, 'deploy.sqlite');
    const token = 'f'.repeat(47) + 'e';
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(`CREATE TABLE revisions (repository TEXT NOT NULL, sha TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER NOT NULL, reason TEXT NOT NULL, started_at INTEGER NOT NULL, deployment_id INTEGER, PRIMARY KEY (repository, sha));
              CREATE TABLE slots (repository TEXT NOT NULL, sha TEXT NOT NULL, seq INTEGER NOT NULL, pid INTEGER, start_time TEXT, port INTEGER NOT NULL, dir TEXT NOT NULL, log TEXT NOT NULL, token TEXT NOT NULL, PRIMARY KEY (repository, sha, seq));`);
    old.prepare("INSERT INTO slots VALUES ('octo/app', ?, 3, 42, '99', 9001, '/w/a-3', '/w/a.log', ?)").run(SHA, token);
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    expect(readFileSync(file).includes(token)).toBe(true); // the test can see a plain token

    const store = new Store(file);
    const [slot] = store.slots();
    expect(slot).toMatchObject({ seq: 3, pid: 42, tokenHash: hashToken(token) });
    expect([tokenMatches(slot.tokenHash, token), tokenMatches(slot.tokenHash, 'x'.repeat(48)), tokenMatches(slot.tokenHash, '')]).toEqual([true, false, false]);
    store.close();
    for (const f of [file, `${file}-wal`]) expect(statSync(f, { throwIfNoEntry: false }) ? readFileSync(f).includes(token) : false).toBe(false);
  });

  it('creates the state file 0600 in a folder 0700, and tightens an existing file', () => {
    const file = join(dir, 'state', 'deploy.sqlite');
    new Store(file).close();
    expect([statSync(join(dir, 'state')).mode & 0o777, statSync(file).mode & 0o777]).toEqual([0o700, 0o600]);
    const before = join(dir, 'before.sqlite');
    writeFileSync(before, '', { mode: 0o644 });
    new Store(before).close();
    expect(statSync(before).mode & 0o777).toBe(0o600);
  });
});
