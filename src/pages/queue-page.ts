// GET /queue (SPEC §7): every merge queue the person may read, one section per
// repository and base branch: who is in it and in what state (held ones
// marked, with why), the last landings and their time in the queue, and the
// wait to expect. Pure: the view is all it knows (views.ts reads it from the
// state database; its `generatedAt` is "now"). /api/queue is the same view as JSON.
import type { PullStatus } from '../queue/types.js';
import type { LandingView, QueuePageView, QueuePullView, QueueView } from './types.js';
import { html, link, type SafeHtml } from './html.js';
import { renderDocument, timeTag } from './layout.js';
import { durationWords, pullsPrefix, shortSha } from './words.js';

/** Why its own rules hold it (a freeze, the trunk), when they do. */
export function heldReason(status: PullStatus): string | null {
  return 'held' in status ? status.held : null;
}

function pullCell(prefix: string, p: { number: number; title: string | null; url: string | null }): SafeHtml {
  const name = html`#${p.number}${p.title === null ? '' : html` <bdi>${p.title}</bdi>`}`;
  return html`${link(p.url, name)} <a class="muted" href="${prefix + p.number}">(verdict<span class="sr"> of #${p.number}</span>)</a>`;
}

function pullRow(prefix: string, p: QueuePullView, now: number): SafeHtml {
  const held = heldReason(p.status);
  const state = html`<strong>${held === null ? p.status.kind : html`held (${p.status.kind})`}</strong>: ${p.says}${
    held === null ? '' : html`<br><span class="held-reason">Held: ${held}</span>`
  }`;
  return html`<tr${held === null ? '' : html` class="held"`}>
<td data-label="Position">${p.position}</td>
<td data-label="Pull request">${pullCell(prefix, p)}${p.author === null ? '' : html`<br><span class="muted">by <bdi>${p.author}</bdi></span>`}</td>
<td data-label="Batch">${p.batch ?? html`<span class="muted">—</span>`}</td>
<td data-label="State">${state}</td>
<td data-label="Since">${timeTag(p.since)} <span class="muted">(for ${durationWords(now - p.since)})</span></td>
</tr>`;
}

function landingRow(prefix: string, l: LandingView, now: number): SafeHtml {
  const pulls = l.pulls.map(
    (p) => html`<li>${pullCell(prefix, p)}: ${p.waitedMs === null ? 'time in queue unknown' : html`${durationWords(p.waitedMs)} in the queue`}</li>`,
  );
  return html`<tr>
<td data-label="Batch">${l.batch}${l.sha === null ? '' : html` <code>${shortSha(l.sha)}</code>`}</td>
<td data-label="Landed">${timeTag(l.landedAt)} <span class="muted">(${durationWords(now - l.landedAt)} ago)</span></td>
<td data-label="Pull requests"><ul class="changes">${pulls}</ul></td>
</tr>`;
}

/** "a pull request queued now can expect to land in about 40 min", or why there is no estimate. */
export function expectedWait(ms: number | null): string {
  return ms === null ? 'No landings yet: no estimate of the wait.' : `A pull request queued now can expect to land in about ${durationWords(ms)}.`;
}

function queueSection(q: QueueView, index: number, now: number): SafeHtml {
  const id = `queue-${index}`;
  const prefix = pullsPrefix(q.repository); // once per queue, not per row
  const pulls = q.pulls.length === 0
    ? html`<p>Nobody is in this queue.</p>`
    : html`<table class="stack">
<caption>In the queue for <bdi>${q.branch}</bdi> (${q.pulls.length})</caption>
<thead><tr><th scope="col">Position</th><th scope="col">Pull request</th><th scope="col">Batch</th><th scope="col">State</th><th scope="col">Since</th></tr></thead>
<tbody>${q.pulls.map((p) => pullRow(prefix, p, now))}</tbody>
</table>`;
  const recent = q.recent.length === 0
    ? html`<p>No landings yet.</p>`
    : html`<table class="stack">
<caption>Last landings</caption>
<thead><tr><th scope="col">Batch</th><th scope="col">Landed</th><th scope="col">Pull requests and their time in the queue</th></tr></thead>
<tbody>${q.recent.map((l) => landingRow(prefix, l, now))}</tbody>
</table>`;
  return html`<section aria-labelledby="${id}">
<h2 id="${id}"><bdi>${q.repository}</bdi> → <bdi>${q.branch}</bdi></h2>
<p>${expectedWait(q.expectedWaitMs)}</p>
${pulls}
${recent}
</section>`;
}

/** The content of the queue page's <main>. */
function queueMain(view: QueuePageView): SafeHtml {
  const body = view.queues.length === 0
    ? html`<p>There is no queue you can read.</p>`
    : view.queues.map((q, i) => queueSection(q, i, view.generatedAt));
  return html`<h1>Merge queues</h1>\n${body}`;
}

export function renderQueuePage(view: QueuePageView): string {
  return renderDocument({ title: 'Merge queues', login: view.login, csrf: view.csrf, generatedAt: view.generatedAt, main: queueMain(view), refresh: true });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** GET /api/queue: the view without the CSRF token, each instant in ms and as ISO 8601 (`…Iso`). */
export function queueApiJson(view: QueuePageView): string {
  const { csrf: _csrf, ...rest } = view;
  return JSON.stringify({
    ...rest,
    generatedAtIso: iso(view.generatedAt),
    queues: view.queues.map((q) => ({
      ...q,
      pulls: q.pulls.map((p) => ({ ...p, joinedAtIso: iso(p.joinedAt), sinceIso: iso(p.since) })),
      recent: q.recent.map((l) => ({ ...l, landedAtIso: iso(l.landedAt) })),
    })),
  });
}
