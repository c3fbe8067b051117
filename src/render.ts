// One renderer for a verdict: markdown for the check run, a plain table for the
// terminal. The app and the CLI both use it, so they always say the same thing.
import { escapeControls, escapeMarkdown, escapeTerminal, markdownCode } from './escape.js';
import type { Detail, Outcome, RuleResult, Verdict } from './rules/types.js';

const MARK: Record<Outcome, string> = { pass: '✅', fail: '❌', wait: '⏳', skip: '➖' };

/** One line for the check run's title and the CLI's last line: every failing rule (else every waiting one) and why. */
export function headline(verdict: Verdict): string {
  if (verdict.outcome === 'skip') return verdict.results[0]?.reason ?? 'not gated';
  const failing = verdict.results.filter((r) => r.outcome === 'fail');
  const named = failing.length > 0 ? failing : verdict.results.filter((r) => r.outcome === 'wait');
  if (named.length === 0) return 'all rules pass';
  return named.map((r) => `${r.rule}: ${r.reason}`).join('; ');
}

/** Where a detail is: `path:line`, `path`, or ''. */
export function where(d: Detail): string {
  if (!d.path) return '';
  return d.line ? `${d.path}:${d.line}` : d.path;
}

/** One detail as the check run's text lists it: `` `path:line` message ``, the path a code span, the message escaped. */
export function markdownDetail(d: Detail): string {
  return `${where(d) ? `${markdownCode(where(d))} ` : ''}${escapeMarkdown(d.message)}`;
}

/** The details of every rule that has any, one section per rule (owners gives several rows, and one section). */
export function sections(verdict: Pick<Verdict, 'results'>): Array<[RuleResult['rule'], Detail[]]> {
  const out: Array<[RuleResult['rule'], Detail[]]> = [];
  for (const r of verdict.results) {
    if (r.details.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last[0] === r.rule) last[1].push(...r.details);
    else out.push([r.rule, [...r.details]]);
  }
  return out;
}

export interface RenderedMarkdown {
  title: string;
  /** The table, one row per rule. */
  summary: string;
  /** The details of every rule that has any. */
  text: string;
}

export function renderMarkdown(verdict: Verdict): RenderedMarkdown {
  const rows = verdict.results.map((r) => `| ${r.rule} | ${MARK[r.outcome]} ${r.outcome} | ${escapeMarkdown(r.reason)} |`);
  const summary = [`**${MARK[verdict.outcome]} ${verdict.outcome}** — ${escapeMarkdown(headline(verdict))}`, '', '| rule | result | measured |', '| --- | --- | --- |', ...rows].join('\n');
  const text = sections(verdict).map(([rule, details]) => [`### ${rule}`, '', ...details.map((d) => `- ${markdownDetail(d)}`)].join('\n'));
  // The title is plain text on GitHub: only controls are escaped.
  return { title: `${verdict.outcome}: ${escapeControls(headline(verdict))}`, summary, text: text.join('\n\n') };
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/** The same table for a terminal, without markdown. */
export function renderTerminal(verdict: Verdict): string {
  const header = ['rule', 'result', 'measured'];
  const body = verdict.results.map((r: RuleResult) => [r.rule, r.outcome, escapeTerminal(r.reason)]);
  const widths = [0, 1].map((i) => Math.max(header[i].length, ...body.map((row) => row[i].length)));
  const line = (row: string[]) => `${pad(row[0], widths[0])}  ${pad(row[1], widths[1])}  ${row[2]}`.trimEnd();
  const out = [line(header), line(header.map((h, i) => '-'.repeat(i < 2 ? widths[i] : h.length))), ...body.map(line)];
  for (const [rule, details] of sections(verdict)) {
    out.push('', `${rule}:`);
    for (const d of details) out.push(`  ${where(d) ? `${escapeTerminal(where(d))}: ` : ''}${escapeTerminal(d.message)}`);
  }
  out.push('', `${verdict.outcome.toUpperCase()}: ${escapeTerminal(headline(verdict))}`);
  return out.join('\n');
}
