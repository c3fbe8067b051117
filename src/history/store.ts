// Each pull request's evaluations in the state database (src/state/db.ts,
// table pull_evaluations), for its page (SPEC §7). Bounded: an evaluation
// identical to the latest (same head, verdict, rows, approvals, owners) folds
// into it (lastAt, seen, causes) rather than adding a row; at most `perPull`
// rows per pull request, the oldest deleted in the same transaction; and the
// history of a pull request not evaluated for `forgetAfterMs` (closed, most
// likely) is deleted (prune, at most hourly as evaluations are recorded).
import type { Db } from '../state/db.js';
import type { EvaluationRecord } from '../pages/types.js';

export const HISTORY_DEFAULTS = { perPull: 50, forgetAfterMs: 30 * 24 * 3_600_000, causesKept: 8 };
const PRUNE_EVERY_MS = 3_600_000;

export interface HistoryOptions {
  /** Rows kept per pull request (default 50). */
  perPull?: number;
  /** A pull request's history is forgotten once it has not been evaluated for this long (default 30 days). */
  forgetAfterMs?: number;
}

/** What makes two evaluations the same for the history: what the page shows of them (not when, why or how often). */
const identity = (r: EvaluationRecord) => JSON.stringify([r.headSha, r.outcome, r.results, r.approvals, r.owners]);

/** Causes merged, first seen first, the newest kept when there are too many. */
function mergeCauses(before: readonly string[], after: readonly string[]): string[] {
  const all = [...new Set([...before, ...after])];
  return all.slice(Math.max(0, all.length - HISTORY_DEFAULTS.causesKept));
}

interface Row {
  id: number;
  record_json: string;
}

export class EvaluationHistory {
  private readonly perPull: number;
  private readonly forgetAfterMs: number;
  private prunedAt = -Infinity;

  constructor(
    private readonly db: Db,
    options: HistoryOptions = {},
  ) {
    this.perPull = options.perPull ?? HISTORY_DEFAULTS.perPull;
    this.forgetAfterMs = options.forgetAfterMs ?? HISTORY_DEFAULTS.forgetAfterMs;
  }

  /** Keep an evaluation (one transaction): folded into the latest when identical, else a new row, the oldest beyond `perPull` deleted. */
  record(r: EvaluationRecord): void {
    const repository = r.repository.toLowerCase();
    this.db.transaction(() => {
      const row = this.latestRow(repository, r.number);
      const latest = row ? (JSON.parse(row.record_json) as EvaluationRecord) : null;
      if (row && latest && identity(latest) === identity(r)) {
        // The newest title and URL: an edited title is not a new evaluation.
        const folded: EvaluationRecord = { ...latest, title: r.title, url: r.url, lastAt: r.lastAt, seen: latest.seen + r.seen, causes: mergeCauses(latest.causes, r.causes) };
        this.db.prepare('UPDATE pull_evaluations SET last_at = ?, record_json = ? WHERE id = ?').run(folded.lastAt, JSON.stringify(folded), row.id);
        return;
      }
      const record: EvaluationRecord = { ...r, causes: mergeCauses([], r.causes) };
      this.db.prepare('INSERT INTO pull_evaluations (repository, number, at, last_at, record_json) VALUES (?, ?, ?, ?, ?)').run(repository, r.number, r.at, r.lastAt, JSON.stringify(record));
      this.db
        .prepare('DELETE FROM pull_evaluations WHERE repository = ? AND number = ? AND id NOT IN (SELECT id FROM pull_evaluations WHERE repository = ? AND number = ? ORDER BY id DESC LIMIT ?)')
        .run(repository, r.number, repository, r.number, this.perPull);
    })();
    if (r.lastAt - this.prunedAt >= PRUNE_EVERY_MS) this.prune(r.lastAt);
  }

  /** Newest first. */
  list(repository: string, number: number): EvaluationRecord[] {
    const rows = this.db.prepare('SELECT record_json FROM pull_evaluations WHERE repository = ? AND number = ? ORDER BY id DESC').all(repository.toLowerCase(), number) as Row[];
    return rows.map((row) => JSON.parse(row.record_json) as EvaluationRecord);
  }

  latest(repository: string, number: number): EvaluationRecord | null {
    const row = this.latestRow(repository.toLowerCase(), number);
    return row ? (JSON.parse(row.record_json) as EvaluationRecord) : null;
  }

  /** Title, author and URL of each pull request of a repository, from its latest evaluation: one query for a whole queue. */
  headlines(repository: string): Map<number, Pick<EvaluationRecord, 'title' | 'author' | 'url'>> {
    const rows = this.db
      .prepare(
        `SELECT number, json_extract(record_json, '$.title') AS title, json_extract(record_json, '$.author') AS author, json_extract(record_json, '$.url') AS url
         FROM pull_evaluations WHERE id IN (SELECT MAX(id) FROM pull_evaluations WHERE repository = ? GROUP BY number)`,
      )
      .all(repository.toLowerCase()) as Array<{ number: number; title: string; author: string; url: string }>;
    return new Map(rows.map(({ number, ...headline }) => [number, headline]));
  }

  /** Forget the history of every pull request whose latest evaluation is older than `forgetAfterMs`; returns the rows deleted. */
  prune(now: number): number {
    this.prunedAt = now;
    const before = now - this.forgetAfterMs;
    return this.db
      .prepare('DELETE FROM pull_evaluations WHERE (repository, number) IN (SELECT repository, number FROM pull_evaluations GROUP BY repository, number HAVING MAX(last_at) < ?)')
      .run(before).changes;
  }

  private latestRow(repository: string, number: number): Row | undefined {
    return this.db.prepare('SELECT id, record_json FROM pull_evaluations WHERE repository = ? AND number = ? ORDER BY id DESC LIMIT 1').get(repository, number) as Row | undefined;
  }
}
