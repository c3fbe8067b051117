// What accepted webhooks asked the gate to do, kept in the app's state
// database until done. GitHub does not redeliver a webhook the app answered
// 2xx, so without this an event the process accepted and then died before
// acting on (a crash, a SIGKILL, a redeploy) was lost until the pull
// request's next event. At start the gate asks for each one again.
//
// Five kinds, as the handlers ask: evaluate a pull request; find the pull
// requests whose head is a SHA (a check or status event); re-evaluate a
// repository (its policy changed) or an installation (the organisation's
// policy changed); react to a deployment status (the trunk loop: holds, a
// revert). One row per request key, written when it first becomes pending and
// removed when the work covering every request for it succeeded: a burst of
// events costs two writes, not one per event. The table lives in
// src/state/db.ts.
//
// A write that fails (a full disk, another process holding the write lock)
// never throws at the caller: it is logged, counted (src/state/failures.ts),
// kept in memory and tried again after 1 s, 2 s, … up to a minute. While an
// accepted request is not on disk, `unrecorded()` says so and the webhook
// handlers answer 503 (src/github/app.ts): GitHub shows a failed delivery
// that can be redelivered, instead of work a crash would lose silently.
import type { Db } from '../state/db.js';
import type { PullRef } from '../github/pull-ref.js';
import { systemTimers, type TimerHandle, type Timers } from '../clock.js';
import { WRITE_RETRY, writeFailed } from '../state/failures.js';

export type PendingRequest =
  | { kind: 'pull'; ref: PullRef }
  | { kind: 'head'; installationId: number; owner: string; repo: string; sha: string }
  | { kind: 'repository'; installationId: number; owner: string; repo: string }
  | { kind: 'installation'; installationId: number }
  | { kind: 'deployment'; installationId: number; owner: string; repo: string; environment: string; state: string };

/** What the gate needs from the journal of pending requests. */
export interface PendingJournal {
  /** The request is pending (idempotent per key). Never throws: a failed write is kept and retried. */
  add(key: string, request: PendingRequest): void;
  /** The work covering every request with this key succeeded (or is moot). Never throws. */
  remove(key: string): void;
  /** Everything pending, oldest first: what a restart asks for again. */
  all(): PendingRequest[];
  /** Accepted requests not on disk yet (their write failed and is being retried). */
  unrecorded?(): number;
}

interface Row {
  kind: PendingRequest['kind'];
  installation_id: number;
  owner: string | null;
  repo: string | null;
  number: number | null;
  sha: string | null;
  environment: string | null;
  state: string | null;
}

function fromRow(r: Row): PendingRequest | null {
  const installationId = r.installation_id;
  if (r.kind === 'installation') return { kind: 'installation', installationId };
  if (r.owner === null || r.repo === null) return null;
  const repo = { installationId, owner: r.owner, repo: r.repo };
  if (r.kind === 'repository') return { kind: 'repository', ...repo };
  if (r.kind === 'head' && r.sha !== null) return { kind: 'head', ...repo, sha: r.sha };
  if (r.kind === 'pull' && r.number !== null) return { kind: 'pull', ref: { ...repo, number: r.number } };
  if (r.kind === 'deployment' && r.environment !== null && r.state !== null) return { kind: 'deployment', ...repo, environment: r.environment, state: r.state };
  return null; // a row this version does not know: skipped, never a crash at start
}

export interface PendingRequestsOptions {
  /** Where a failed write is reported (the app's log). */
  log?: { error(obj: object, msg: string): void };
  /** For the retries of failed writes. */
  timers?: Timers;
}

export class PendingRequests implements PendingJournal {
  private readonly insert;
  private readonly delete;
  private readonly select;
  /** Accepted, but the write failed: retried until written (or done meanwhile). */
  private readonly unwritten = new Map<string, PendingRequest>();
  /** Done, but the delete failed: retried (a row left behind only costs a re-evaluation at start). */
  private readonly undeleted = new Set<string>();
  private retryTimer: TimerHandle | null = null;
  private retryMs: number = WRITE_RETRY.firstMs;
  private readonly log;
  private readonly timers;

  constructor(
    private readonly db: Db,
    options: PendingRequestsOptions = {},
  ) {
    this.log = options.log ?? { error: (obj: object, msg: string) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`) };
    this.timers = options.timers ?? systemTimers;
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO pending_requests (key, kind, installation_id, owner, repo, number, sha, environment, state, since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(since), 0) + 1 FROM pending_requests))`,
    );
    this.delete = db.prepare('DELETE FROM pending_requests WHERE key = ?');
    this.select = db.prepare('SELECT kind, installation_id, owner, repo, number, sha, environment, state FROM pending_requests ORDER BY since');
  }

  add(key: string, request: PendingRequest): void {
    this.undeleted.delete(key); // pending again: its row, if the delete failed, is right where it should be
    try {
      this.write(key, request);
    } catch (err) {
      writeFailed(this.db, this.log, 'pending_request', err, { key, request });
      this.unwritten.set(key, request);
      this.retrySoon();
    }
  }

  remove(key: string): void {
    this.unwritten.delete(key);
    try {
      this.delete.run(key);
    } catch (err) {
      writeFailed(this.db, this.log, 'pending_request_removal', err, { key });
      this.undeleted.add(key);
      this.retrySoon();
    }
  }

  all(): PendingRequest[] {
    return [...(this.select.all() as Row[]).map(fromRow), ...this.unwritten.values()].filter((r): r is PendingRequest => r !== null);
  }

  unrecorded(): number {
    return this.unwritten.size;
  }

  private write(key: string, request: PendingRequest): void {
    const where = request.kind === 'pull' ? request.ref : request;
    this.insert.run(
      key,
      request.kind,
      where.installationId,
      'owner' in where ? where.owner : null,
      'repo' in where ? where.repo : null,
      request.kind === 'pull' ? request.ref.number : null,
      request.kind === 'head' ? request.sha : null,
      request.kind === 'deployment' ? request.environment : null,
      request.kind === 'deployment' ? request.state : null,
    );
  }

  private retrySoon(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, this.retryMs);
    this.retryMs = Math.min(WRITE_RETRY.maxMs, this.retryMs * 2);
  }

  /** Tries the failed writes again; what still fails is retried later. */
  private flush(): void {
    try {
      for (const [key, request] of this.unwritten) {
        this.write(key, request);
        this.unwritten.delete(key);
      }
      for (const key of this.undeleted) {
        this.delete.run(key);
        this.undeleted.delete(key);
      }
      this.retryMs = WRITE_RETRY.firstMs;
    } catch (err) {
      writeFailed(this.db, this.log, this.unwritten.size > 0 ? 'pending_request' : 'pending_request_removal', err, { unwritten: [...this.unwritten.keys()], undeleted: [...this.undeleted] });
      this.retrySoon();
    }
  }
}
