// One renderer for a verdict: markdown for the check run, a plain table for the
// terminal. The app and the CLI both use it, so they always say the same thing.
import type { Detail, Outcome, RuleResult, Verdict } from './rules/types.js';

const MARK: Record<Outcome, string> = { pass: '✅', fail: '❌', wait: '⏳', skip: '➖' };

/** One line for the check run's title and the CLI's last line. */
export function headline(verdict: Verdict): string {
  const first =
    verdict.results.find((r) => r.outcome === 'fail') ?? verdict.results.find((r) => r.outcome === 'wait');
  if (verdict.outcome === 'skip') return verdict.results[0]?.reason ?? 'not gated';
  if (!first) return 'all rules pass';
  const others = verdict.results.filter((r) => r.outcome === first.outcome).length - 1;
  return `${first.rule}: ${first.reason}${others > 0 ? ` (+${others} more)` : ''}`;
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function where(d: Detail): string {
  if (!d.path) return '';
  return d.line ? `${d.path}:${d.line}` : d.path;
}

/** One detail as the check run's text lists it: `` `path:line` message ``. */
export function markdownDetail(d: Detail): string {
  return `${where(d) ? `\`${where(d)}\` ` : ''}${d.message}`;
}

export interface RenderedMarkdown {
  title: string;
  /** The table, one row per rule. */
  summary: string;
  /** The details of every rule that has any. */
  text: string;
}

export function renderMarkdown(verdict: Verdict): RenderedMarkdown {
  const rows = verdict.results.map((r) => `| ${r.rule} | ${MARK[r.outcome]} ${r.outcome} | ${escapeCell(r.reason)} |`);
  const summary = [`**${MARK[verdict.outcome]} ${verdict.outcome}** — ${escapeCell(headline(verdict))}`, '', '| rule | result | measured |', '| --- | --- | --- |', ...rows].join('\n');
  const sections = verdict.results
    .filter((r) => r.details.length > 0)
    .map((r) => [`### ${r.rule}`, '', ...r.details.map((d) => `- ${markdownDetail(d)}`)].join('\n'));
  return { title: `${verdict.outcome}: ${headline(verdict)}`, summary, text: sections.join('\n\n') };
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/** The same table for a terminal, without markdown. */
export function renderTerminal(verdict: Verdict): string {
  const header = ['rule', 'result', 'measured'];
  const body = verdict.results.map((r: RuleResult) => [r.rule, r.outcome, r.reason]);
  const widths = [0, 1].map((i) => Math.max(header[i].length, ...body.map((row) => row[i].length)));
  const line = (row: string[]) => `${pad(row[0], widths[0])}  ${pad(row[1], widths[1])}  ${row[2]}`.trimEnd();
  const out = [line(header), line(header.map((h, i) => '-'.repeat(i < 2 ? widths[i] : h.length))), ...body.map(line)];
  for (const r of verdict.results.filter((x) => x.details.length > 0)) {
    out.push('', `${r.rule}:`);
    for (const d of r.details) out.push(`  ${where(d) ? `${where(d)}: ` : ''}${d.message}`);
  }
  out.push('', `${verdict.outcome.toUpperCase()}: ${headline(verdict)}`);
  return out.join('\n');
}
