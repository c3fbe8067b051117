// The deploy trigger's decisions, as pure functions of state and the clock:
// which revision is wanted, whether to start it now, whether to cut a running
// revision off, which ones to reap. The shells (trigger.ts) only gather the
// facts these need and carry out what they return.
import { formatDuration } from '../duration.js';

/** starting → healthy → reaped; starting/healthy → bad (cut off) or failed (exited); stopped = not running, may run again. */
export type RevisionState = 'starting' | 'healthy' | 'bad' | 'failed' | 'reaped' | 'stopped';

export const REVISION_STATES: readonly RevisionState[] = ['starting', 'healthy', 'bad', 'failed', 'reaped', 'stopped'];

export interface RevisionView {
  sha: string;
  state: RevisionState;
  /** Deploy order: a later deploy has a higher number. */
  seq: number;
  /** When the current state began (ms since the epoch). */
  since: number;
  /** When the deploy began. */
  startedAt: number;
}

/** How a candidate revision relates to the current desired one, from the mirror's history. */
export type Ancestry = 'same' | 'newer' | 'older' | 'unrelated';

/**
 * The newest trunk head known. A candidate replaces the desired revision unless
 * it is that revision or one of its ancestors (a late or redelivered event);
 * after a force-push (unrelated histories) the most recent observation wins.
 */
export function chooseDesired(current: string | null, candidate: string, relation: Ancestry): string {
  if (current === null) return candidate;
  return relation === 'newer' || relation === 'unrelated' ? candidate : current;
}

/** States that rule a revision out until `retry`. */
export function isRuledOut(state: RevisionState): boolean {
  return state === 'bad' || state === 'failed';
}

/** Running: a process (or an engine's deployment) exists for it. */
export function isRunning(state: RevisionState): boolean {
  return state === 'starting' || state === 'healthy';
}

/**
 * The revision to start now, if any. One deploy at a time per repository:
 * while a revision is starting, newer ones wait and coalesce into the newest
 * (the desired revision is a single value). A bad or failed desired revision
 * is never started again; the revisions already running keep serving.
 */
export function nextDeploy(desired: string | null, revisions: readonly RevisionView[]): string | null {
  if (desired === null) return null;
  if (revisions.some((r) => r.state === 'starting')) return null;
  const current = revisions.find((r) => r.sha === desired);
  if (current && (isRunning(current.state) || isRuledOut(current.state))) return null;
  return desired;
}

export interface BreakerConfig {
  /** Consecutive failed probes that cut a healthy revision off. */
  failures: number;
  /** How long a new revision may take to become healthy. */
  startupMs: number;
  /** More than `maxSignals` reports within `signalWindowMs` cut a revision off. */
  maxSignals: number;
  signalWindowMs: number;
  /** Output past `maxOutputRate` bytes a second, averaged over `outputWindowMs`, cuts a revision off; null: no limit. */
  maxOutputRate: number | null;
  outputWindowMs: number;
}

export interface BreakerFacts {
  state: RevisionState;
  startedAt: number;
  /** Failed probes in a row since the last success (or since the start). */
  consecutiveFailures: number;
  lastError: string | null;
  /** When the service's own error reports arrived (a retried revision's earlier runs included). */
  signalTimes: readonly number[];
  /** How much the revision had printed, sampled over time (oldest first); see `outputVerdict`. */
  output?: readonly OutputSample[];
}

/** A count of the bytes a revision has printed so far (its log writer's), and when it was read. */
export interface OutputSample {
  at: number;
  bytes: number;
}

/** `1536` → `1.5KB`: sizes shown back to people, 1024-based like the config's. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return `${bytes}B`;
}

/**
 * Whether a revision prints past `maxRate` bytes a second averaged over `windowMs`: more than
 * maxRate × window bytes between the latest sample and the earliest within the window (a loop is cut off
 * as soon as it has printed a window's worth, not a window later), or, when the samples are further apart
 * than the window (a slow probe interval), a higher average between the last two. A count that went down
 * is another process's (a restart): only what came after it counts. The reason, or null.
 */
export function outputVerdict(samples: readonly OutputSample[], maxRate: number, windowMs: number): string | null {
  let first = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i].bytes < samples[i - 1].bytes) first = i;
  const run = samples.slice(first);
  if (run.length < 2) return null;
  const last = run[run.length - 1];
  const from = run.find((s) => last.at - s.at <= windowMs && s !== last) ?? run[run.length - 2];
  const printed = last.bytes - from.bytes;
  const span = last.at - from.at;
  if (printed <= (maxRate * Math.max(windowMs, span)) / 1000) return null;
  return `printed ${formatBytes(printed)} in ${formatDuration(span)}, over logs.max_rate ${formatBytes(maxRate)}/s (averaged over ${formatDuration(windowMs)})`;
}

/** The samples `outputVerdict` still needs at `now`: those within the window, and the one before them. */
export function keptSamples(samples: readonly OutputSample[], now: number, windowMs: number): OutputSample[] {
  const inside = samples.findIndex((s) => now - s.at <= windowMs);
  return samples.slice(inside === -1 ? Math.max(0, samples.length - 1) : Math.max(0, inside - 1));
}

/**
 * Reports within the window that belong to the run that began at `since`: a
 * retried revision starts with a clean slate, not with its last run's reports.
 */
export function signalsWithin(times: readonly number[], now: number, windowMs: number, since = -Infinity): number {
  return times.filter((t) => t >= since && t > now - windowMs && t <= now).length;
}

/** The reason to cut a running revision off now, or null to leave it running. */
export function breakerVerdict(facts: BreakerFacts, config: BreakerConfig, now: number): string | null {
  if (!isRunning(facts.state)) return null;
  const reports = signalsWithin(facts.signalTimes, now, config.signalWindowMs, facts.startedAt);
  if (reports > config.maxSignals) {
    return `${reports} error reports from the service within ${formatDuration(config.signalWindowMs)} (more than ${config.maxSignals})`;
  }
  const flood = config.maxOutputRate === null ? null : outputVerdict(facts.output ?? [], config.maxOutputRate, config.outputWindowMs);
  if (flood) return flood;
  if (facts.state === 'starting') {
    // While starting, failed probes are expected; only the deadline counts.
    if (now - facts.startedAt >= config.startupMs) {
      return `not healthy within ${formatDuration(config.startupMs)} of starting${facts.lastError ? ` (last probe: ${facts.lastError})` : ''}`;
    }
    return null;
  }
  if (facts.consecutiveFailures >= config.failures) {
    return `${facts.consecutiveFailures} consecutive failed health probes (last: ${facts.lastError ?? 'failed'})`;
  }
  return null;
}

/**
 * After a probe: the new failure streak, and whether a starting revision has
 * become healthy. An inconclusive probe (the trigger's own failure) changes nothing.
 */
export function afterProbe(state: RevisionState, streak: number, ok: boolean | 'inconclusive'): { streak: number; becameHealthy: boolean } {
  if (ok === 'inconclusive') return { streak, becameHealthy: false };
  if (ok) return { streak: 0, becameHealthy: state === 'starting' };
  return { streak: streak + 1, becameHealthy: false };
}

/**
 * The revisions to reap: every healthy revision beyond the newest `keep`
 * (by deploy order). Only healthy ones are candidates, so a starting revision
 * is never reaped and the newest healthy one always stays (keep ≥ 1).
 */
export function reapList(revisions: readonly RevisionView[], keep: number): string[] {
  const healthy = revisions.filter((r) => r.state === 'healthy').sort((a, b) => b.seq - a.seq);
  return healthy.slice(Math.max(1, keep)).map((r) => r.sha);
}

/**
 * What adoption finds after a restart: a recorded process that is still the
 * same process (same PID and start time) is adopted; anything else is gone.
 */
export function adoptionVerdict(recorded: { pid: number | null; startTime: string | null }, live: { startTime: string } | null): 'adopt' | 'gone' {
  if (recorded.pid === null || recorded.startTime === null || live === null) return 'gone';
  return live.startTime === recorded.startTime ? 'adopt' : 'gone';
}

/** Why a revision was ruled out, from a fixed set (a metric label never carries free text). */
export type RuledOutCause = 'health' | 'startup' | 'signals' | 'output' | 'exited' | 'start_failed' | 'other';

export const RULED_OUT_CAUSES: readonly RuledOutCause[] = ['health', 'startup', 'signals', 'output', 'exited', 'start_failed', 'other'];

/**
 * The cause behind a bad or failed revision's recorded reason: the reasons
 * `breakerVerdict` gives (behind "cut off: "), an exit, or a start that failed.
 */
export function ruledOutCause(reason: string): RuledOutCause {
  const text = reason.replace(/^cut off: /, '');
  if (/^\d+ error reports from the service within /.test(text)) return 'signals';
  if (/^printed .* over logs\.max_rate /.test(text)) return 'output';
  if (/^not healthy within /.test(text)) return 'startup';
  if (/^\d+ consecutive failed health probes/.test(text)) return 'health';
  if (/^exited by itself/.test(text)) return 'exited';
  if (/^could not start/.test(text)) return 'start_failed';
  return 'other';
}

/** Which part of a revision's life a probe belongs to: before it was first healthy, or after. */
export function probePhase(at: number, healthyAt: number | null): 'startup' | 'serving' {
  return healthyAt === null || at < healthyAt ? 'startup' : 'serving';
}
