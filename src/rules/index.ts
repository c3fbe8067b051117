// The gate: which facts a policy needs, and the verdict from (policy, facts, now).
// Everything here is pure except gatherFacts, which only asks the FactsSource.
import { DateTime } from 'luxon';
import type { FactNeeds, FactsSource, PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import { errorCount, formatPolicyError, type PolicyError } from '../policy/load.js';
import { matchesAny } from '../policy/glob.js';
import type { RuleContext } from './context.js';
import { combine, type RuleName, type RuleResult, type Verdict } from './types.js';
import { reviewsRule } from './reviews.js';
import { ownersRule, ownersTeamsToRead } from './owners.js';
import { teamKey, TEAM } from './codeowners.js';
import { sizeRule, needsHunksForSize } from './size.js';
import { freezeRule, nextFreezeBoundary } from './freeze.js';
import { flagsRule, needsHunksForFlags } from './flags.js';
import { checksRule } from './checks.js';
import { trunkRule } from './trunk.js';
import { plural } from './words.js';

// owners gives one row per group that applies, and none at all when reviews.owners is not configured.
const RULES: ReadonlyArray<[RuleName, (ctx: RuleContext) => RuleResult | RuleResult[]]> = [
  ['reviews', reviewsRule],
  ['owners', ownersRule],
  ['size', sizeRule],
  ['freeze', freezeRule],
  ['flags', flagsRule],
  ['checks', checksRule],
  ['trunk', trunkRule],
];

/** The facts a policy needs; a rule that is not configured costs nothing. */
export function factNeeds(policy: Policy): FactNeeds {
  return {
    reviews: Boolean(policy.reviews || policy.freeze?.exception || policy.size?.mechanical || policy.trunk?.exception),
    files: Boolean(policy.size || policy.flags || policy.reviews?.scale.length || policy.reviews?.owners.length),
    checks: Boolean(policy.checks?.required.length),
    registryPath: policy.flags?.registry ?? null,
    gitattributes: Boolean(policy.size?.linguist_generated),
    ...(policy.reviews?.owners.length ? { owners: ownersNeeds(policy.reviews.owners) } : {}),
    ...(policy.trunk ? { trunk: { environment: policy.trunk.environment, revertLabel: policy.trunk.revert ? (policy.trunk.exception?.label ?? null) : null } } : {}),
  };
}

/** The teams `from` lists name (lower-cased, once each) and whether CODEOWNERS is read. */
function ownersNeeds(groups: NonNullable<Policy['reviews']>['owners']): NonNullable<FactNeeds['owners']> {
  const teams = new Set(groups.flatMap((g) => (g.from ?? []).filter((o) => TEAM.test(o)).map(teamKey)));
  return { teams: [...teams].sort(), codeowners: groups.some((g) => g.codeowners === true) };
}

/** Hunks are the expensive fact: only flags and a claimed-mechanical change need them. */
export function needsHunks(policy: Policy, facts: PullRequestFacts): boolean {
  return needsHunksForFlags(policy) || needsHunksForSize(policy.size, facts);
}

export async function gatherFacts(policy: Policy, source: FactsSource): Promise<PullRequestFacts> {
  const facts = await source.load(factNeeds(policy));
  if (!isGated(policy, facts.base.ref)) return facts;
  if (needsHunks(policy, facts)) facts.diff = await source.diff(facts);
  if (source.teams && policy.reviews?.owners.length) {
    // Facts the source did not gather make the owners rule fail closed, saying so; nothing to read for it here.
    const wanted = (() => { try { return ownersTeamsToRead(policy, facts); } catch { return []; } })();
    const missing = wanted.filter((t) => !facts.teams?.[t]);
    if (missing.length > 0) facts.teams = { ...facts.teams, ...(await source.teams(missing)) };
  }
  return facts;
}

export function isGated(policy: Policy, baseRef: string): boolean {
  return !policy.branches || matchesAny(baseRef, policy.branches);
}

export function evaluate(policy: Policy, facts: PullRequestFacts, now: Date | DateTime): Verdict {
  const at = (now instanceof Date ? DateTime.fromJSDate(now) : now).toUTC();
  if (!isGated(policy, facts.base.ref)) {
    const reason = `base branch ${facts.base.ref} is not gated (branches: ${policy.branches!.join(', ')})`;
    const configured = RULES.filter(([rule]) => rule !== 'owners' || policy.reviews?.owners.length);
    const results = configured.map(([rule]): RuleResult => ({ rule, outcome: 'skip', reason, details: [] }));
    return { outcome: 'skip', results, nextChangeAt: null, headSha: facts.head.sha };
  }
  const ctx: RuleContext = { policy, facts, now: at };
  const results = RULES.flatMap(([rule, run]): RuleResult | RuleResult[] => {
    try {
      return run(ctx);
    } catch (err) {
      // Fail closed: a rule that cannot decide blocks, and says why.
      return { rule, outcome: 'fail', reason: `could not evaluate: ${(err as Error).message}`, details: [] };
    }
  });
  const next = nextFreezeBoundary(policy, at);
  return { outcome: combine(results), results, nextChangeAt: next ? next.toUTC().toISO() : null, headSha: facts.head.sha };
}

/** A policy with errors blocks every pull request it governs, and says why. */
export function policyErrorVerdict(errors: readonly PolicyError[], headSha: string): Verdict {
  const policy: RuleResult = {
    rule: 'policy',
    outcome: 'fail',
    reason: `${plural(errorCount(errors), 'error')} in ${errors[0]?.file ?? 'the policy'}`,
    // The "and N more" entry points nowhere: it is not an annotation.
    details: errors.map((e) => (e.more ? { message: formatPolicyError(e) } : { message: formatPolicyError(e), path: e.file, line: e.line, column: e.column })),
  };
  return { outcome: 'fail', results: [policy], nextChangeAt: null, headSha };
}
