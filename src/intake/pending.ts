// Pull requests an accepted webhook asked to evaluate, kept in the app's state
// database until an evaluation has seen every request for them. GitHub does not
// redeliver a webhook the app answered 2xx, so without this an event the
// process accepted and then died before acting on (a crash, a SIGKILL, a
// redeploy) was lost until the pull request's next event. At start the gate
// asks for each one again. One row per pull request, written when it first
// becomes pending and removed when an evaluation covering it succeeds: a burst
// of events costs two writes, not one per event.
import type { Db } from '../outbox/db.js';
import type { PullRef } from '../github/gate.js';

/** What the gate needs from the journal of pending evaluations. */
export interface PendingJournal {
  /** The pull request is to be evaluated (idempotent). */
  add(key: string, ref: PullRef): void;
  /** An evaluation covering every request for it succeeded, or it closed. */
  remove(key: string): void;
  /** Everything pending, oldest first: what a restart evaluates again. */
  all(): PullRef[];
}

export class PendingEvaluations implements PendingJournal {
  private readonly insert;
  private readonly delete;
  private readonly select;

  constructor(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS pending_evaluations (
      pull TEXT PRIMARY KEY,             -- the gate's key: installation:owner/repo#number, lower case
      installation_id INTEGER NOT NULL,
      owner TEXT NOT NULL,
      repo TEXT NOT NULL,
      number INTEGER NOT NULL,
      since INTEGER NOT NULL             -- insertion order, for "oldest first"
    )`);
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO pending_evaluations (pull, installation_id, owner, repo, number, since)
       VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(since), 0) + 1 FROM pending_evaluations))`,
    );
    this.delete = db.prepare('DELETE FROM pending_evaluations WHERE pull = ?');
    this.select = db.prepare('SELECT installation_id, owner, repo, number FROM pending_evaluations ORDER BY since');
  }

  add(key: string, ref: PullRef): void {
    this.insert.run(key, ref.installationId, ref.owner, ref.repo, ref.number);
  }

  remove(key: string): void {
    this.delete.run(key);
  }

  all(): PullRef[] {
    return (this.select.all() as Array<{ installation_id: number; owner: string; repo: string; number: number }>).map((r) => ({
      installationId: r.installation_id,
      owner: r.owner,
      repo: r.repo,
      number: r.number,
    }));
  }
}
