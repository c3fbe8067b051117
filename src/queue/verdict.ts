// What a pull request's verdict means for its place in the queue (SPEC §4a),
// pure: a pass that may land joins; a wait only because of a freeze or the
// trunk rule holds it (it keeps its place, nothing holding it lands); anything
// else sends it out of the queue.
import type { Verdict } from '../rules/types.js';

export type QueueVerdict = { kind: 'join' } | { kind: 'hold'; reason: string } | { kind: 'leave' };

/** The rules whose `wait` holds the queue rather than emptying it. */
const HOLDING_RULES: ReadonlySet<string> = new Set(['freeze', 'trunk']);

/** `mayLand`: `land.mode` lets it land (not a draft, the label there). */
export function queueVerdict(verdict: Pick<Verdict, 'outcome' | 'results'>, mayLand: boolean): QueueVerdict {
  if (verdict.outcome === 'pass') return mayLand ? { kind: 'join' } : { kind: 'leave' };
  const blocking = verdict.results.filter((r) => r.outcome === 'wait' || r.outcome === 'fail');
  if (verdict.outcome === 'wait' && mayLand && blocking.every((r) => HOLDING_RULES.has(r.rule))) {
    return { kind: 'hold', reason: blocking.map((r) => r.reason).join('; ') };
  }
  return { kind: 'leave' };
}
