// The landing journal, in the outbox's SQLite file: the intent to merge is
// written before the merge call, and the landing (with the deliveries of its
// trunk-updated event) in one transaction after it, so a crash at any instant
// is resolved after a restart by reading the pull request, and no event is
// lost or made twice. It also answers "did merge-gate land this commit, and
// from which pull request?" (`landedCommit`).
import type { Db } from '../state/db.js';
import type { OutboxStore } from '../outbox/outbox.js';
import { UPDATE_MAX_AGE_MS, type BranchUpdate, type TrunkUpdated } from './decide.js';

export interface PullSummary {
  title: string;
  url: string;
  author: string;
}

export interface LandingRecord {
  pull: string;
  installationId: number;
  repository: string;
  number: number;
  branch: string;
  headSha: string;
  method: string;
  before: string | null;
  state: 'intent' | 'landed' | 'abandoned';
  after: string | null;
  eventId: string | null;
  summary: PullSummary;
  targets: string[];
  /** After the landing: the check written, the branch dealt with, the branch's other pull requests re-evaluated. */
  tidied: boolean;
  updatedAt: number;
}

/** What merge-gate landed: the answer to "which pull request brought this commit?". */
export interface LandedCommit {
  repository: string;
  number: number;
  branch: string;
  /** The pull request's head that was evaluated and merged. */
  headSha: string;
  before: string | null;
  after: string;
  landedAt: string;
  title: string;
  url: string;
  author: string;
}

interface Row {
  pull: string;
  installation_id: number;
  repository: string;
  number: number;
  branch: string;
  head_sha: string;
  method: string;
  before_sha: string | null;
  state: LandingRecord['state'];
  after_sha: string | null;
  event_id: string | null;
  pull_json: string;
  targets_json: string;
  tidied: number;
  updated_at: number;
}

const toRecord = (r: Row): LandingRecord => ({
  pull: r.pull,
  installationId: r.installation_id,
  repository: r.repository,
  number: r.number,
  branch: r.branch,
  headSha: r.head_sha,
  method: r.method,
  before: r.before_sha,
  state: r.state,
  after: r.after_sha,
  eventId: r.event_id,
  summary: JSON.parse(r.pull_json) as PullSummary,
  targets: JSON.parse(r.targets_json) as string[],
  tidied: r.tidied === 1,
  updatedAt: r.updated_at,
});

/** The journal's key for a pull request. */
export function journalKey(repository: string, number: number): string {
  return `${repository}#${number}`.toLowerCase();
}

export class LandingJournal {
  constructor(
    private readonly db: Db,
    private readonly outbox: OutboxStore,
  ) {}

  get(pull: string): LandingRecord | null {
    const row = this.db.prepare('SELECT * FROM landings WHERE pull = ?').get(pull) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  /** Write the intent before the merge call. Refused (false) when the pull request is already landed. */
  intend(r: Omit<LandingRecord, 'state' | 'after' | 'eventId' | 'tidied' | 'updatedAt'>, now: number): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO landings (pull, installation_id, repository, number, branch, head_sha, method, before_sha, state, pull_json, targets_json, updated_at)
         VALUES (@pull, @installationId, @repository, @number, @branch, @headSha, @method, @before, 'intent', @summary, @targets, @now)
         ON CONFLICT (pull) DO UPDATE SET installation_id = excluded.installation_id, branch = excluded.branch, head_sha = excluded.head_sha,
           method = excluded.method, before_sha = excluded.before_sha, state = 'intent', pull_json = excluded.pull_json,
           targets_json = excluded.targets_json, updated_at = excluded.updated_at
         WHERE landings.state <> 'landed'`,
      )
      .run({ ...r, summary: JSON.stringify(r.summary), targets: JSON.stringify(r.targets), now });
    return result.changes === 1;
  }

  /** The merge did not happen (refused, head moved, or found unmerged after a crash). */
  abandon(pull: string, now: number): void {
    this.db.prepare("UPDATE landings SET state = 'abandoned', updated_at = ? WHERE pull = ? AND state = 'intent'").run(now, pull);
  }

  /**
   * Record the landing and enqueue its trunk-updated, in one transaction.
   * Idempotent: a landing already recorded keeps its event (returns it), so a
   * redelivered webhook or a recovery after a crash never makes a second one.
   */
  landed(pull: string, after: string, event: (record: LandingRecord) => TrunkUpdated, now: number): { record: LandingRecord; event: TrunkUpdated | null; fresh: boolean } {
    return this.db.transaction(() => {
      const current = this.get(pull);
      if (!current) throw new Error(`no landing intent for ${pull}`);
      if (current.state === 'landed') return { record: current, event: null, fresh: false };
      const body = event({ ...current, after });
      this.db.prepare("UPDATE landings SET state = 'landed', after_sha = ?, event_id = ?, updated_at = ? WHERE pull = ?").run(after, body.id, now, pull);
      this.outbox.enqueue(body.id, current.targets, JSON.stringify(body), now);
      return { record: this.get(pull)!, event: body, fresh: true };
    })();
  }

  /**
   * What a crash left half done: intents whose merge's outcome is unknown, and
   * landings not tidied up after (check, branch, the branch's other pull requests).
   */
  unresolved(): LandingRecord[] {
    return (this.db.prepare("SELECT * FROM landings WHERE state = 'intent' OR (state = 'landed' AND tidied = 0) ORDER BY updated_at").all() as Row[]).map(toRecord);
  }

  /** Landings whose tidy-up after (check, branch, the branch's other pull requests) is not done yet. */
  untidied(): LandingRecord[] {
    return (this.db.prepare("SELECT * FROM landings WHERE state = 'landed' AND tidied = 0 ORDER BY updated_at").all() as Row[]).map(toRecord);
  }

  tidied(pull: string): void {
    this.db.prepare('UPDATE landings SET tidied = 1 WHERE pull = ?').run(pull);
  }

  /** Did merge-gate land `sha` (the commit it put on the base branch) in `repository`? From which pull request? */
  landedCommit(repository: string, sha: string): LandedCommit | null {
    const row = this.db.prepare("SELECT * FROM landings WHERE lower(repository) = lower(?) AND after_sha = ? AND state = 'landed'").get(repository, sha) as Row | undefined;
    if (!row) return null;
    const r = toRecord(row);
    return {
      repository: r.repository,
      number: r.number,
      branch: r.branch,
      headSha: r.headSha,
      before: r.before,
      after: r.after!,
      landedAt: new Date(r.updatedAt).toISOString(),
      ...r.summary,
    };
  }

  /** An update merge-gate asks for (see BranchUpdate); older unverified ones of the pull request are superseded, and stale ones dropped. */
  recordUpdate(pull: string, u: Omit<BranchUpdate, 'toHead'>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM branch_updates WHERE to_head IS NULL AND (pull = ? OR at < ?)').run(pull, u.at - UPDATE_MAX_AGE_MS);
      this.db.prepare('INSERT OR REPLACE INTO branch_updates (pull, from_head, base_sha, tree, at) VALUES (?, ?, ?, ?, ?)').run(pull, u.fromHead, u.baseSha, u.tree, u.at);
    })();
  }

  /** Forget the pull request's updates not verified yet (refused, or the head went elsewhere). */
  dropUpdates(pull: string): void {
    this.db.prepare('DELETE FROM branch_updates WHERE pull = ? AND to_head IS NULL').run(pull);
  }

  /** Mark the head an update produced, once verified. */
  verifyUpdate(pull: string, fromHead: string, toHead: string): void {
    this.db.prepare('UPDATE branch_updates SET to_head = ? WHERE pull = ? AND from_head = ?').run(toHead, pull, fromHead);
  }

  updates(pull: string): BranchUpdate[] {
    const rows = this.db.prepare('SELECT from_head, base_sha, tree, to_head, at FROM branch_updates WHERE pull = ? ORDER BY at').all(pull) as Array<{ from_head: string; base_sha: string; tree: string | null; to_head: string | null; at: number }>;
    return rows.map((r) => ({ fromHead: r.from_head, baseSha: r.base_sha, tree: r.tree, toHead: r.to_head, at: r.at }));
  }
}
