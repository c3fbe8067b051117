// A replay's report for a terminal and as markdown (an issue or a comment).
// Titles and reasons carry author data: escaped in each medium.
import { escapeMarkdown, escapeTerminal, markdownCode } from '../escape.js';
import { plural } from '../rules/words.js';
import { freezeWaits, notPassed, summarize } from './summary.js';
import { REPLAY_RULES, type ChangeResult } from './types.js';

export interface ReplayHeading {
  /** What was replayed, e.g. "main (first-parent history)". */
  what: string;
  /** Where the policy came from. */
  policy: string;
  /** Rules the source cannot know, reported unknown. */
  unknown: readonly string[];
}

export const hours = (h: number): string => `${h.toFixed(h < 10 ? 1 : 0)} hours`;

/** The summary's sentences, shared by every format (plain text: escape for the medium). */
export function summaryLines(results: readonly ChangeResult[], heading: ReplayHeading): string[] {
  const s = summarize(results);
  // Committer dates need not grow along a first-parent history: the span is the earliest to the latest.
  const ats = results.map((c) => c.at).sort();
  const span = ats.length ? `, ${ats[0]} to ${ats[ats.length - 1]}` : '';
  const lines = [
    `${plural(s.total, 'change')} of ${heading.what}${span}; policy: ${heading.policy}`,
    `would have passed ${s.pass}, failed ${s.fail}, waited ${s.wait}, unknown ${s.unknown}`,
  ];
  const byRule = REPLAY_RULES.map((r) => {
    const c = s.by_rule[r];
    const parts = (['fail', 'wait', 'unknown'] as const).filter((k) => c[k] > 0).map((k) => `${k} ${c[k]}`);
    return parts.length ? `${r} ${parts.join(', ')}` : null;
  }).filter(Boolean);
  lines.push(`by rule: ${byRule.length ? byRule.join('; ') : 'nothing blocked or held'}`);
  const w = freezeWaits(results);
  if (w.held > 0) lines.push(`a freeze would have held ${plural(w.held, 'landing')} for ${hours(w.hours)} in total${w.endless ? ` (${w.endless} in a freeze with no end)` : ''}`);
  if (heading.unknown.length) lines.push(`unknown here (never guessed): ${heading.unknown.join(', ')}`);
  return lines;
}

const short = (c: ChangeResult) => (c.pullRequest !== null ? `#${c.pullRequest}` : c.sha.slice(0, 12));

export function renderReplayText(results: readonly ChangeResult[], heading: ReplayHeading): string {
  const out = summaryLines(results, heading).map(escapeTerminal);
  const blocked = notPassed(results);
  if (blocked.length) {
    out.push('', 'would not have passed:');
    for (const c of blocked) {
      out.push(`  ${short(c)}  ${c.result}  ${c.at}  ${escapeTerminal(c.title)}`);
      for (const r of c.reasons) out.push(`      ${escapeTerminal(r)}`);
    }
  }
  return out.join('\n');
}

export function renderReplayMarkdown(results: readonly ChangeResult[], heading: ReplayHeading): string {
  const s = summarize(results);
  const [first, ...rest] = summaryLines(results, heading);
  const out = [`**merge-gate replay**: ${escapeMarkdown(first)}`, '', ...rest.slice(1).map((l) => `- ${escapeMarkdown(l)}`), ''];
  out.push('| | pass | fail | wait | unknown |', '| --- | --- | --- | --- | --- |', `| **all** | ${s.pass} | ${s.fail} | ${s.wait} | ${s.unknown} |`);
  for (const r of REPLAY_RULES) out.push(`| ${r} | | ${s.by_rule[r].fail} | ${s.by_rule[r].wait} | ${s.by_rule[r].unknown} |`);
  const blocked = notPassed(results);
  if (blocked.length) {
    out.push('', `### Would not have passed (${blocked.length})`, '');
    for (const c of blocked) {
      const ref = c.url && /^https?:\/\//.test(c.url) ? `[${escapeMarkdown(short(c))}](${encodeURI(c.url).replace(/[()]/g, (p) => `%${p.charCodeAt(0).toString(16)}`)})` : markdownCode(short(c));
      out.push(`- ${ref} **${c.result}** ${escapeMarkdown(c.title)}${c.reasons.map((r) => `\n  - ${escapeMarkdown(r)}`).join('')}`);
    }
  }
  return out.join('\n');
}
