// The replay's shell: ask the source for each change's facts, judge it.
import type { Policy } from '../policy/schema.js';
import { gatherFacts } from '../rules/index.js';
import { judgeChange, withMechanicalLabel } from './judge.js';
import type { ChangeResult, ReplaySource } from './types.js';

export async function runReplay(policy: Policy, source: ReplaySource, progress: (done: number) => void = () => {}): Promise<ChangeResult[]> {
  const results: ChangeResult[] = [];
  try {
    for await (const { change, facts: factsSource, unknown: own = [] } of source.changes()) {
      const facts = await gatherFacts(policy, factsSource);
      const unknown = [...source.unknown, ...own];
      let result = judgeChange(policy, change, facts, unknown);
      // Labels unknown: would the mechanical label, verified, have let an oversized change through?
      const labelled = result.rules.size === 'fail' && !source.labelsKnown ? withMechanicalLabel(policy, facts) : null;
      if (labelled) {
        labelled.diff ??= await factsSource.diff(facts);
        result = judgeChange(policy, change, facts, unknown, labelled);
      }
      results.push(result);
      progress(results.length);
    }
  } finally {
    source.close();
  }
  return results;
}
