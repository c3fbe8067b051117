// A replay: facts gathered as of a past instant, then the pure rules. A source
// (local git history here; merged pull requests on GitHub next) yields each
// change with a FactsSource, the same interface the check run uses.
import type { FactsSource } from '../facts/types.js';
import type { RuleName } from '../rules/types.js';

/** The rules a replay reports on, in the check's order. */
export const REPLAY_RULES = ['reviews', 'size', 'freeze', 'flags', 'checks', 'trunk'] as const satisfies readonly RuleName[];
export type ReplayRule = (typeof REPLAY_RULES)[number];

/** A rule's result for one change; `unknown` when its facts cannot be recovered (never guessed). */
export type ReplayCell = 'pass' | 'fail' | 'wait' | 'skip' | 'unknown';
export type ReplayOutcome = 'pass' | 'fail' | 'wait' | 'unknown';

export interface ReplayChange {
  sha: string;
  /** The pull request's number; null for a change read from git. */
  pullRequest: number | null;
  /** The pull request's page; null for a change read from git. */
  url: string | null;
  /** Author data: escape wherever it is shown. */
  title: string;
  /** When it landed (ISO 8601, UTC): the instant it is judged at. */
  at: string;
}

export interface ReplaySource {
  /** Rules whose facts this source cannot recover: reported `unknown`. */
  readonly unknown: readonly ReplayRule[];
  /** Labels are facts of this source (else the report says whether a mechanical label could have let an oversized change through). */
  readonly labelsKnown?: boolean;
  /** The changes, newest first, each with the facts as they stood when it landed, and the rules its own facts cannot decide. */
  changes(): AsyncIterable<{ change: ReplayChange; facts: FactsSource; unknown?: readonly ReplayRule[] }>;
  /** Releases processes or connections. */
  close(): void;
}

export interface ChangeResult extends ReplayChange {
  result: ReplayOutcome;
  rules: Record<ReplayRule, ReplayCell>;
  /** The failing and waiting rules' reasons, in the check's words ("size: 612 / 500 lines"). */
  reasons: string[];
  /** How long a freeze would have held it (hours); null when it would not, Infinity for a freeze with no end. */
  freezeWaitHours: number | null;
}
