// Text from a pull request (file names, flag names, labels, logins, excerpts of
// a policy or a registry) is data wherever it is shown: it must not move the
// cursor, clear a terminal or render as markdown that fakes a verdict line.

/** C0 and C1 controls, DEL, line and paragraph separators and the bidirectional overrides. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Every control character as a visible escape (`\t`, `\n`, `\u001b`), valid inside a JSON string too. */
export function escapeControls(text: string, keep = ''): string {
  return text.replace(CONTROLS, (c) => (keep.includes(c) ? c : (NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)));
}

/** Text for a terminal: one line, no escape sequences. */
export const escapeTerminal = (text: string): string => escapeControls(text);

/**
 * Markdown text that renders as exactly these characters: no emphasis, link,
 * image, HTML, entity, code span, heading (`#` at the start) or table cell
 * boundary; a `#` further on (`#3`) is text already. `_` between
 * two letters or digits cannot start emphasis and stays as it is (`max_lines`).
 */
export function escapeMarkdown(text: string): string {
  return escapeControls(text).replace(/[\\`*[\]<>|~&]|^#|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, (c) => `\\${c}`);
}

/** A code span that holds `text` whatever backticks it contains. */
export function markdownCode(text: string): string {
  const shown = escapeControls(text);
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = shown.startsWith('`') || shown.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${shown}${pad}${fence}`;
}

/** GitHub's own words (or a branch or check name), on one line, shown as code: never markdown a pull request could have shaped. */
export function quoted(text: string): string {
  return markdownCode(text.replace(/\s+/g, ' ').trim().slice(0, 500));
}

/** Text for HTML, in an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
