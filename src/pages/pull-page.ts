// GET /pulls/<owner>/<repo>/<number> (SPEC §7), the check run's details_url:
// the latest verdict in the check's words (one row per rule, then each rule's
// details as the check lists them), which approvals counted and why not, the
// `reviews.owners` groups and who can approve, the place in the queue, and the
// evaluations newest first with what changed. Pure, like queue-page.ts.
import type { ReviewState } from '../facts/types.js';
import { headline, sections, where } from '../render.js';
import type { ApprovalStanding, EvaluationRecord, OwnersGroupView, PullPageView } from './types.js';
import { html, link, type SafeHtml } from './html.js';
import { renderDocument, timeTag } from './layout.js';
import { heldReason } from './queue-page.js';
import { durationWords, outcomeTag, shortSha, yesNo } from './words.js';

/** How many of a group's files are listed before "+N more". */
const FILES_SHOWN = 5;

const OPINION: Record<ReviewState, string> = {
  APPROVED: 'approved',
  CHANGES_REQUESTED: 'changes requested',
  DISMISSED: 'dismissed',
  COMMENTED: 'commented',
  PENDING: 'pending',
};

const names = (logins: readonly string[]): SafeHtml =>
  logins.length === 0 ? html`nobody` : html`${logins.map((l, i) => html`${i > 0 ? ', ' : ''}<bdi>${l}</bdi>`)}`;

function verdictSection(r: EvaluationRecord): SafeHtml {
  const rows = r.results.map(
    (x) => html`<tr><td data-label="Rule">${x.rule}</td><td data-label="Result">${outcomeTag(x.outcome)}</td><td data-label="Measured">${x.reason}</td></tr>`,
  );
  const details = sections(r).map(
    ([rule, list]) => html`<h3>${rule}</h3><ul>${list.map((d) => html`<li>${where(d) ? html`<code>${where(d)}</code> ` : ''}${d.message}</li>`)}</ul>`,
  );
  const summary = headline({ outcome: r.outcome, results: r.results, nextChangeAt: null, headSha: r.headSha });
  return html`<section aria-labelledby="verdict">
<h2 id="verdict">Verdict: ${outcomeTag(r.outcome)}</h2>
<p>${summary}</p>
<table class="stack">
<caption>Rules on <code>${shortSha(r.headSha)}</code></caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Result</th><th scope="col">Measured</th></tr></thead>
<tbody>${rows}</tbody>
</table>
${details}
</section>`;
}

function approvalRow(a: ApprovalStanding): SafeHtml {
  return html`<tr>
<td data-label="Reviewer"><bdi>${a.login}</bdi></td>
<td data-label="Opinion">${OPINION[a.state] ?? a.state}</td>
<td data-label="On commit"><code>${shortSha(a.commitSha)}</code></td>
<td data-label="Counted">${yesNo(a.counted)}</td>
<td data-label="Why not">${a.why ?? ''}</td>
</tr>`;
}

function approvalsSection(r: EvaluationRecord): SafeHtml {
  const body = r.approvals.length === 0
    ? html`<p>No reviews yet.</p>`
    : html`<table class="stack">
<caption>Reviews and whether they counted</caption>
<thead><tr><th scope="col">Reviewer</th><th scope="col">Opinion</th><th scope="col">On commit</th><th scope="col">Counted</th><th scope="col">Why not</th></tr></thead>
<tbody>${r.approvals.map(approvalRow)}</tbody>
</table>`;
  return html`<section aria-labelledby="approvals"><h2 id="approvals">Approvals</h2>${body}</section>`;
}

function filesList(files: readonly string[]): SafeHtml {
  const more = files.length - FILES_SHOWN;
  return html`${files.slice(0, FILES_SHOWN).map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f}</code>`)}${more > 0 ? ` +${more} more` : ''}`;
}

function ownersRow(g: OwnersGroupView): SafeHtml {
  return html`<tr>
<td data-label="Group"><bdi>${g.group}</bdi></td>
<td data-label="Holds">${yesNo(g.holds)}</td>
<td data-label="Approvals">${g.approvers.length} of ${g.required} required: ${names(g.approvers)}</td>
<td data-label="Can approve">${names(g.candidates)}${g.blocked.length === 0 ? '' : html`<br>Changes requested by ${names(g.blocked)}`}</td>
<td data-label="Files">${filesList(g.files)}</td>
</tr>`;
}

function ownersSection(r: EvaluationRecord): SafeHtml {
  if (r.owners.length === 0) return html``;
  return html`<section aria-labelledby="owners"><h2 id="owners">Code owners</h2>
<table class="stack">
<caption>Owner groups whose files it changes</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Satisfied</th><th scope="col">Approvals</th><th scope="col">Can approve</th><th scope="col">Files</th></tr></thead>
<tbody>${r.owners.map(ownersRow)}</tbody>
</table></section>`;
}

function queueSection(view: PullPageView): SafeHtml {
  const q = view.queue;
  const where = q === null
    ? html`<p>Not queued.</p>`
    : html`<p${heldReason(q.pull.status) === null ? '' : html` class="held"`}>Position ${q.pull.position} of ${q.of} for <bdi>${q.branch}</bdi>: ${q.pull.says}${
      heldReason(q.pull.status) === null ? '' : html`<br><span class="held-reason">Held: ${heldReason(q.pull.status)}</span>`
    }</p><p>In the queue for ${durationWords(view.generatedAt - q.pull.joinedAt)}. <a href="/queue">All queues</a></p>`;
  return html`<section aria-labelledby="queue"><h2 id="queue">Merge queue</h2>${where}</section>`;
}

function historyItem(h: PullPageView['history'][number]): SafeHtml {
  const r = h.record;
  const again = r.seen > 1 ? html` <span class="muted">(the same ${r.seen} times, until ${timeTag(r.lastAt)})</span>` : '';
  const changes = h.changes.length === 0 ? html`<span class="muted">—</span>` : html`<ul class="changes">${h.changes.map((c) => html`<li>${c}</li>`)}</ul>`;
  return html`<tr>
<td data-label="When">${timeTag(r.at)}${again}</td>
<td data-label="Why">${r.causes.join(', ')}</td>
<td data-label="Verdict">${outcomeTag(r.outcome)}</td>
<td data-label="Head"><code>${shortSha(r.headSha)}</code></td>
<td data-label="What changed">${changes}</td>
</tr>`;
}

function historySection(view: PullPageView): SafeHtml {
  const body = view.history.length === 0
    ? html`<p>No evaluations recorded.</p>`
    : html`<table class="stack">
<caption>Evaluations, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Why</th><th scope="col">Verdict</th><th scope="col">Head</th><th scope="col">What changed</th></tr></thead>
<tbody>${view.history.map(historyItem)}</tbody>
</table>`;
  return html`<section aria-labelledby="history"><h2 id="history">History</h2>${body}</section>`;
}

function pullMain(view: PullPageView): SafeHtml {
  const r = view.latest;
  if (r === null) {
    return html`<h1>#${view.number} in <bdi>${view.repository}</bdi></h1>
<p>merge-gate has not evaluated this pull request yet.</p>
${queueSection(view)}`;
  }
  return html`<h1>#${r.number} <bdi>${r.title}</bdi></h1>
<p><bdi>${r.repository}</bdi> into <bdi>${r.base}</bdi>, by <bdi>${r.author}</bdi>, head <code>${shortSha(r.headSha)}</code>. ${link(r.url, 'On GitHub')}</p>
${verdictSection(r)}
${approvalsSection(r)}
${ownersSection(r)}
${queueSection(view)}
${historySection(view)}`;
}

export function renderPullPage(view: PullPageView): string {
  const title = view.latest === null ? `#${view.number} ${view.repository}` : `#${view.number} ${view.latest.title}`;
  return renderDocument({ title, login: view.login, csrf: view.csrf, generatedAt: view.generatedAt, main: pullMain(view) });
}
