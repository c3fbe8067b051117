// What accepted webhooks asked the gate to do, kept in the app's state
// database until done. GitHub does not redeliver a webhook the app answered
// 2xx, so without this an event the process accepted and then died before
// acting on (a crash, a SIGKILL, a redeploy) was lost until the pull
// request's next event. At start the gate asks for each one again.
//
// Four kinds, as the handlers ask: evaluate a pull request; find the pull
// requests whose head is a SHA (a check or status event); re-evaluate a
// repository (its policy changed) or an installation (the organisation's
// policy changed). One row per request key, written when it first becomes
// pending and removed when the work covering every request for it succeeded:
// a burst of events costs two writes, not one per event.
import type { Db } from '../state/db.js';
import type { PullRef } from '../github/pull-ref.js';

export type PendingRequest =
  | { kind: 'pull'; ref: PullRef }
  | { kind: 'head'; installationId: number; owner: string; repo: string; sha: string }
  | { kind: 'repository'; installationId: number; owner: string; repo: string }
  | { kind: 'installation'; installationId: number };

/** What the gate needs from the journal of pending requests. */
export interface PendingJournal {
  /** The request is pending (idempotent per key). */
  add(key: string, request: PendingRequest): void;
  /** The work covering every request with this key succeeded (or is moot). */
  remove(key: string): void;
  /** Everything pending, oldest first: what a restart asks for again. */
  all(): PendingRequest[];
}

interface Row {
  kind: PendingRequest['kind'];
  installation_id: number;
  owner: string | null;
  repo: string | null;
  number: number | null;
  sha: string | null;
}

function fromRow(r: Row): PendingRequest | null {
  const installationId = r.installation_id;
  if (r.kind === 'installation') return { kind: 'installation', installationId };
  if (r.owner === null || r.repo === null) return null;
  const repo = { installationId, owner: r.owner, repo: r.repo };
  if (r.kind === 'repository') return { kind: 'repository', ...repo };
  if (r.kind === 'head' && r.sha !== null) return { kind: 'head', ...repo, sha: r.sha };
  if (r.kind === 'pull' && r.number !== null) return { kind: 'pull', ref: { ...repo, number: r.number } };
  return null; // a row this version does not know: skipped, never a crash at start
}

export class PendingRequests implements PendingJournal {
  private readonly insert;
  private readonly delete;
  private readonly select;

  constructor(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS pending_requests (
      key TEXT PRIMARY KEY,              -- the gate's queue key for the request
      kind TEXT NOT NULL,                -- pull | head | repository | installation
      installation_id INTEGER NOT NULL,
      owner TEXT,
      repo TEXT,
      number INTEGER,                    -- pull
      sha TEXT,                          -- head
      since INTEGER NOT NULL             -- insertion order, for "oldest first"
    )`);
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO pending_requests (key, kind, installation_id, owner, repo, number, sha, since)
       VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(since), 0) + 1 FROM pending_requests))`,
    );
    this.delete = db.prepare('DELETE FROM pending_requests WHERE key = ?');
    this.select = db.prepare('SELECT kind, installation_id, owner, repo, number, sha FROM pending_requests ORDER BY since');
  }

  add(key: string, request: PendingRequest): void {
    const where = request.kind === 'pull' ? request.ref : request;
    this.insert.run(
      key,
      request.kind,
      where.installationId,
      'owner' in where ? where.owner : null,
      'repo' in where ? where.repo : null,
      request.kind === 'pull' ? request.ref.number : null,
      request.kind === 'head' ? request.sha : null,
    );
  }

  remove(key: string): void {
    this.delete.run(key);
  }

  all(): PendingRequest[] {
    return (this.select.all() as Row[]).map(fromRow).filter((r): r is PendingRequest => r !== null);
  }
}
