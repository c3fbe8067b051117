// `merge-gate replay --html FILE`: one self-contained page (no script, no
// external asset) with the summary, a timeline of the changes coloured by
// outcome (inline SVG) and the changes that would not have passed. Every
// title and reason is its author's text: escaped, never markup.
import { escapeControls, escapeHtml } from '../escape.js';
import { freezeWaits, notPassed, summarize } from './summary.js';
import { summaryLines, type ReplayHeading } from './render.js';
import { REPLAY_RULES, type ChangeResult, type ReplayOutcome } from './types.js';

const COLOUR: Record<ReplayOutcome, string> = { pass: '#2da44e', fail: '#cf222e', wait: '#bf8700', unknown: '#8c959f' };
const ROW: Record<ReplayOutcome, number> = { fail: 0, wait: 1, unknown: 2, pass: 3 };
const text = (s: string) => escapeHtml(escapeControls(s));

/** The timeline: one mark per change at its instant, one row per outcome. */
export function timelineSvg(results: readonly ChangeResult[]): string {
  const width = 960;
  const left = 70;
  const rowH = 28;
  const height = rowH * 4 + 30;
  const times = results.map((c) => Date.parse(c.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number) => left + (t1 === t0 ? (width - left - 10) / 2 : ((t - t0) / (t1 - t0)) * (width - left - 10));
  const parts: string[] = [];
  for (const [outcome, row] of Object.entries(ROW) as [ReplayOutcome, number][]) {
    parts.push(`<text x="4" y="${row * rowH + 22}" class="row">${outcome}</text>`);
  }
  results.forEach((c, i) => {
    const cx = x(times[i]).toFixed(1);
    const cy = ROW[c.result] * rowH + 18;
    const tip = `${c.at} ${c.pullRequest !== null ? `#${c.pullRequest}` : c.sha.slice(0, 12)} ${c.result}: ${c.title}${c.reasons.length ? ` — ${c.reasons.join('; ')}` : ''}`;
    parts.push(`<circle class="change ${c.result}" cx="${cx}" cy="${cy}" r="5" fill="${COLOUR[c.result]}"><title>${text(tip)}</title></circle>`);
  });
  if (results.length) {
    const axis = rowH * 4 + 20;
    parts.push(`<text x="${left}" y="${axis}" class="axis">${text(results[results.length - 1].at.slice(0, 10))}</text>`);
    parts.push(`<text x="${width - 10}" y="${axis}" class="axis" text-anchor="end">${text(results[0].at.slice(0, 10))}</text>`);
  }
  return `<svg class="timeline" role="img" aria-label="changes over time, coloured by outcome" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

export function renderReplayHtml(results: readonly ChangeResult[], heading: ReplayHeading): string {
  const s = summarize(results);
  const w = freezeWaits(results);
  const ruleRows = REPLAY_RULES.map((r) => `<tr><th>${r}</th><td>${s.by_rule[r].fail}</td><td>${s.by_rule[r].wait}</td><td>${s.by_rule[r].unknown}</td></tr>`).join('');
  const blocked = notPassed(results)
    .map((c) => {
      const ref = c.pullRequest !== null ? `#${c.pullRequest}` : c.sha.slice(0, 12);
      const link = c.url && /^https?:\/\//.test(c.url) ? `<a href="${text(c.url)}" rel="noreferrer noopener">${text(ref)}</a>` : `<code>${text(ref)}</code>`;
      return `<tr class="${c.result}"><td>${link}</td><td>${c.result}</td><td>${text(c.at)}</td><td>${text(c.title)}</td><td><ul>${c.reasons.map((r) => `<li>${text(r)}</li>`).join('')}</ul></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>merge-gate replay</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
.timeline{border:1px solid #d0d7de;max-width:100%;height:auto}.row,.axis{font-size:12px;fill:#57606a}
tr.fail td:nth-child(2){color:${COLOUR.fail}}tr.wait td:nth-child(2){color:${COLOUR.wait}}ul{margin:0;padding-left:1.2em}
</style></head><body>
<h1>merge-gate replay</h1>
<ul class="summary">${summaryLines(results, heading).map((l) => `<li>${text(l)}</li>`).join('')}</ul>
<table class="totals"><tr><th></th><th>pass</th><th>fail</th><th>wait</th><th>unknown</th></tr>
<tr><th>all</th><td>${s.pass}</td><td>${s.fail}</td><td>${s.wait}</td><td>${s.unknown}</td></tr></table>
<table class="by-rule"><tr><th>rule</th><th>fail</th><th>wait</th><th>unknown</th></tr>${ruleRows}</table>
${w.held ? `<p class="waits">A freeze would have held ${w.held} landings for ${w.hours.toFixed(1)} hours in total.</p>` : ''}
<h2>Timeline</h2>
${results.length ? timelineSvg(results) : '<p>No changes.</p>'}
<h2>Would not have passed</h2>
<table class="blocked"><tr><th>change</th><th>result</th><th>at</th><th>title</th><th>reasons</th></tr>
${blocked}
</table>
</body></html>
`;
}
