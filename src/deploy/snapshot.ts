// What the status page and `/api/state` show, read from the state: bounded
// whatever the history (one page of revisions, older ones through `before`,
// each with bounded rows). No tokens, no remote URLs (they may carry credentials).
import { isRuledOut, isRunning, probePhase } from './core.js';
import { retryCommand, type RevisionSnapshot, type StateSnapshot } from './page.js';
import type { RevisionRow, Store } from './store.js';

/** Revisions per repository on the status page and in /api/state (newest deploys first). */
export const REVISIONS_SHOWN = 50;

export interface SnapshotSource {
  store: Store;
  now: number;
  /** Each repository, and the instances running now (their port and PID are shown). */
  repositories: { name: string; branch: string; running: ReadonlyMap<string, { port: number; pid: number }> }[];
  degraded: string | null;
  /** The config file as given on the command line, for the `retry` command. */
  configFile: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function stateSnapshot(src: SnapshotSource, page: { before?: number | null; limit?: number | null } = {}): StateSnapshot {
  const { store } = src;
  const limit = Math.min(page.limit ?? REVISIONS_SHOWN, REVISIONS_SHOWN);
  return {
    generatedAt: iso(src.now),
    repositories: src.repositories.map((repo) => {
      const rows = store.revisionPage(repo.name, page.before ?? null, limit + 1);
      return {
        name: repo.name,
        branch: repo.branch,
        desired: store.desired(repo.name),
        revisions: rows.slice(0, limit).map((r) => revisionSnapshot(src, repo, r)),
        older: rows.length > limit ? rows[limit - 1].seq : null,
        history: store.history(repo.name, 20).map((h) => ({ sha: h.sha, state: h.state, at: iso(h.at), reason: h.reason })),
      };
    }),
    deliveries: store.recentDeliveries(15).map((d) => ({ id: d.id, receivedAt: iso(d.receivedAt), repository: d.repository, branch: d.branch, after: d.after, outcome: d.outcome, note: d.note })),
    refused: store.recentRefused(10).map((r) => ({ at: iso(r.at), status: r.status, reason: r.reason, webhookId: r.webhookId })),
    degraded: src.degraded,
  };
}

function revisionSnapshot(src: SnapshotSource, repo: SnapshotSource['repositories'][number], r: RevisionRow): RevisionSnapshot {
  const { store } = src;
  const running = isRunning(r.state) ? repo.running.get(r.sha) : undefined;
  const history = store.revisionHistory(repo.name, r.sha);
  // Probes of this run only; those before its first healthy one are its start-up.
  const healthyAt = history.find((h) => h.state === 'healthy' && h.at >= r.startedAt)?.at ?? null;
  return {
    sha: r.sha,
    state: r.state,
    since: iso(r.since),
    startedAt: iso(r.startedAt),
    reason: r.reason,
    port: running?.port ?? null,
    pid: running?.pid ?? null,
    subject: store.subject(repo.name, r.sha),
    pulls: store.pulls(repo.name, r.sha),
    health: store
      .health(repo.name, r.sha)
      .filter((h) => h.at >= r.startedAt)
      .map((h) => ({ at: iso(h.at), ok: h.ok, ms: h.ms, error: h.error, phase: probePhase(h.at, healthyAt), ...(h.inconclusive ? { inconclusive: true } : {}) })),
    history: history.map((h) => ({ state: h.state, at: iso(h.at), reason: h.reason })),
    signals: store.recentSignals(repo.name, r.sha, 5).map((g) => ({ at: iso(g.at), note: g.note })),
    log: `/revisions/${r.sha}/log?repository=${encodeURIComponent(repo.name)}`,
    retry: isRuledOut(r.state) ? retryCommand(r.sha, src.configFile) : null,
  };
}
