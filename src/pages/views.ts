// The state database read into the pages' views (SPEC §7; the shapes are
// types.ts): every queue with its pull requests in order, what each one's check
// says (the same words, src/queue/messages.ts), the last landings and the wait
// to expect; and a pull request's latest evaluation, place in its queue and
// history. No GitHub request: titles and authors come from the evaluations the
// gate recorded (src/history).
import { changesBetween } from '../history/changes.js';
import { EvaluationHistory } from '../history/store.js';
import { describe, type QueueState } from '../queue/core.js';
import { recentLandings } from '../queue/journal.js';
import { describeQueued, type QueuedStatus } from '../queue/messages.js';
import { QueueStore, type StoredBranch } from '../queue/store.js';
import type { Db } from '../state/db.js';
import type { LandingView, PullPageView, QueuePullView, QueueView } from './types.js';

/** The last landings a queue shows. */
const RECENT_LANDINGS = 10;
/** The expected wait: the median of this many of the latest times to land (the core's own figures, join to land, per pull request). */
const WAIT_SAMPLES = 20;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

type Headlines = ReturnType<EvaluationHistory['headlines']>;

function pullInQueue(state: QueueState, index: number, headlines: Headlines): QueuePullView {
  const entry = state.pulls[index];
  // Every pull request of state.pulls is queued: describe never says 'absent' for one.
  const status = describe(state, entry.number) as QueuedStatus;
  const latest = headlines.get(entry.number);
  return {
    number: entry.number,
    title: latest?.title ?? null,
    author: latest?.author ?? null,
    url: latest?.url ?? null,
    position: index + 1,
    batch: status.kind === 'queued' ? null : status.batch,
    status,
    says: describeQueued(status).title,
    joinedAt: entry.joinedAt,
    since: status.kind === 'queued' ? entry.joinedAt : status.since,
  };
}

function landings(db: Db, branch: StoredBranch): LandingView[] {
  return recentLandings(db, branch.key, RECENT_LANDINGS).map((l) => ({
    batch: l.batch,
    sha: l.after,
    landedAt: l.landedAt,
    pulls: l.pulls.map((p) => ({
      number: p.number,
      title: p.title,
      url: p.url,
      waitedMs: p.joinedAt === undefined ? null : l.landedAt - p.joinedAt,
    })),
  }));
}

function queueView(db: Db, branch: StoredBranch, history: EvaluationHistory): QueueView {
  const { state, where } = branch;
  const headlines = history.headlines(where.repository);
  return {
    installationId: where.installationId,
    repository: where.repository,
    branch: where.branch,
    pulls: state.pulls.map((_, i) => pullInQueue(state, i, headlines)),
    recent: landings(db, branch),
    expectedWaitMs: median(state.stats.timesToLand.slice(-WAIT_SAMPLES)),
  };
}

/** Every queue with something queued or landed, in the store's order (installation, repository, branch). As stored: `now` is taken for symmetry with pullView and the routes' clock, and not needed today. */
export function queueViews(db: Db, now: number): QueueView[] {
  const history = new EvaluationHistory(db);
  return new QueueStore(db)
    .branches()
    .map((b) => queueView(db, b, history))
    .filter((q) => q.pulls.length > 0 || q.recent.length > 0);
}

/** A pull request's page, but for who is looking (login, csrf). */
export function pullView(db: Db, repository: string, number: number, now: number): Omit<PullPageView, 'login' | 'csrf'> {
  const history = new EvaluationHistory(db);
  const records = history.list(repository, number);
  const latest = records[0] ?? null;
  let queue: PullPageView['queue'] = null;
  for (const branch of new QueueStore(db).branches()) {
    if (branch.where.repository.toLowerCase() !== repository.toLowerCase()) continue;
    const index = branch.state.pulls.findIndex((p) => p.number === number);
    if (index < 0) continue;
    queue = { branch: branch.where.branch, pull: pullInQueue(branch.state, index, history.headlines(repository)), of: branch.state.pulls.length };
    break;
  }
  return {
    generatedAt: now,
    repository: latest?.repository ?? repository,
    number,
    latest,
    queue,
    history: records.map((record, i) => ({ record, changes: changesBetween(records[i + 1] ?? null, record) })),
  };
}
