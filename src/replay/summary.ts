// What a replay adds up to, and its JSON (SPEC §6, exactly that shape). Pure.
import { REPLAY_RULES, type ChangeResult, type ReplayRule } from './types.js';

export interface ReplaySummary {
  total: number;
  pass: number;
  fail: number;
  wait: number;
  unknown: number;
  by_rule: Record<ReplayRule, { fail: number; wait: number; unknown: number }>;
}

export function summarize(results: readonly ChangeResult[]): ReplaySummary {
  const by_rule = Object.fromEntries(REPLAY_RULES.map((r) => [r, { fail: 0, wait: 0, unknown: 0 }])) as ReplaySummary['by_rule'];
  const summary: ReplaySummary = { total: results.length, pass: 0, fail: 0, wait: 0, unknown: 0, by_rule };
  for (const c of results) {
    summary[c.result]++;
    for (const rule of REPLAY_RULES) {
      const cell = c.rules[rule];
      if (cell === 'fail' || cell === 'wait' || cell === 'unknown') by_rule[rule][cell]++;
    }
  }
  return summary;
}

/** The landings a freeze would have held, and for how long in total (a freeze with no end is counted apart). */
export function freezeWaits(results: readonly ChangeResult[]): { held: number; hours: number; endless: number } {
  const held = results.filter((c) => c.freezeWaitHours !== null);
  const endless = held.filter((c) => c.freezeWaitHours === Infinity).length;
  const hours = held.reduce((sum, c) => sum + (c.freezeWaitHours === Infinity ? 0 : c.freezeWaitHours!), 0);
  return { held: held.length, hours, endless };
}

/** `merge-gate replay --json`: newest first, as the results come. */
export function replayJson(results: readonly ChangeResult[]) {
  return {
    summary: summarize(results),
    changes: results.map((c) => ({ sha: c.sha, pull_request: c.pullRequest, title: c.title, at: c.at, result: c.result, rules: c.rules, reasons: c.reasons })),
  };
}

/** The changes that would not have landed when they did: blocked or held. */
export const notPassed = (results: readonly ChangeResult[]) => results.filter((c) => c.result === 'fail' || c.result === 'wait');
