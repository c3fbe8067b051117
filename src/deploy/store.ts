// The deploy trigger's state in SQLite: deliveries, revisions and their state
// history, slots (the process behind a running revision), health history,
// signals, and retry requests. Synchronous (better-sqlite3), one writer: the
// trigger; `deploy-trigger retry` only appends to `retries`.
import Database from 'better-sqlite3';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from '../dirs.js';
import type { RevisionState, RevisionView } from './core.js';

export interface RevisionRow extends RevisionView {
  repository: string;
  reason: string;
  deploymentId: number | null;
}

/** One instance of a revision: a retry starts a new one while the last may still be stopping. */
export interface SlotRow {
  repository: string;
  sha: string;
  /** The deploy number (`seq`) of the run this process belongs to: the instance's identity. */
  seq: number;
  pid: number | null;
  startTime: string | null;
  port: number;
  dir: string;
  log: string;
  /** SHA-256 (hex) of the revision's signal token: the token itself is never stored. */
  tokenHash: string;
  /** The run's own cgroup (cgroup.ts), or null without cgroups: what a stop or an adoption kills. */
  cgroup: string | null;
}

export interface HealthRow {
  at: number;
  ok: boolean;
  ms: number;
  error: string | null;
  /** The probe could not tell (the trigger's own failure: EMFILE, a stalled event loop): never counted against the revision. */
  inconclusive?: boolean;
}

export interface DeliveryRow {
  id: string;
  receivedAt: number;
  repository: string | null;
  branch: string | null;
  after: string | null;
  outcome: string;
  note: string;
}

export interface HistoryRow {
  sha: string;
  state: RevisionState;
  at: number;
  reason: string;
}

/** A pull request that landed a revision, as the trunk-updated event named it (untrusted text). */
export interface PullRow {
  number: number;
  title: string;
  url: string;
  author: string;
}

/** A delivery refused before it was trusted (401, 400, 413). */
export interface RefusedRow {
  at: number;
  status: number;
  reason: string;
  /** The sender's `webhook-id`, if any (unverified). */
  webhookId: string | null;
}

export interface SignalRow {
  at: number;
  note: string;
}

/** Health history kept per revision (enough for the chart and a post-mortem). */
const HEALTH_KEPT = 120;

/** Refused deliveries kept: anyone can send one, so the table never grows past this. */
export const REFUSED_KEPT = 50;
/** States whose revision runs no more: its health rows are deleted. */
const NOT_PROBED = "('reaped', 'stopped')";
const SLOTS_TABLE = 'CREATE TABLE IF NOT EXISTS slots (repository TEXT NOT NULL, sha TEXT NOT NULL, seq INTEGER NOT NULL, pid INTEGER, start_time TEXT, port INTEGER NOT NULL, dir TEXT NOT NULL, log TEXT NOT NULL, token_hash TEXT NOT NULL, cgroup TEXT, PRIMARY KEY (repository, sha, seq));';

export class Store {
  readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') createPrivately(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, repository TEXT, branch TEXT, after TEXT, outcome TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
      CREATE TABLE IF NOT EXISTS desired (repository TEXT PRIMARY KEY, sha TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS revisions (repository TEXT NOT NULL, sha TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER NOT NULL, reason TEXT NOT NULL, started_at INTEGER NOT NULL, deployment_id INTEGER, PRIMARY KEY (repository, sha));
      CREATE TABLE IF NOT EXISTS revision_history (id INTEGER PRIMARY KEY AUTOINCREMENT, repository TEXT NOT NULL, sha TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT NOT NULL);
      ${SLOTS_TABLE}
      CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY AUTOINCREMENT, repository TEXT NOT NULL, sha TEXT NOT NULL, at INTEGER NOT NULL, ok INTEGER NOT NULL, ms REAL NOT NULL, error TEXT);
      CREATE INDEX IF NOT EXISTS health_by_revision ON health (repository, sha, id);
      CREATE TABLE IF NOT EXISTS signals (id INTEGER PRIMARY KEY AUTOINCREMENT, repository TEXT NOT NULL, sha TEXT NOT NULL, at INTEGER NOT NULL, note TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS retries (id INTEGER PRIMARY KEY AUTOINCREMENT, sha TEXT NOT NULL, requested_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS refused_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL, webhook_id TEXT);
      CREATE TABLE IF NOT EXISTS revision_pulls (repository TEXT NOT NULL, sha TEXT NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, author TEXT NOT NULL, PRIMARY KEY (repository, sha, number));
      CREATE TABLE IF NOT EXISTS revision_subjects (repository TEXT NOT NULL, sha TEXT NOT NULL, subject TEXT NOT NULL, PRIMARY KEY (repository, sha));
      CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at INTEGER NOT NULL, ended_at INTEGER);
      CREATE TABLE IF NOT EXISTS crash_counts (repository TEXT NOT NULL, sha TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (repository, sha));
      CREATE INDEX IF NOT EXISTS history_by_revision ON revision_history (repository, sha, id);
      CREATE INDEX IF NOT EXISTS signals_by_revision ON signals (repository, sha, id);
    `);
    this.upgradeSlots();
    if (!(this.db.prepare("SELECT name FROM pragma_table_info('slots')").all() as { name: string }[]).some((c) => c.name === 'cgroup')) {
      this.db.exec('ALTER TABLE slots ADD COLUMN cgroup TEXT');
    }
    if (!(this.db.prepare("SELECT name FROM pragma_table_info('health')").all() as { name: string }[]).some((c) => c.name === 'inconclusive')) {
      this.db.exec('ALTER TABLE health ADD COLUMN inconclusive INTEGER NOT NULL DEFAULT 0');
    }
    // A state file from before: reaped and stopped revisions keep no health rows.
    this.db.exec(`DELETE FROM health WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.repository = health.repository AND r.sha = health.sha AND r.state IN ${NOT_PROBED})`);
  }

  /**
   * A state file from before: slots keyed by revision only become the slot of
   * the revision's latest run, and plain signal tokens become their hashes.
   * secure_delete and a checkpoint leave no plain token in freed pages or the WAL.
   */
  private upgradeSlots(): void {
    const columns = (this.db.prepare("SELECT name FROM pragma_table_info('slots')").all() as { name: string }[]).map((c) => c.name);
    if (columns.includes('token_hash')) return;
    const seq = columns.includes('seq') ? 's.seq' : 'COALESCE(r.seq, 0)';
    this.db.pragma('secure_delete = ON');
    this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT s.repository, s.sha, ${seq} AS seq, s.pid, s.start_time, s.port, s.dir, s.log, s.token FROM slots s LEFT JOIN revisions r USING (repository, sha)`).all() as Record<string, unknown>[];
      this.db.exec(`DROP TABLE slots; ${SLOTS_TABLE}`);
      for (const r of rows) this.saveSlot(toSlot({ ...r, token_hash: hashToken(String(r.token)) }));
    })();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.pragma('secure_delete = OFF');
  }

  close(): void {
    this.db.close();
  }

  // Deliveries ---------------------------------------------------------------

  /** Record a verified delivery; false when its `webhook-id` was seen before. */
  recordDelivery(d: DeliveryRow): boolean {
    const info = this.db
      .prepare('INSERT OR IGNORE INTO deliveries (id, received_at, repository, branch, after, outcome, note) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(d.id, d.receivedAt, d.repository, d.branch, d.after, d.outcome, d.note);
    return info.changes === 1;
  }

  recentDeliveries(limit = 20): DeliveryRow[] {
    return (this.db.prepare('SELECT * FROM deliveries ORDER BY received_at DESC, rowid DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map((r) => ({
      id: String(r.id),
      receivedAt: Number(r.received_at),
      repository: r.repository as string | null,
      branch: r.branch as string | null,
      after: r.after as string | null,
      outcome: String(r.outcome),
      note: String(r.note),
    }));
  }

  /** Record a refused delivery, keeping only the newest REFUSED_KEPT. */
  recordRefused(r: RefusedRow): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO refused_deliveries (at, status, reason, webhook_id) VALUES (?, ?, ?, ?)').run(r.at, r.status, r.reason, r.webhookId);
      this.db.prepare('DELETE FROM refused_deliveries WHERE id <= (SELECT id FROM refused_deliveries ORDER BY id DESC LIMIT 1 OFFSET ?)').run(REFUSED_KEPT);
    })();
  }

  recentRefused(limit = 10): RefusedRow[] {
    return (this.db.prepare('SELECT at, status, reason, webhook_id FROM refused_deliveries ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map((r) => ({
      at: Number(r.at),
      status: Number(r.status),
      reason: String(r.reason),
      webhookId: r.webhook_id as string | null,
    }));
  }

  // What landed a revision ---------------------------------------------------

  /** The pull requests an event names for `sha` (a redelivery replaces them). */
  recordPulls(repository: string, sha: string, pulls: readonly PullRow[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO revision_pulls (repository, sha, number, title, url, author) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of pulls) insert.run(repository, sha, p.number, p.title, p.url, p.author);
    })();
  }

  pulls(repository: string, sha: string, limit = 20): PullRow[] {
    return (this.db.prepare('SELECT number, title, url, author FROM revision_pulls WHERE repository = ? AND sha = ? ORDER BY number LIMIT ?').all(repository, sha, limit) as Record<string, unknown>[]).map((r) => ({
      number: Number(r.number),
      title: String(r.title),
      url: String(r.url),
      author: String(r.author),
    }));
  }

  recordSubject(repository: string, sha: string, subject: string): void {
    this.db.prepare('INSERT OR REPLACE INTO revision_subjects (repository, sha, subject) VALUES (?, ?, ?)').run(repository, sha, subject);
  }

  subject(repository: string, sha: string): string | null {
    const row = this.db.prepare('SELECT subject FROM revision_subjects WHERE repository = ? AND sha = ?').get(repository, sha) as { subject: string } | undefined;
    return row?.subject ?? null;
  }

  // Desired revision ---------------------------------------------------------

  desired(repository: string): string | null {
    const row = this.db.prepare('SELECT sha FROM desired WHERE repository = ?').get(repository) as { sha: string } | undefined;
    return row?.sha ?? null;
  }

  setDesired(repository: string, sha: string, at: number): void {
    this.db.prepare('INSERT INTO desired (repository, sha, at) VALUES (?, ?, ?) ON CONFLICT (repository) DO UPDATE SET sha = excluded.sha, at = excluded.at').run(repository, sha, at);
  }

  // Revisions ----------------------------------------------------------------

  revisions(repository: string): RevisionRow[] {
    return (this.db.prepare('SELECT * FROM revisions WHERE repository = ? ORDER BY seq DESC').all(repository) as Record<string, unknown>[]).map(toRevision);
  }

  /** One page of revisions, newest deploys first: those deployed before `before` (a deploy number), at most `limit`. */
  revisionPage(repository: string, before: number | null, limit: number): RevisionRow[] {
    return (this.db.prepare('SELECT * FROM revisions WHERE repository = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(repository, before ?? Number.MAX_SAFE_INTEGER, limit) as Record<string, unknown>[]).map(toRevision);
  }

  revision(repository: string, sha: string): RevisionRow | null {
    const row = this.db.prepare('SELECT * FROM revisions WHERE repository = ? AND sha = ?').get(repository, sha) as Record<string, unknown> | undefined;
    return row ? toRevision(row) : null;
  }

  /** A deploy begins: the revision is (again) starting, with the next deploy number. */
  beginDeploy(repository: string, sha: string, at: number, reason: string): RevisionRow {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM revisions').get() as { n: number }).n;
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO revisions (repository, sha, seq, state, since, reason, started_at) VALUES (?, ?, ?, 'starting', ?, ?, ?)
                  ON CONFLICT (repository, sha) DO UPDATE SET seq = excluded.seq, state = 'starting', since = excluded.since, reason = excluded.reason, started_at = excluded.started_at`)
        .run(repository, sha, seq, at, reason, at);
      this.db.prepare("INSERT INTO revision_history (repository, sha, state, at, reason) VALUES (?, ?, 'starting', ?, ?)").run(repository, sha, at, reason);
    })();
    return this.revision(repository, sha)!;
  }

  setState(repository: string, sha: string, state: RevisionState, at: number, reason: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE revisions SET state = ?, since = ?, reason = ? WHERE repository = ? AND sha = ?').run(state, at, reason, repository, sha);
      this.db.prepare('INSERT INTO revision_history (repository, sha, state, at, reason) VALUES (?, ?, ?, ?, ?)').run(repository, sha, state, at, reason);
      // Not running any more: its probes are of no use (its state history stays).
      if (state === 'reaped' || state === 'stopped') this.db.prepare('DELETE FROM health WHERE repository = ? AND sha = ?').run(repository, sha);
    })();
  }

  setDeploymentId(repository: string, sha: string, id: number): void {
    this.db.prepare('UPDATE revisions SET deployment_id = ? WHERE repository = ? AND sha = ?').run(id, repository, sha);
  }

  history(repository: string, limit = 50): HistoryRow[] {
    return (this.db.prepare('SELECT sha, state, at, reason FROM revision_history WHERE repository = ? ORDER BY id DESC LIMIT ?').all(repository, limit) as Record<string, unknown>[]).map((r) => ({
      sha: String(r.sha),
      state: r.state as RevisionState,
      at: Number(r.at),
      reason: String(r.reason),
    }));
  }

  /** One revision's state changes, oldest first (the newest `limit`). */
  revisionHistory(repository: string, sha: string, limit = 20): HistoryRow[] {
    return (this.db.prepare('SELECT sha, state, at, reason FROM revision_history WHERE repository = ? AND sha = ? ORDER BY id DESC LIMIT ?').all(repository, sha, limit) as Record<string, unknown>[])
      .map((r) => ({ sha: String(r.sha), state: r.state as RevisionState, at: Number(r.at), reason: String(r.reason) }))
      .reverse();
  }

  // Slots --------------------------------------------------------------------

  saveSlot(slot: SlotRow): void {
    this.db
      .prepare(`INSERT INTO slots (repository, sha, seq, pid, start_time, port, dir, log, token_hash, cgroup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (repository, sha, seq) DO UPDATE SET pid = excluded.pid, start_time = excluded.start_time, port = excluded.port, dir = excluded.dir, log = excluded.log, token_hash = excluded.token_hash, cgroup = excluded.cgroup`)
      .run(slot.repository, slot.sha, slot.seq, slot.pid, slot.startTime, slot.port, slot.dir, slot.log, slot.tokenHash, slot.cgroup);
  }

  /** The slot of the revision's latest instance. */
  slot(repository: string, sha: string): SlotRow | null {
    const row = this.db.prepare('SELECT * FROM slots WHERE repository = ? AND sha = ? ORDER BY seq DESC LIMIT 1').get(repository, sha) as Record<string, unknown> | undefined;
    return row ? toSlot(row) : null;
  }

  slots(): SlotRow[] {
    return (this.db.prepare('SELECT * FROM slots').all() as Record<string, unknown>[]).map(toSlot);
  }

  /** The slot whose revision is `sha` (any repository). */
  slotsForSha(sha: string): SlotRow[] {
    return (this.db.prepare('SELECT * FROM slots WHERE sha = ?').all(sha) as Record<string, unknown>[]).map(toSlot);
  }

  /** Forget one instance's slot; a newer instance of the same revision keeps its own. */
  deleteSlot(repository: string, sha: string, seq: number): void {
    this.db.prepare('DELETE FROM slots WHERE repository = ? AND sha = ? AND seq = ?').run(repository, sha, seq);
  }

  // Health and signals -------------------------------------------------------

  recordHealth(repository: string, sha: string, row: HealthRow): void {
    this.db.prepare('INSERT INTO health (repository, sha, at, ok, ms, error, inconclusive) VALUES (?, ?, ?, ?, ?, ?, ?)').run(repository, sha, row.at, row.ok ? 1 : 0, row.ms, row.error, row.inconclusive ? 1 : 0);
    this.db
      .prepare('DELETE FROM health WHERE repository = ? AND sha = ? AND id <= (SELECT id FROM health WHERE repository = ? AND sha = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
      .run(repository, sha, repository, sha, HEALTH_KEPT);
  }

  health(repository: string, sha: string, limit = 40): HealthRow[] {
    return (this.db.prepare('SELECT at, ok, ms, error, inconclusive FROM health WHERE repository = ? AND sha = ? ORDER BY id DESC LIMIT ?').all(repository, sha, limit) as Record<string, unknown>[])
      .map((r) => ({ at: Number(r.at), ok: r.ok === 1, ms: Number(r.ms), error: r.error as string | null, inconclusive: r.inconclusive === 1 }))
      .reverse();
  }

  recordSignal(repository: string, sha: string, at: number, note: string): void {
    this.db.prepare('INSERT INTO signals (repository, sha, at, note) VALUES (?, ?, ?, ?)').run(repository, sha, at, note);
  }

  signalTimes(repository: string, sha: string, since: number): number[] {
    return (this.db.prepare('SELECT at FROM signals WHERE repository = ? AND sha = ? AND at > ? ORDER BY at').all(repository, sha, since) as { at: number }[]).map((r) => r.at);
  }

  /** The newest `limit` error reports of a revision, newest first. */
  recentSignals(repository: string, sha: string, limit = 5): SignalRow[] {
    return (this.db.prepare('SELECT at, note FROM signals WHERE repository = ? AND sha = ? ORDER BY id DESC LIMIT ?').all(repository, sha, limit) as Record<string, unknown>[]).map((r) => ({
      at: Number(r.at),
      note: String(r.note),
    }));
  }

  // Runs of the trigger ------------------------------------------------------

  /** A run of the trigger begins; true when the previous one never ended cleanly (a crash, SIGKILL). */
  beginRun(at: number): boolean {
    const previous = this.db.prepare('SELECT ended_at FROM runs ORDER BY id DESC LIMIT 1').get() as { ended_at: number | null } | undefined;
    this.db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(at);
    this.db.prepare('DELETE FROM runs WHERE id < (SELECT MAX(id) FROM runs)').run();
    return previous !== undefined && previous.ended_at === null;
  }

  endRun(at: number): void {
    this.db.prepare('UPDATE runs SET ended_at = ? WHERE id = (SELECT MAX(id) FROM runs)').run(at);
  }

  /** One more run that died while this revision was starting; returns how many in all. */
  countCrash(repository: string, sha: string): number {
    this.db.prepare('INSERT INTO crash_counts (repository, sha, count) VALUES (?, ?, 1) ON CONFLICT (repository, sha) DO UPDATE SET count = count + 1').run(repository, sha);
    return (this.db.prepare('SELECT count FROM crash_counts WHERE repository = ? AND sha = ?').get(repository, sha) as { count: number }).count;
  }

  clearCrashes(repository: string, sha: string): void {
    this.db.prepare('DELETE FROM crash_counts WHERE repository = ? AND sha = ?').run(repository, sha);
  }

  // Retries ------------------------------------------------------------------

  requestRetry(sha: string, at: number): void {
    this.db.prepare('INSERT INTO retries (sha, requested_at) VALUES (?, ?)').run(sha, at);
  }

  /** Take the pending retry requests (each is handled once). */
  takeRetries(): string[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, sha FROM retries ORDER BY id').all() as { id: number; sha: string }[];
      this.db.prepare('DELETE FROM retries WHERE id <= ?').run(rows.at(-1)?.id ?? 0);
      return rows.map((r) => r.sha);
    })();
  }
}

function toRevision(r: Record<string, unknown>): RevisionRow {
  return {
    repository: String(r.repository),
    sha: String(r.sha),
    seq: Number(r.seq),
    state: r.state as RevisionState,
    since: Number(r.since),
    reason: String(r.reason),
    startedAt: Number(r.started_at),
    deploymentId: r.deployment_id === null || r.deployment_id === undefined ? null : Number(r.deployment_id),
  };
}

function toSlot(r: Record<string, unknown>): SlotRow {
  return {
    repository: String(r.repository),
    sha: String(r.sha),
    seq: Number(r.seq),
    pid: r.pid === null ? null : Number(r.pid),
    startTime: r.start_time === null ? null : String(r.start_time),
    port: Number(r.port),
    dir: String(r.dir),
    log: String(r.log),
    tokenHash: String(r.token_hash),
    cgroup: r.cgroup === null || r.cgroup === undefined ? null : String(r.cgroup),
  };
}

/**
 * A run's signal token, derived from the webhook secret (through a key of its own, so a token is never a
 * webhook signature): the trigger re-derives it after a restart, so an adopted run's commands get the same
 * SIGNAL_URL as its service, and the state file still keeps only its hash.
 */
export function signalToken(secret: string, repository: string, sha: string, seq: number): string {
  const key = createHmac('sha256', secret).update('merge-gate deploy-trigger signal tokens').digest();
  return createHmac('sha256', key).update(`${repository}\0${sha}\0${seq}`).digest('hex').slice(0, 48);
}

/** SHA-256 of a signal token, hex: what the state file keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Does `given` hash to `tokenHash`? In constant time (both sides are 32 bytes). */
export function tokenMatches(tokenHash: string, given: string): boolean {
  const expected = Buffer.from(tokenHash, 'hex');
  const actual = createHash('sha256').update(given, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * The state file is the trigger's alone: its folder is created 0700 and the
 * file 0600 (an existing file is tightened; SQLite gives its -wal and -shm
 * files the database file's mode).
 */
function createPrivately(path: string): void {
  makeDirs(dirname(path), 0o700);
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
