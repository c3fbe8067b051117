// The status page: what a person reads at a glance, at 3 a.m. too. A pure
// function of the state snapshot (the same value `/api/state` serves); every
// datum is escaped — pull request titles, commit subjects, reports and log
// lines are their authors' text, never markup.
import { escapeHtml } from '../escape.js';
import { isRuledOut, type RevisionState } from './core.js';

export interface ProbeSnapshot {
  at: string;
  ok: boolean;
  ms: number;
  error: string | null;
  /** Before the revision was first healthy (failures are expected then), or after. */
  phase: 'startup' | 'serving';
  /** The trigger's own failure (EMFILE, a stalled event loop): not counted against the revision. */
  inconclusive?: boolean;
}

export interface RevisionSnapshot {
  sha: string;
  state: RevisionState;
  since: string;
  startedAt: string;
  reason: string;
  port: number | null;
  pid: number | null;
  /** The commit's subject line, from the trigger's mirror. */
  subject: string | null;
  /** The pull requests that landed it, as the event named them. */
  pulls: { number: number; title: string; url: string; author: string }[];
  health: ProbeSnapshot[];
  /** This revision's state changes, oldest first. */
  history: { state: RevisionState; at: string; reason: string }[];
  /** The last error reports the service posted to SIGNAL_URL, newest first. */
  signals: { at: string; note: string }[];
  /** Path of the last lines of its output. */
  log: string;
  /** The command that lets it deploy again, when it is bad or failed. */
  retry: string | null;
}

export interface StateSnapshot {
  generatedAt: string;
  repositories: {
    name: string;
    branch: string;
    desired: string | null;
    /** One page, newest deploys first (50 at most). */
    revisions: RevisionSnapshot[];
    /** `/api/state?before=` this for the next older page, or null when there is none. */
    older?: number | null;
    history: { sha: string; state: RevisionState; at: string; reason: string }[];
  }[];
  deliveries: { id: string; receivedAt: string; repository: string | null; branch: string | null; after: string | null; outcome: string; note: string }[];
  /** Deliveries refused before they were trusted (401, 400, 413), newest first. */
  refused: { at: string; status: number; reason: string; webhookId: string | null }[];
  /** Why the trigger deploys nothing more (a state write failed in a background path), or null. */
  degraded?: string | null;
}

/** Seconds between refreshes of the page. */
export const REFRESH_SECONDS = 2;

export { escapeHtml };

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : '—');

/** A word a POSIX shell reads back as itself. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command, as `merge-gate deploy-trigger --help` spells it, that lets `sha` deploy again. */
export function retryCommand(sha: string, configFile: string): string {
  return `merge-gate deploy-trigger retry ${sha} --config ${shellWord(configFile)}`;
}

/** `3 min ago` relative to `now` (the snapshot's own time, never the machine's). */
export function ago(atMs: number, nowMs: number): string {
  const s = Math.round((nowMs - atMs) / 1000);
  if (s < 0) return `in ${-s} s`;
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The one time format of the page, as plain text: UTC to the second, and how long ago. */
export function timeText(iso: string, now: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : `${utc(at)} (${ago(at, Date.parse(now))})`;
}

/** The same as markup (escaped). */
export function timeHtml(iso: string, now: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return `<time>${escapeHtml(iso)}</time>`;
  return `<time datetime="${escapeHtml(iso)}">${utc(at)}</time> <span class="ago">(${ago(at, Date.parse(now))})</span>`;
}

const CHART_WIDTH = 160;
const CHART_HEIGHT = 28;

/**
 * A small bar chart of the latest probes, on the page's one latency scale
 * (`scaleMs` is full height in every row). Probes while starting are drawn
 * apart, grey and low: a service not answering yet is expected, not a failure.
 * After the first healthy probe: green bars are latency, red full bars failures.
 */
export function healthChart(health: readonly ProbeSnapshot[], scaleMs: number, now: string): string {
  const attrs = `width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}"`;
  if (health.length === 0) return `<svg class="chart" role="img" aria-label="no health probes yet" ${attrs}></svg>`;
  const bar = CHART_WIDTH / Math.max(health.length, 20);
  const h = CHART_HEIGHT;
  const parts: string[] = [];
  health.forEach((p, i) => {
    const x = i * bar;
    if (i > 0 && p.phase === 'serving' && health[i - 1].phase === 'startup') parts.push(`<line class="became-healthy" x1="${(x - 0.5).toFixed(1)}" x2="${(x - 0.5).toFixed(1)}" y1="0" y2="${h}"/>`);
    const cls = p.ok ? 'ok' : p.phase === 'startup' || p.inconclusive ? 'startup' : 'fail';
    const hgt = p.ok ? Math.max(2, (Math.min(p.ms, scaleMs) / scaleMs) * (h - 2)) : cls === 'startup' ? h / 3 : h;
    const what = p.ok ? `ok in ${p.ms} ms` : `${p.inconclusive ? 'not counted' : p.phase === 'startup' ? 'not up yet' : 'failed'}: ${p.error ?? 'failed'}`;
    parts.push(`<rect class="${cls}" x="${x.toFixed(1)}" y="${(h - hgt).toFixed(1)}" width="${Math.max(1, bar - 1).toFixed(1)}" height="${hgt.toFixed(1)}"><title>${escapeHtml(`${timeText(p.at, now)}: ${what}`)}</title></rect>`);
  });
  const startup = health.filter((p) => p.phase === 'startup').length;
  const failed = health.filter((p) => p.phase === 'serving' && !p.ok && !p.inconclusive).length;
  const label = `health history: ${health.length} probes, ${startup} while starting, ${failed} failed after`;
  return `<svg class="chart" role="img" aria-label="${escapeHtml(label)}" ${attrs}>${parts.join('')}</svg>`;
}

/**
 * Full height of every chart: the 95th percentile of the passing probes on the
 * whole page (at least 1 ms), so one slow probe does not flatten every bar;
 * slower probes reach the top.
 */
export function latencyScale(s: StateSnapshot): number {
  const ms = s.repositories.flatMap((r) => r.revisions.flatMap((v) => v.health.filter((p) => p.ok).map((p) => p.ms))).sort((a, b) => a - b);
  if (ms.length === 0) return 1;
  return Math.max(1, ms[Math.ceil(ms.length * 0.95) - 1]);
}

function pullsHtml(r: RevisionSnapshot): string {
  const pulls = r.pulls.map((p) => {
    const label = `#${p.number} ${escapeHtml(p.title)}`;
    const link = p.url ? `<a href="${escapeHtml(p.url)}" rel="noreferrer noopener">${label}</a>` : label;
    return `<span class="pull">${link} <span class="author">by ${escapeHtml(p.author)}</span></span>`;
  });
  const subject = r.subject ? `<span class="subject">${escapeHtml(r.subject)}</span>` : '';
  return [subject, ...pulls].join('<br>');
}

function detailsHtml(r: RevisionSnapshot, now: string): string {
  const history = r.history
    .map((h) => `<li><span class="state ${escapeHtml(h.state)}">${escapeHtml(h.state)}</span> ${timeHtml(h.at, now)} <span class="why">${escapeHtml(h.reason)}</span></li>`)
    .join('');
  const signals = r.signals.length
    ? `<div class="signals"><strong>Last error reports from the service</strong><ul>${r.signals.map((g) => `<li>${timeHtml(g.at, now)} <q>${escapeHtml(g.note)}</q></li>`).join('')}</ul></div>`
    : '';
  const retry = r.retry ? `<div class="retry">To deploy it again: <code class="retry-command">${escapeHtml(r.retry)}</code></div>` : '';
  // Revisions no longer running and not ruled out (reaped, stopped) keep their history folded.
  const folded = r.state === 'reaped' || r.state === 'stopped';
  const historyHtml = folded ? `<details class="history"><summary>History</summary><ol>${history}</ol></details>` : `<div class="history"><strong>History</strong><ol>${history}</ol></div>`;
  return `${historyHtml}${signals}${retry}`;
}

function revisionRows(r: RevisionSnapshot, desired: string | null, scaleMs: number, now: string): string {
  return `<tr class="revision" data-sha="${escapeHtml(r.sha)}">
<td><code title="${escapeHtml(r.sha)}">${escapeHtml(short(r.sha))}</code>${r.sha === desired ? ' <span class="desired">desired</span>' : ''}</td>
<td class="landed">${pullsHtml(r)}</td>
<td><span class="state ${escapeHtml(r.state)}">${escapeHtml(r.state)}</span></td>
<td class="since">${timeHtml(r.since, now)}</td>
<td class="reason">${escapeHtml(r.reason)}</td>
<td>${r.port ?? ''}</td>
<td>${healthChart(r.health, scaleMs, now)}</td>
<td><a class="log" href="${escapeHtml(r.log)}">last lines</a></td>
</tr>
<tr class="details" data-sha="${escapeHtml(r.sha)}"><td></td><td colspan="7">${detailsHtml(r, now)}</td></tr>`;
}

function bannerHtml(repo: StateSnapshot['repositories'][number]): string {
  const desired = repo.revisions.find((r) => r.sha === repo.desired);
  if (!desired || !isRuledOut(desired.state)) return '';
  const retry = desired.retry ? ` or <code>${escapeHtml(desired.retry)}</code>` : '';
  return `<div class="banner" role="alert"><strong>The desired revision ${escapeHtml(short(desired.sha))} is ${escapeHtml(desired.state)}</strong>: ${escapeHtml(desired.reason)}.<br>
Nothing new deploys until a new landing${retry}. The revisions still running keep serving.</div>`;
}

function repositoryHtml(repo: StateSnapshot['repositories'][number], scaleMs: number, now: string): string {
  const rows = repo.revisions.map((r) => revisionRows(r, repo.desired, scaleMs, now)).join('\n');
  const subject = repo.revisions.find((r) => r.sha === repo.desired)?.subject;
  return `<section class="repository">
<h2>${escapeHtml(repo.name)} <small>${escapeHtml(repo.branch)}</small></h2>
${bannerHtml(repo)}
<p>Desired revision: <code class="desired-sha">${escapeHtml(short(repo.desired))}</code>${subject ? ` <span class="subject">${escapeHtml(subject)}</span>` : ''}</p>
<table><thead><tr><th>revision</th><th>landed by</th><th>state</th><th>since</th><th>why</th><th>port</th><th>health</th><th>log</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8">no revision deployed yet</td></tr>'}</tbody></table>
${olderHtml(repo.older)}
</section>`;
}

/** The page shows one page of revisions: a link to the next older one (the page, held still, and its JSON). */
function olderHtml(older: number | null | undefined): string {
  if (older === null || older === undefined) return '';
  const before = encodeURIComponent(String(older));
  return `<p class="older">Older revisions: <a href="/?before=${before}&amp;refresh=0">the next page</a> (JSON: <a href="/api/state?before=${before}">/api/state?before=${before}</a>)</p>`;
}

function deliveriesHtml(s: StateSnapshot): string {
  const now = s.generatedAt;
  const accepted = s.deliveries
    .map((d) => `<tr><td>${timeHtml(d.receivedAt, now)}</td><td>${escapeHtml(d.outcome)}</td><td>${escapeHtml(d.repository ?? '')}</td><td><code>${escapeHtml(short(d.after))}</code></td><td>${escapeHtml(d.note)}</td></tr>`)
    .join('\n');
  const refused = s.refused
    .map((r) => `<tr class="refused"><td>${timeHtml(r.at, now)}</td><td><span class="status">${r.status}</span></td><td class="reason">${escapeHtml(r.reason)}</td><td><code>${escapeHtml(r.webhookId ?? '')}</code></td></tr>`)
    .join('\n');
  return `<section class="deliveries">
<h2>Recent deliveries</h2>
<table><thead><tr><th>received</th><th>outcome</th><th>repository</th><th>revision</th><th>note</th></tr></thead>
<tbody>${accepted || '<tr><td colspan="5">none yet</td></tr>'}</tbody></table>
<h2 id="refused">Refused deliveries</h2>
<p class="hint">Not signed with a configured secret (401: check <code>secret_env</code> on both sides), not a trunk-updated (400), or too large (413). Only the latest are kept.</p>
<table class="refused"><thead><tr><th>received</th><th>status</th><th>reason</th><th>webhook-id</th></tr></thead>
<tbody>${refused || '<tr><td colspan="4">none</td></tr>'}</tbody></table>
</section>`;
}

/** `refresh: false` (GET /?refresh=0) holds the page still, to read or copy from it. */
export function renderPage(s: StateSnapshot, options: { refresh?: boolean; before?: number | null } = {}): string {
  const refresh = options.refresh ?? true;
  const scaleMs = latencyScale(s);
  const repos = s.repositories.map((repo) => repositoryHtml(repo, scaleMs, s.generatedAt)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
${refresh ? `<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
` : ''}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>merge-gate deploy trigger</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2328}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}h2 small{color:#656d76;font-weight:normal}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .6em;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}
tr.revision td{border-bottom:none;padding-top:.6em}tr.details td{font-size:.9em;color:#424a53;padding-bottom:.6em}
.details ol,.details ul{margin:.1em 0 .3em;padding-left:1.4em}.details .state{font-size:.85em}.details div{margin:.2em 0}
.state{padding:.1em .5em;border-radius:1em;font-weight:600;color:#fff;white-space:nowrap}
.starting{background:#9a6700}.healthy{background:#1a7f37}.bad{background:#cf222e}.failed{background:#8250df}.reaped,.stopped{background:#6e7781}
.desired{font-size:.8em;color:#0969da}.reason{max-width:28em}.landed{max-width:22em}.subject{font-weight:600}.author,.ago,.hint{color:#656d76}
time{white-space:nowrap}
.banner{background:#ffebe9;border:1px solid #cf222e;border-radius:6px;padding:.6em .9em;margin:.5em 0}
.retry-command,.banner code{background:#f6f8fa;padding:.1em .3em;user-select:all}
tr.refused .status{color:#cf222e;font-weight:600}
.chart rect.ok{fill:#2da44e}.chart rect.fail{fill:#cf222e}.chart rect.startup{fill:#afb8c1}.chart line{stroke:#1f2328;stroke-width:1}.chart{background:#f6f8fa}
</style></head>
<body>
<h1>merge-gate deploy trigger</h1>
${s.degraded ? `<div class="banner" role="alert"><strong>Degraded: nothing more is deployed</strong>: ${escapeHtml(s.degraded)}.<br>The revisions running keep serving. Fix the cause (disk space, the state file), then restart the trigger.</div>` : ''}
<p>As of ${timeHtml(s.generatedAt, s.generatedAt)}; ${refresh ? `this page refreshes every ${REFRESH_SECONDS}s (<a href="/?refresh=0">hold still</a>)` : 'refreshing is paused (<a href="/">resume</a>)'}. JSON: <a href="/api/state">/api/state</a>, metrics: <a href="/metrics">/metrics</a>.</p>
<p class="hint legend">Health bars: latency of passing probes in green, one scale for every row (full height ${escapeHtml(String(Math.round(scaleMs)))} ms, the 95th percentile; slower ones reach the top); grey, low: probes while starting (not answering yet is expected then); a line where it became healthy; red, full: failed probes after that.</p>
${options.before ? `<p class="paged">Revisions deployed before #${escapeHtml(String(options.before))}. <a href="/">The newest</a></p>
` : ''}${repos}
${deliveriesHtml(s)}
</body></html>
`;
}
