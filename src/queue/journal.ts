// The batch landing journal, beside the landing journal (src/land/journal.ts)
// in the state database: a batch's landing is written before any call that
// moves the base (its pull requests, the base head before, the staging head
// and tree that passed), each squash/rebase merge noted as it succeeds, and the
// landing recorded with the deliveries of its ONE trunk-updated in one
// transaction. A restart reads it to tell whether the landing happened (the
// base at the staging head for a fast-forward; each pull request's merged
// state for squash/rebase) and finishes it: nothing merged twice, one event.
import type { OutboxStore } from '../outbox/outbox.js';
import type { Db } from '../state/db.js';
import type { TrunkUpdated } from '../land/decide.js';

export interface BatchPull {
  number: number;
  headSha: string;
  title: string;
  url: string;
  author: string;
  /** When it joined the queue (ms), for its time in the queue on the pages; absent in landings journalled before. */
  joinedAt?: number;
}

export interface BatchLanding {
  key: string;
  installationId: number;
  /** owner/repo as GitHub spells it. */
  repository: string;
  branch: string;
  batch: number;
  stagingSha: string;
  stagingTree: string;
  method: 'merge' | 'squash' | 'rebase';
  /** The base head the batch was built on (the event's `before`). */
  before: string;
  pulls: BatchPull[];
  targets: string[];
  /** `land.delete_branch`: the head branches are deleted after the landing. */
  deleteBranch: boolean;
  /** intent: calls that move the base may have been made; failed: it stopped (nothing more will be merged). */
  state: 'intent' | 'landed' | 'failed';
  /** squash/rebase: the pull requests merged so far, in order. */
  merged: number[];
  after: string | null;
  eventId: string | null;
  /** After the landing: each pull request's check says so, head branches dealt with. */
  tidied: boolean;
}

interface Row {
  key: string;
  installation_id: number;
  repository: string;
  branch: string;
  batch: number;
  staging_sha: string;
  staging_tree: string;
  method: BatchLanding['method'];
  before_sha: string;
  pulls_json: string;
  targets_json: string;
  delete_branch: number;
  state: BatchLanding['state'];
  merged_json: string;
  after_sha: string | null;
  event_id: string | null;
  tidied: number;
}

const toLanding = (r: Row): BatchLanding => ({
  key: r.key,
  installationId: r.installation_id,
  repository: r.repository,
  branch: r.branch,
  batch: r.batch,
  stagingSha: r.staging_sha,
  stagingTree: r.staging_tree,
  method: r.method,
  before: r.before_sha,
  pulls: JSON.parse(r.pulls_json) as BatchPull[],
  targets: JSON.parse(r.targets_json) as string[],
  deleteBranch: r.delete_branch === 1,
  state: r.state,
  merged: JSON.parse(r.merged_json) as number[],
  after: r.after_sha,
  eventId: r.event_id,
  tidied: r.tidied === 1,
});

type Id = Pick<BatchLanding, 'key' | 'batch' | 'stagingSha'>;

/** A queue's last `limit` landed batches, newest first, with when they landed (ms): the pages' "last landings". */
export function recentLandings(db: Db, key: string, limit: number): Array<BatchLanding & { landedAt: number }> {
  const rows = db.prepare("SELECT * FROM queue_landings WHERE key = ? AND state = 'landed' ORDER BY updated_at DESC, batch DESC LIMIT ?").all(key, limit) as Array<Row & { updated_at: number }>;
  return rows.map((r) => ({ ...toLanding(r), landedAt: r.updated_at }));
}

export class BatchJournal {
  constructor(
    private readonly db: Db,
    private readonly outbox: OutboxStore,
  ) {}

  get(id: Id): BatchLanding | null {
    const row = this.db.prepare('SELECT * FROM queue_landings WHERE key = ? AND batch = ? AND staging_sha = ?').get(id.key, id.batch, id.stagingSha) as Row | undefined;
    return row ? toLanding(row) : null;
  }

  /** Written before the first call that moves the base; an attempt that failed before is replaced, an intent or a landing kept. Returns the record now. */
  intend(r: Omit<BatchLanding, 'state' | 'merged' | 'after' | 'eventId' | 'tidied'>, now: number): BatchLanding {
    this.db
      .prepare(
        `INSERT INTO queue_landings (key, installation_id, repository, branch, batch, staging_sha, staging_tree, method, before_sha, pulls_json, targets_json, delete_branch, state, merged_json, updated_at)
         VALUES (@key, @installationId, @repository, @branch, @batch, @stagingSha, @stagingTree, @method, @before, @pulls, @targets, @deleteBranch, 'intent', '[]', @now)
         ON CONFLICT (key, batch, staging_sha) DO UPDATE SET staging_tree = excluded.staging_tree, method = excluded.method, before_sha = excluded.before_sha,
           pulls_json = excluded.pulls_json, targets_json = excluded.targets_json, delete_branch = excluded.delete_branch, state = 'intent', merged_json = '[]', after_sha = NULL, event_id = NULL,
           tidied = 0, updated_at = excluded.updated_at
         WHERE queue_landings.state = 'failed'`,
      )
      .run({ ...r, pulls: JSON.stringify(r.pulls), targets: JSON.stringify(r.targets), deleteBranch: r.deleteBranch ? 1 : 0, now });
    return this.get(r)!;
  }

  /** squash/rebase: these pull requests are merged (in order). */
  merged(id: Id, merged: readonly number[], now: number): void {
    this.db.prepare("UPDATE queue_landings SET merged_json = ?, updated_at = ? WHERE key = ? AND batch = ? AND staging_sha = ? AND state = 'intent'").run(JSON.stringify(merged), now, id.key, id.batch, id.stagingSha);
  }

  /** It stopped: nothing more of this attempt is merged. */
  failed(id: Id, now: number): void {
    this.db.prepare("UPDATE queue_landings SET state = 'failed', updated_at = ? WHERE key = ? AND batch = ? AND staging_sha = ? AND state = 'intent'").run(now, id.key, id.batch, id.stagingSha);
  }

  /** Record the landing and enqueue its trunk-updated, in one transaction; a landing already recorded keeps its one event (fresh: false). */
  landed(id: Id, after: string, event: (r: BatchLanding) => TrunkUpdated, now: number): { record: BatchLanding; fresh: boolean } {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (!current) throw new Error(`no landing intent for batch ${id.batch} of ${id.key}`);
      if (current.state !== 'intent') return { record: current, fresh: false };
      const body = event({ ...current, after });
      this.db
        .prepare("UPDATE queue_landings SET state = 'landed', after_sha = ?, event_id = ?, merged_json = ?, updated_at = ? WHERE key = ? AND batch = ? AND staging_sha = ?")
        .run(after, body.id, JSON.stringify(current.pulls.map((p) => p.number)), now, id.key, id.batch, id.stagingSha);
      this.outbox.enqueue(body.id, current.targets, JSON.stringify(body), now);
      return { record: this.get(id)!, fresh: true };
    })();
  }

  /** Landings whose tidy-up (checks, head branches) is not done yet. */
  untidied(): BatchLanding[] {
    return (this.db.prepare("SELECT * FROM queue_landings WHERE state = 'landed' AND tidied = 0 ORDER BY updated_at").all() as Row[]).map(toLanding);
  }

  tidied(id: Id): void {
    this.db.prepare('UPDATE queue_landings SET tidied = 1 WHERE key = ? AND batch = ? AND staging_sha = ?').run(id.key, id.batch, id.stagingSha);
  }

  /** Batch landings by state (metrics). */
  counts(): Record<string, number> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM queue_landings GROUP BY state').all() as Array<{ state: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
