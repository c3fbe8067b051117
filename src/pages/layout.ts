// The document every page of the app shares (SPEC §7): landmarks, a skip link,
// who is signed in and a sign-out form (POST /logout with its CSRF token), and
// the page's only style and script, inline and allowed by their hashes in
// PAGES_CSP (no external asset, nothing else may run). The queue page refreshes
// its <main> in place every REFRESH_SECONDS; without JavaScript a <noscript>
// meta refresh reloads it, a little less often.
import { createHash } from 'node:crypto';
import { utcDateTime } from '../queue/messages.js';
import { html, raw, type SafeHtml } from './html.js';

/** Seconds between refreshes of the queue page. */
export const REFRESH_SECONDS = 10;

// Contrast: every text colour is at least 4.5:1 on its background (WCAG AA). Under 600px a table's rows stack, each cell labelled.
export const PAGES_CSS = `
:root{color-scheme:light;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff}
body{margin:0}header,nav,main,footer{padding:.5rem 1rem;max-width:72rem;margin:0 auto}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;border-bottom:1px solid #d0d7de}
header form{display:inline}button{font:inherit;padding:.25rem .75rem;border:1px solid #57606a;border-radius:4px;background:#f6f8fa;color:#1b1f24;cursor:pointer}
a{color:#0a58ca}a:focus,button:focus{outline:3px solid #0a58ca;outline-offset:2px}
.skip,.sr{position:absolute;left:-999rem}.skip:focus{position:static}
.brand{font-weight:700;text-decoration:none;color:#1b1f24}
h1{font-size:1.5rem;margin:.75rem 0}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #d0d7de}th{background:#f6f8fa}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}td,li{overflow-wrap:anywhere}
.muted{color:#57606a}.pass{color:#116329}.fail{color:#b42318}.wait{color:#7a4d00}.skip-outcome{color:#57606a}
.held{background:#fff3cd}.held-reason{font-weight:600}
ul.changes{margin:0;padding-left:1.2rem}
@media (max-width:600px){
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack thead{position:absolute;left:-999rem}
table.stack tr{border-bottom:2px solid #d0d7de;padding:.25rem 0}
table.stack td{border:0;padding:.15rem .25rem}
table.stack td::before{content:attr(data-label) ": ";font-weight:600}
}
`.trim();

/**
 * Every REFRESH_SECONDS while the tab is visible: fetch this same page and put its <main> in place of ours (unless nothing changed,
 * or the person's focus is in it). Signed out meanwhile (redirected): reload, which leads to sign-in. A failure: try again later.
 */
export const PAGES_SCRIPT = `(()=>{const t=${REFRESH_SECONDS * 1000};setInterval(async()=>{const c=document.querySelector("main");if(document.hidden||!c||(c.contains(document.activeElement)&&document.activeElement!==c))return;try{const r=await fetch(location.href,{headers:{accept:"text/html"},credentials:"same-origin"});if(r.redirected||r.status===401){location.reload();return}if(!r.ok)return;const m=new DOMParser().parseFromString(await r.text(),"text/html").querySelector("main");if(m&&m.innerHTML!==c.innerHTML)c.replaceWith(document.adoptNode(m))}catch{}},t)})();`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The Content-Security-Policy header of every page: nothing but the inline style and script above, same-origin fetches and forms. */
export const PAGES_CSP = [
  "default-src 'none'",
  `style-src ${sha256(PAGES_CSS)}`,
  `script-src ${sha256(PAGES_SCRIPT)}`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface PageShell {
  /** The document's <title> (text), "merge-gate" is added. */
  title: string;
  /** The signed-in person. */
  login: string;
  /** The sign-out form's CSRF token. */
  csrf: string;
  generatedAt: number;
  /** The content of <main>, starting with its <h1>. */
  main: SafeHtml;
  /** The queue page refreshes itself. */
  refresh?: boolean;
}

/** `<time>` for an instant: `2026-12-05 10:02 UTC`. */
export function timeTag(ms: number): SafeHtml {
  return html`<time datetime="${new Date(ms).toISOString()}">${utcDateTime(ms)}</time>`;
}

/**
 * A whole page. Its referrer policy is same-origin, as routes.ts' header says: no-referrer would make a browser send
 * `Origin: null` with the sign-out form's POST, which POST /logout refuses (an origin it cannot tell from another site's).
 */
export function renderDocument(page: PageShell): string {
  const refresh = page.refresh
    ? html`<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS * 3}"></noscript>`
    : '';
  const script = page.refresh ? html`<script>${raw(PAGES_SCRIPT)}</script>` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${page.title} · merge-gate</title>
<style>${raw(PAGES_CSS)}</style>
${refresh}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="/queue">merge-gate</a>
<span>Signed in as <strong><bdi>${page.login}</bdi></strong>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${page.csrf}"><button type="submit">Sign out</button></form></span>
</header>
<nav aria-label="Pages"><a href="/queue">Merge queues</a></nav>
<main id="main" tabindex="-1">
${page.main}
<p class="muted">As of ${timeTag(page.generatedAt)}.</p>
</main>
<footer class="muted">merge-gate: what it knows, from its state database.</footer>
${script}
</body>
</html>
`.markup;
}
