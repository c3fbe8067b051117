// The gate's verdict: one result per rule and their combination (SPEC §2).

export type Outcome = 'pass' | 'fail' | 'wait' | 'skip';

export const RULE_NAMES = ['policy', 'reviews', 'owners', 'size', 'freeze', 'flags', 'checks', 'trunk'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Detail {
  message: string;
  /** Repository path the detail is about, for annotations. */
  path?: string;
  /** 1-based line in `path`. */
  line?: number;
  column?: number;
}

export interface RuleResult {
  rule: RuleName;
  outcome: Outcome;
  /** One line, with the measured figure against the limit ("612 / 500 lines, 3 files excluded"). */
  reason: string;
  details: Detail[];
  /** A person can fix a failure by acting on GitHub (approving, labelling). */
  actionRequired?: boolean;
}

export interface Verdict {
  outcome: Outcome;
  results: RuleResult[];
  /** The next instant (ISO 8601) at which time alone can change the verdict: a freeze starting or ending. */
  nextChangeAt: string | null;
  /** Head commit the verdict is about. */
  headSha: string;
}

/** fail if any rule fails, else wait if any waits, else pass (all skipped: pass). */
export function combine(results: readonly RuleResult[]): Outcome {
  if (results.some((r) => r.outcome === 'fail')) return 'fail';
  if (results.some((r) => r.outcome === 'wait')) return 'wait';
  return 'pass';
}
