// The status page: what a person reads at a glance. A pure function of the
// state snapshot (the same value `/api/state` serves); every datum is escaped.
import type { RevisionState } from './core.js';

export interface StateSnapshot {
  generatedAt: string;
  repositories: {
    name: string;
    branch: string;
    desired: string | null;
    revisions: {
      sha: string;
      state: RevisionState;
      since: string;
      reason: string;
      port: number | null;
      pid: number | null;
      health: { at: string; ok: boolean; ms: number; error: string | null }[];
    }[];
    history: { sha: string; state: RevisionState; at: string; reason: string }[];
  }[];
  deliveries: { id: string; receivedAt: string; repository: string | null; branch: string | null; after: string | null; outcome: string; note: string }[];
}

/** Seconds between refreshes of the page. */
export const REFRESH_SECONDS = 2;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : '—');

/** A small bar chart of the latest probes: height is latency, red is a failed probe. */
export function healthChart(health: StateSnapshot['repositories'][number]['revisions'][number]['health']): string {
  const width = 160;
  const height = 28;
  if (health.length === 0) return `<svg class="chart" role="img" aria-label="no health probes yet" width="${width}" height="${height}"></svg>`;
  const max = Math.max(1, ...health.map((h) => h.ms));
  const bar = width / Math.max(health.length, 20);
  const failed = health.filter((h) => !h.ok).length;
  const bars = health
    .map((h, i) => {
      const hgt = h.ok ? Math.max(2, (h.ms / max) * (height - 2)) : height;
      const title = `${h.at}: ${h.ok ? `ok in ${h.ms} ms` : `failed: ${h.error ?? 'failed'}`}`;
      return `<rect class="${h.ok ? 'ok' : 'fail'}" x="${(i * bar).toFixed(1)}" y="${(height - hgt).toFixed(1)}" width="${Math.max(1, bar - 1).toFixed(1)}" height="${hgt.toFixed(1)}"><title>${escapeHtml(title)}</title></rect>`;
    })
    .join('');
  const label = `health history: ${health.length} probes, ${failed} failed`;
  return `<svg class="chart" role="img" aria-label="${escapeHtml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${bars}</svg>`;
}

export function renderPage(s: StateSnapshot): string {
  const repos = s.repositories
    .map((repo) => {
      const rows = repo.revisions
        .map(
          (r) => `<tr class="revision" data-sha="${escapeHtml(r.sha)}">
<td><code title="${escapeHtml(r.sha)}">${escapeHtml(short(r.sha))}</code>${r.sha === repo.desired ? ' <span class="desired">desired</span>' : ''}</td>
<td><span class="state ${escapeHtml(r.state)}">${escapeHtml(r.state)}</span></td>
<td><time datetime="${escapeHtml(r.since)}">${escapeHtml(r.since.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time></td>
<td class="reason">${escapeHtml(r.reason)}</td>
<td>${r.port ?? ''}</td>
<td>${healthChart(r.health)}</td>
</tr>`,
        )
        .join('\n');
      return `<section class="repository">
<h2>${escapeHtml(repo.name)} <small>${escapeHtml(repo.branch)}</small></h2>
<p>Desired revision: <code class="desired-sha">${escapeHtml(short(repo.desired))}</code></p>
<table><thead><tr><th>revision</th><th>state</th><th>since</th><th>why</th><th>port</th><th>health</th></tr></thead>
<tbody>${rows || '<tr><td colspan="6">no revision deployed yet</td></tr>'}</tbody></table>
</section>`;
    })
    .join('\n');
  const deliveries = s.deliveries
    .map((d) => `<tr><td><time>${escapeHtml(d.receivedAt)}</time></td><td>${escapeHtml(d.outcome)}</td><td>${escapeHtml(d.repository ?? '')}</td><td><code>${escapeHtml(short(d.after))}</code></td><td>${escapeHtml(d.note)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>merge-gate deploy trigger</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2328}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}h2 small{color:#656d76;font-weight:normal}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .6em;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}
.state{padding:.1em .5em;border-radius:1em;font-weight:600;color:#fff}
.starting{background:#9a6700}.healthy{background:#1a7f37}.bad{background:#cf222e}.failed{background:#8250df}.reaped,.stopped{background:#6e7781}
.desired{font-size:.8em;color:#0969da}.reason{max-width:32em}
.chart rect.ok{fill:#2da44e}.chart rect.fail{fill:#cf222e}.chart{background:#f6f8fa}
</style></head>
<body>
<h1>merge-gate deploy trigger</h1>
<p>As of <time>${escapeHtml(s.generatedAt)}</time>; this page refreshes every ${REFRESH_SECONDS}s. JSON: <a href="/api/state">/api/state</a>, metrics: <a href="/metrics">/metrics</a>.</p>
${repos}
<h2>Recent deliveries</h2>
<table><thead><tr><th>received</th><th>outcome</th><th>repository</th><th>revision</th><th>note</th></tr></thead>
<tbody>${deliveries || '<tr><td colspan="5">none yet</td></tr>'}</tbody></table>
</body></html>
`;
}
