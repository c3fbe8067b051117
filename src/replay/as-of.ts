// A merged pull request's facts as they stood at one instant (its merge), from
// what GitHub still holds about it. Pure. What cannot be told apart from a
// later change (a status or check run whose only record is after the instant)
// is reported so the rule is `unknown`, never guessed.
import type { CheckResult, DeploymentFacts, Review } from '../facts/types.js';
import { checkState, deploymentFacts, type ContextNode, type DeploymentNode } from '../github/nodes.js';

export interface LabelEvent {
  name: string;
  added: boolean;
  /** ISO 8601. */
  at: string;
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);
const notAfter = (iso: string | null | undefined, t: number): boolean => ms(iso) <= t;

/** The labels carried at `at`: the label events up to it, in order (names compared as GitHub does, ignoring case). */
export function labelsAt(events: readonly LabelEvent[], at: string): string[] {
  const t = ms(at);
  const carried = new Map<string, string>();
  const ordered = [...events].filter((e) => notAfter(e.at, t)).sort((a, b) => ms(a.at) - ms(b.at));
  for (const e of ordered) {
    if (e.added) carried.set(e.name.toLowerCase(), e.name);
    else carried.delete(e.name.toLowerCase());
  }
  return [...carried.values()];
}

/** The reviews submitted by `at` (the rules then take each reviewer's latest, and `fresh` compares with the merged head). */
export function reviewsAt(reviews: readonly Review[], at: string): Review[] {
  const t = ms(at);
  return reviews.filter((r) => notAfter(r.submittedAt, t));
}

/**
 * The head's checks as they stood at `at`: a check run started by then counts
 * with its conclusion if it completed by then, else as pending; a status counts
 * if posted by then. `unreadable`: names whose only record is later (a re-run
 * or a new status replaces the earlier one on GitHub, so their state then is lost).
 */
export function checksAt(contexts: readonly ContextNode[], at: string): { checks: CheckResult[]; unreadable: string[] } {
  const t = ms(at);
  const checks: CheckResult[] = [];
  const later = new Set<string>();
  for (const c of contexts) {
    if (c.__typename === 'CheckRun') {
      if (!notAfter(c.startedAt, t)) {
        later.add(c.name);
        continue;
      }
      const done = c.status === 'COMPLETED' && notAfter(c.completedAt, t);
      checks.push({ name: c.name, source: 'check_run', state: done ? checkState(c) : 'pending', updatedAt: done ? c.completedAt! : c.startedAt! });
    } else {
      if (!notAfter(c.createdAt, t)) {
        later.add(c.context);
        continue;
      }
      checks.push({ name: c.context, source: 'status', state: checkState(c), updatedAt: c.createdAt });
    }
  }
  const seen = new Set(checks.map((c) => c.name));
  return { checks, unreadable: [...later].filter((name) => !seen.has(name)) };
}

export interface DeploymentHistoryNode extends DeploymentNode {
  /** `pageInfo.hasNextPage`: more statuses than were read (the state then is not known for sure). */
  statuses: { pageInfo?: { hasNextPage: boolean }; nodes: Array<NonNullable<DeploymentNode['latestStatus']>> };
}

/** The newest deployment created by `at` (null: none yet). */
export function newestDeploymentAt(history: readonly DeploymentHistoryNode[], at: string): DeploymentHistoryNode | null {
  const t = ms(at);
  let newest: DeploymentHistoryNode | null = null;
  for (const d of history) if (notAfter(d.createdAt, t) && (!newest || ms(d.createdAt) > ms(newest.createdAt))) newest = d;
  return newest;
}

/** The newest deployment created by `at`, with its latest status posted by then (null: none yet). */
export function deploymentAt(history: readonly DeploymentHistoryNode[], environment: string, at: string): DeploymentFacts | null {
  const t = ms(at);
  const newest = newestDeploymentAt(history, at);
  if (!newest) return null;
  const statuses = newest.statuses.nodes.filter((s) => notAfter(s.createdAt, t)).sort((a, b) => ms(a.createdAt) - ms(b.createdAt));
  return deploymentFacts({ ...newest, latestStatus: statuses.at(-1) ?? null }, environment);
}
