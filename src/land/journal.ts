// The landing journal, in the outbox's SQLite file: the intent to merge is
// written before the merge call, and the landing (with the deliveries of its
// trunk-updated event) in one transaction after it, so a crash at any instant
// is resolved after a restart by reading the pull request, and no event is
// lost or made twice. Each intent has an id: resolving it (landed, merged by
// someone else, abandoned) never touches a newer intent of the pull request. It also answers "did merge-gate land this commit, and
// which pull requests did it bring?" (`landedCommit`), from this table and the merge queue's batch landings (queue_landings,
// src/queue/journal.ts) alike.
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
  /** merged-elsewhere: a left-behind intent whose pull request someone else merged (no event; see resolve.ts). */
  state: 'intent' | 'landed' | 'merged-elsewhere' | 'abandoned';
  after: string | null;
  eventId: string | null;
  summary: PullSummary;
  targets: string[];
  /** After the landing: the check written, the branch dealt with, the branch's other pull requests re-evaluated. */
  tidied: boolean;
  updatedAt: number;
  /** This intent's id: resolving it (landed, abandoned) never touches a newer intent of the pull request. */
  intentId: string | null;
  /** When its merge call ended without a certain answer (a 5xx, a dropped connection, the abort); null otherwise. */
  uncertainSince: number | null;
}

/** What merge-gate landed: the answer to "which pull request brought this commit?". */
/** A pull request a landed commit brought. */
export interface LandedPull {
  number: number;
  /** The pull request's head that was evaluated and merged. */
  headSha: string;
  title: string;
  url: string;
  author: string;
}

/** A commit merge-gate put on a base branch, and what it brought. */
export interface LandedCommit {
  repository: string;
  branch: string;
  before: string | null;
  after: string;
  landedAt: string;
  /** The merge queue's batch that landed it; null: a pull request landed on its own. */
  batch: number | null;
  /** In the order they landed (one, unless a batch). */
  pulls: LandedPull[];
}

interface BatchRow {
  repository: string;
  branch: string;
  batch: number;
  before_sha: string;
  after_sha: string;
  pulls_json: string;
  updated_at: number;
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
  intent_id: string | null;
  uncertain_since: number | null;
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
  intentId: r.intent_id,
  uncertainSince: r.uncertain_since,
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

  /**
   * Write the intent (with its id) before the merge call. Refused (false) when the pull request is already
   * landed, or another intent of it is still unresolved (its merge may yet happen).
   */
  intend(r: Omit<LandingRecord, 'state' | 'after' | 'eventId' | 'tidied' | 'updatedAt' | 'uncertainSince'> & { intentId: string }, now: number): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO landings (pull, installation_id, repository, number, branch, head_sha, method, before_sha, state, pull_json, targets_json, updated_at, intent_id)
         VALUES (@pull, @installationId, @repository, @number, @branch, @headSha, @method, @before, 'intent', @summary, @targets, @now, @intentId)
         ON CONFLICT (pull) DO UPDATE SET installation_id = excluded.installation_id, branch = excluded.branch, head_sha = excluded.head_sha,
           method = excluded.method, before_sha = excluded.before_sha, state = 'intent', pull_json = excluded.pull_json,
           targets_json = excluded.targets_json, updated_at = excluded.updated_at, intent_id = excluded.intent_id,
           after_sha = NULL, event_id = NULL, tidied = 0, uncertain_since = NULL
         WHERE landings.state NOT IN ('landed', 'intent')`,
      )
      .run({ ...r, summary: JSON.stringify(r.summary), targets: JSON.stringify(r.targets), now });
    return result.changes === 1;
  }

  /** The merge call of this intent ended without a certain answer at `now`. */
  uncertain(pull: string, intentId: string | null, now: number): void {
    this.db.prepare("UPDATE landings SET uncertain_since = ? WHERE pull = ? AND state = 'intent' AND intent_id IS ?").run(now, pull, intentId);
  }

  /** This intent's merge did not happen (refused, head moved, or certainly not merged): false if it is no longer the unresolved one. */
  abandon(pull: string, intentId: string | null, now: number): boolean {
    return this.db.prepare("UPDATE landings SET state = 'abandoned', updated_at = ? WHERE pull = ? AND state = 'intent' AND intent_id IS ?").run(now, pull, intentId).changes === 1;
  }

  /** This intent's pull request was merged by someone else (as `after`): no event; the branch is still re-evaluated (tidied = 0). */
  mergedElsewhere(pull: string, intentId: string | null, after: string | null, now: number): boolean {
    return (
      this.db
        .prepare("UPDATE landings SET state = 'merged-elsewhere', after_sha = ?, tidied = 0, updated_at = ? WHERE pull = ? AND state = 'intent' AND intent_id IS ?")
        .run(after, now, pull, intentId).changes === 1
    );
  }

  /**
   * Record the landing and enqueue its trunk-updated, in one transaction.
   * Idempotent: a landing already recorded keeps its event (returns it), so a
   * redelivered webhook or a recovery after a crash never makes a second one.
   */
  landed(pull: string, intentId: string | null, after: string, event: (record: LandingRecord) => TrunkUpdated, now: number): { record: LandingRecord; event: TrunkUpdated | null; fresh: boolean } {
    return this.db.transaction(() => {
      const current = this.get(pull);
      if (!current) throw new Error(`no landing intent for ${pull}`);
      // Already landed, or not this intent any more (resolved by someone else, or a newer one): nothing to record.
      if (current.state === 'landed' || current.intentId !== intentId) return { record: current, event: null, fresh: false };
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
    return [...this.intents(), ...this.untidied()];
  }

  /** Intents whose merge's outcome is not known yet (on `branch` of `repository` only, when given). */
  intents(where?: { repository: string; branch: string }): LandingRecord[] {
    const rows = where
      ? this.db.prepare("SELECT * FROM landings WHERE state = 'intent' AND lower(repository) = lower(?) AND branch = ? ORDER BY updated_at").all(where.repository, where.branch)
      : this.db.prepare("SELECT * FROM landings WHERE state = 'intent' ORDER BY updated_at").all();
    return (rows as Row[]).map(toRecord);
  }

  /** Merges (ours or someone else's) whose tidy-up after (check, branch, the branch's other pull requests) is not done yet. */
  untidied(): LandingRecord[] {
    return (this.db.prepare("SELECT * FROM landings WHERE state IN ('landed', 'merged-elsewhere') AND tidied = 0 ORDER BY updated_at").all() as Row[]).map(toRecord);
  }

  tidied(pull: string): void {
    this.db.prepare('UPDATE landings SET tidied = 1 WHERE pull = ?').run(pull);
  }

  /**
   * Did merge-gate land `sha` (the commit it put on the base branch) in `repository`, and which pull requests did it bring?
   * A pull request landed on its own (landings), or a merge queue batch (queue_landings: its staging head fast-forwarded, or
   * the base's head after its squash/rebase merges — the commit announced and deployed).
   */
  landedCommit(repository: string, sha: string): LandedCommit | null {
    const row = this.db.prepare("SELECT * FROM landings WHERE lower(repository) = lower(?) AND after_sha = ? AND state = 'landed'").get(repository, sha) as Row | undefined;
    if (row) {
      const r = toRecord(row);
      return { repository: r.repository, branch: r.branch, before: r.before, after: r.after!, landedAt: new Date(r.updatedAt).toISOString(), batch: null, pulls: [{ number: r.number, headSha: r.headSha, ...r.summary }] };
    }
    const batch = this.db
      .prepare("SELECT repository, branch, batch, before_sha, after_sha, pulls_json, updated_at FROM queue_landings WHERE lower(repository) = lower(?) AND after_sha = ? AND state = 'landed' ORDER BY updated_at DESC")
      .get(repository, sha) as BatchRow | undefined;
    if (!batch) return null;
    const pulls = (JSON.parse(batch.pulls_json) as LandedPull[]).map(({ number, headSha, title, url, author }) => ({ number, headSha, title, url, author }));
    return { repository: batch.repository, branch: batch.branch, before: batch.before_sha, after: batch.after_sha, landedAt: new Date(batch.updated_at).toISOString(), batch: batch.batch, pulls };
  }

  /** Whether merge-gate landed this pull request (on its own, or in a batch of the merge queue), and as what; the latest landing. */
  landedPull(repository: string, number: number): LandedCommit | null {
    const own = this.db.prepare("SELECT after_sha FROM landings WHERE pull = ? AND state = 'landed' AND after_sha IS NOT NULL").get(`${repository}#${number}`.toLowerCase()) as { after_sha: string } | undefined;
    const batch = this.db
      .prepare(
        `SELECT after_sha FROM queue_landings, json_each(queue_landings.pulls_json) AS p
         WHERE lower(repository) = lower(?) AND state = 'landed' AND after_sha IS NOT NULL AND json_extract(p.value, '$.number') = ? ORDER BY updated_at DESC LIMIT 1`,
      )
      .get(repository, number) as { after_sha: string } | undefined;
    const found = [own, batch].flatMap((r) => (r ? [this.landedCommit(repository, r.after_sha)] : [])).filter((c): c is LandedCommit => c !== null);
    return found.sort((a, b) => Date.parse(b.landedAt) - Date.parse(a.landedAt))[0] ?? null;
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
