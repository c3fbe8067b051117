// One process per state file. Two apps on one OUTBOX_PATH would both retry the
// same deliveries and both land; two deploy triggers on one state would both
// adopt and probe the same services. So each takes, at start, a lock beside the
// state file (`<state>.lock`) and refuses to run without it.
//
// The lock is SQLite's own write lock on that small file, held by a
// transaction that stays open for the life of the process (BEGIN IMMEDIATE,
// never committed). SQLite locks through the operating system (fcntl), so the
// kernel releases it when the process ends however it ends, SIGKILL and
// out-of-memory kills included: no stale lock to clear by hand, and no pid to
// trust after a reboot or in a container where the next process reuses the
// pid. Readers are not blocked, so a refused process reads who holds it from
// the `holder` row the holder wrote. Like every SQLite lock it needs a local
// filesystem (not NFS).
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirs } from '../dirs.js';

export interface StateLock {
  readonly path: string;
  release(): void;
}

/** The connections holding locks: referenced, so that garbage collection never closes one (and drops its lock). */
const holding = new Set<Database.Database>();

/** Another process holds the state: the message is the one line to print. */
export class StateLocked extends Error {
  override name = 'StateLocked';
}

interface Holder {
  pid: number;
  host: string;
  what: string;
  since: string;
}

/** Takes the lock on `statePath` for `what` (e.g. "merge-gate app"), or throws StateLocked naming the holder. */
export function lockState(statePath: string, what: string, now: () => Date = () => new Date()): StateLock {
  if (statePath === ':memory:') return { path: statePath, release: () => undefined }; // nothing to share
  const path = `${statePath}.lock`;
  makeDirs(dirname(path));
  const cannot = (err: unknown) => new Error(`cannot take the lock ${path} on ${statePath}: ${(err as Error).message}; refusing to start without it`);
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw cannot(err);
  }
  /** One step of taking it: held by another process, refuse naming it; any other failure, refuse saying why. */
  const step = (run: () => void): void => {
    try {
      run();
    } catch (err) {
      const busy = (err as { code?: string }).code?.startsWith('SQLITE_BUSY');
      const holder = busy ? readHolder(db) : undefined;
      db.close();
      if (!busy) throw cannot(err);
      const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.what}, since ${holder.since})` : 'another process';
      throw new StateLocked(`${statePath} is in use by ${who}; refusing to start a second process on the same state (lock: ${path})`);
    }
  };
  step(() => {
    db.pragma('busy_timeout = 0'); // held: refuse at once, never wait
    db.pragma('journal_mode = DELETE'); // readers see the holder row while the lock is held
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, what TEXT NOT NULL, since TEXT NOT NULL)');
    db.exec('BEGIN IMMEDIATE');
  });
  // Say who holds it, then hold it: another process may slip in between the two; it then holds the lock and we refuse.
  step(() => {
    db.prepare('DELETE FROM holder').run();
    db.prepare('INSERT INTO holder (pid, host, what, since) VALUES (?, ?, ?, ?)').run(process.pid, hostname(), what, now().toISOString());
    db.exec('COMMIT');
    db.exec('BEGIN IMMEDIATE');
  });
  const held = db;
  holding.add(held);
  return {
    path,
    release() {
      if (!holding.delete(held)) return;
      held.exec('ROLLBACK');
      held.close();
    },
  };
}

/** Who holds the lock, as it wrote itself (undefined if it had not yet, or is writing it now). */
function readHolder(db: Database.Database): Holder | undefined {
  try {
    return db.prepare('SELECT pid, host, what, since FROM holder').get() as Holder | undefined;
  } catch {
    return undefined;
  }
}
