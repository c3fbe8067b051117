import type { DateTime } from 'luxon';
import type { Policy } from '../policy/schema.js';
import type { PullRequestFacts } from '../facts/types.js';

/** Everything a rule may look at. Rules are pure functions of this. */
export interface RuleContext {
  policy: Policy;
  facts: PullRequestFacts;
  /** The evaluation instant (UTC); injected, never read from the machine clock. */
  now: DateTime;
}

/** A fact the gatherer should have loaded; its absence is a bug, and evaluation fails closed. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal error: ${what} were not gathered`);
  return value;
}
