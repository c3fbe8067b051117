// The merge queue in the state database (src/state/db.ts): per base branch the
// core's state (JSON) and the actions it asked for that are not carried out yet,
// written in ONE transaction — an outbox of actions, so a SIGKILL at any instant
// loses none; each is removed once carried out (with the event its answer
// became, when it has one). Beside them, in the same transaction: the staging
// branches the queue made (to tell its own from orphans, and a check on a
// staging SHA from any other), and the heads the core sent away (a dequeued
// head does not join again; a new head does).
import { journalKey } from '../land/journal.js';
import type { Db } from '../state/db.js';
import type { QueueState } from './core.js';
import type { DequeueWhy, QueueAction, QueueSettings } from './types.js';

/** A queue: one base branch of one repository of one installation. */
export interface BranchWhere {
  installationId: number;
  /** owner/repo as GitHub spells it. */
  repository: string;
  branch: string;
}

/** What the latest policy says about the queue (updated on every pull request that joins). */
export interface QueueSetup {
  settings: QueueSettings;
  method: 'merge' | 'squash' | 'rebase';
  /** checks.required: what must succeed on a staging head. */
  required: string[];
  allowNeutral: boolean;
}

export interface StoredBranch {
  key: string;
  where: BranchWhere;
  state: QueueState;
  setup: QueueSetup;
}

export interface StoredAction {
  id: number;
  key: string;
  action: QueueAction;
}

export function queueKey(w: BranchWhere): string {
  return `${w.installationId}:${w.repository.toLowerCase()}:${w.branch}`;
}

interface BranchRow {
  key: string;
  installation_id: number;
  repository: string;
  branch: string;
  state_json: string;
  setup_json: string;
}

const toBranch = (r: BranchRow): StoredBranch => ({
  key: r.key,
  where: { installationId: r.installation_id, repository: r.repository, branch: r.branch },
  state: JSON.parse(r.state_json) as QueueState,
  setup: JSON.parse(r.setup_json) as QueueSetup,
});

export class QueueStore {
  constructor(readonly db: Db) {}

  branch(key: string): StoredBranch | null {
    const row = this.db.prepare('SELECT * FROM queue_branches WHERE key = ?').get(key) as BranchRow | undefined;
    return row ? toBranch(row) : null;
  }

  branches(): StoredBranch[] {
    return (this.db.prepare('SELECT * FROM queue_branches ORDER BY key').all() as BranchRow[]).map(toBranch);
  }

  /**
   * One transaction: the new state (and setup), the actions it asked for appended to the branch's outbox of
   * actions, `done` (the action whose answer this state took in) removed; each `build` noted as a staging
   * branch of ours, each `dequeue` noted as a head that does not join again. Returns the actions with their ids.
   */
  save(where: BranchWhere, state: QueueState, setup: QueueSetup, actions: readonly QueueAction[], done: number | null, now: number): StoredAction[] {
    const key = queueKey(where);
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO queue_branches (key, installation_id, repository, branch, state_json, setup_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET repository = excluded.repository, state_json = excluded.state_json, setup_json = excluded.setup_json, updated_at = excluded.updated_at`,
        )
        .run(key, where.installationId, where.repository, where.branch, JSON.stringify(state), JSON.stringify(setup), now);
      if (done !== null) this.db.prepare('DELETE FROM queue_actions WHERE id = ?').run(done);
      const insert = this.db.prepare('INSERT INTO queue_actions (key, action_json, created_at) VALUES (?, ?, ?)');
      const stored: StoredAction[] = [];
      for (const action of actions) {
        const id = Number(insert.run(key, JSON.stringify(action), now).lastInsertRowid);
        stored.push({ id, key, action });
        if (action.kind === 'build') this.db.prepare('INSERT OR REPLACE INTO queue_staging (key, ref, batch, sha) VALUES (?, ?, ?, NULL)').run(key, action.ref, action.batch);
        if (action.kind === 'dequeue') this.setDequeued(journalKey(where.repository, action.number), action.headSha, action.why, now);
      }
      return stored;
    })();
  }

  /** The earliest tick the core asked for (a timer in memory; re-armed from here after a restart). */
  setWake(key: string, at: number | null): void {
    this.db.prepare('UPDATE queue_branches SET wake_at = ? WHERE key = ?').run(at, key);
  }

  wakeAt(key: string): number | null {
    return (this.db.prepare('SELECT wake_at FROM queue_branches WHERE key = ?').get(key) as { wake_at: number | null } | undefined)?.wake_at ?? null;
  }

  /** A `land` of the branch not carried out yet (with its pull requests): the base may be moving under it. */
  landing(key: string): Extract<QueueAction, { kind: 'land' }> | null {
    for (const { action } of this.actions(key)) if (action.kind === 'land') return action;
    return null;
  }

  /** The branch's actions not carried out yet, oldest first. */
  actions(key: string): StoredAction[] {
    const rows = this.db.prepare('SELECT id, key, action_json FROM queue_actions WHERE key = ? ORDER BY id').all(key) as Array<{ id: number; key: string; action_json: string }>;
    return rows.map((r) => ({ id: r.id, key: r.key, action: JSON.parse(r.action_json) as QueueAction }));
  }

  /** An action without an answer (delete, dequeue, notify, wake) is carried out. */
  done(id: number): void {
    this.db.prepare('DELETE FROM queue_actions WHERE id = ?').run(id);
  }

  /** A staging branch is built: its head, so that a check on that SHA finds its batch. */
  built(key: string, ref: string, sha: string): void {
    this.db.prepare('UPDATE queue_staging SET sha = ? WHERE key = ? AND ref = ?').run(sha, key, ref);
  }

  /** A staging branch deleted (or found gone). */
  stagingGone(key: string, ref: string): void {
    this.db.prepare('DELETE FROM queue_staging WHERE key = ? AND ref = ?').run(key, ref);
  }

  /** The staging branches of ours a queue knows (built or being built). */
  stagingRefs(key: string): string[] {
    return (this.db.prepare('SELECT ref FROM queue_staging WHERE key = ?').all(key) as Array<{ ref: string }>).map((r) => r.ref);
  }

  /** The batches whose staging head is `sha`, in a repository's queues. */
  stagingBySha(installationId: number, repository: string, sha: string): Array<{ key: string; batch: number }> {
    const prefix = `${installationId}:${repository.toLowerCase()}:`;
    const rows = this.db.prepare('SELECT key, batch FROM queue_staging WHERE sha = ?').all(sha) as Array<{ key: string; batch: number }>;
    return rows.filter((r) => r.key.startsWith(prefix));
  }

  /** Every staging head known of a branch (checked again at start: a result may have come while it was down). */
  stagingHeads(key: string): Array<{ batch: number; sha: string }> {
    return this.db.prepare('SELECT batch, sha FROM queue_staging WHERE key = ? AND sha IS NOT NULL').all(key) as Array<{ batch: number; sha: string }>;
  }

  /** The head the core sent away, and why (null: none, or a new head since). */
  dequeued(pull: string): { headSha: string; why: DequeueWhy } | null {
    const row = this.db.prepare('SELECT head_sha, why_json FROM queue_dequeued WHERE pull = ?').get(pull) as { head_sha: string; why_json: string } | undefined;
    return row ? { headSha: row.head_sha, why: JSON.parse(row.why_json) as DequeueWhy } : null;
  }

  setDequeued(pull: string, headSha: string, why: DequeueWhy, now: number): void {
    this.db.prepare('INSERT OR REPLACE INTO queue_dequeued (pull, head_sha, why_json, at) VALUES (?, ?, ?, ?)').run(pull, headSha, JSON.stringify(why), now);
  }

  clearDequeued(pull: string): void {
    this.db.prepare('DELETE FROM queue_dequeued WHERE pull = ?').run(pull);
  }
}
