// Judging an intent whose merge call gave no certain answer (a 5xx, a dropped
// connection, the abort, a crash): pure. GitHub may finish a merge a moment
// after failing to answer, so "not merged" is believed only once the merge
// call is `settleMs` in the past; until then the intent stays unresolved and
// its branch locked. A merge is ours only on evidence that GitHub made it for
// our call: the merged head is the pinned SHA, our app merged it, and the merge
// commit sits right on the base recorded as `before`. Anything else merged is
// someone else's merge, never announced as ours.

/** The default of MERGE_SETTLE: how long after a merge call without an answer GitHub may still finish it. */
export const DEFAULT_MERGE_SETTLE_MS = 60_000;

export interface IntentFacts {
  /** The intent: the head it pinned, the base head read before the call, the method. */
  intent: { headSha: string; before: string | null; method: string; updatedAt: number; uncertainSince: number | null };
  pull: { state: 'open' | 'closed'; merged: boolean; mergeCommitSha: string | null; headSha: string; mergedBy: string | null };
  /** Our app's bot account (`<slug>[bot]`). */
  appLogin: string;
  /** Does the merge commit sit right on `before` (merge/squash: its first parent; rebase: `before` is its ancestor)? null: not read. */
  onBefore: boolean | null;
  now: number;
  /** When this process started: a merge call of an earlier process was sent before it. */
  startedAt: number;
  settleMs: number;
}

export type IntentOutcome =
  | { kind: 'ours'; after: string }
  | { kind: 'merged-elsewhere'; after: string | null; why: string }
  | { kind: 'not-merged' }
  /** Not certain yet: read again at `until` (backoff: as long again as since the call ended, never past certainty). */
  | { kind: 'wait'; until: number }
  /** Merged, our head, by our app: read whether the merge commit sits on `before`, then judge again. */
  | { kind: 'read-parents'; after: string };

/**
 * When "not merged" becomes certain: `settleMs` after the merge call ended — after it failed, or (for an
 * intent left by a crash, whose call ended when the process died) after this process started.
 */
export function certainAt(intent: IntentFacts['intent'], startedAt: number, settleMs: number): number {
  return Math.max(intent.uncertainSince ?? 0, intent.updatedAt, startedAt) + settleMs;
}

export function judgeIntent(f: IntentFacts): IntentOutcome {
  const { pull, intent } = f;
  if (pull.merged) {
    if (!pull.mergeCommitSha) return { kind: 'wait', until: f.now }; // GitHub has not said which commit yet: read again
    const after = pull.mergeCommitSha;
    if (pull.headSha !== intent.headSha) return { kind: 'merged-elsewhere', after, why: `the merged head is ${pull.headSha}, not the pinned ${intent.headSha}` };
    if (pull.mergedBy?.toLowerCase() !== f.appLogin.toLowerCase()) return { kind: 'merged-elsewhere', after, why: `merged by ${pull.mergedBy ?? 'an unknown account'}, not ${f.appLogin}` };
    if (f.onBefore === null) return { kind: 'read-parents', after };
    if (!f.onBefore) return { kind: 'merged-elsewhere', after, why: `the merge commit ${after} does not sit on the base head ${intent.before} read before the merge call` };
    return { kind: 'ours', after };
  }
  if (pull.state === 'closed') return { kind: 'not-merged' };
  const certain = certainAt(intent, f.startedAt, f.settleMs);
  if (f.now >= certain) return { kind: 'not-merged' };
  const since = certain - f.settleMs;
  return { kind: 'wait', until: Math.min(certain, f.now + Math.max(1_000, f.now - since)) };
}
