// HTML for the app's own pages, escaped by default: `html\`<td>${title}</td>\``
// escapes every interpolated value (text and quoted attributes alike); only
// another `html` template (SafeHtml) goes in as markup. A value in a URL
// attribute (href, src, action) must also be an http(s) URL or a local path,
// else it is dropped: a `javascript:` link from a pull request cannot render.
import { escapeHtml } from '../escape.js';

/** Markup built by `html` (or `raw` for the pages' own constants): never data from GitHub. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What a template takes: text (escaped), numbers, nothing (null/undefined/false render as ''), markup, and lists of them (joined). */
export type HtmlValue = string | number | boolean | null | undefined | SafeHtml | readonly HtmlValue[];

const SPECIAL = /[&<>"'`]/;

/** Text for an element or a quoted attribute: & < > " ' and the backtick (old IE took it as an attribute quote). */
export function escapeText(text: string): string {
  return SPECIAL.test(text) ? escapeHtml(text).replace(/`/g, '&#96;') : text;
}

/** The page's own markup, as is: only for constants written in this code base (never a value from GitHub or a person). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * `url` when a link may point there: an absolute http(s) URL, or a path on this site (`/queue`; not `//host`, which leaves it).
 * Anything else (javascript:, data:, a user name before the host, a control character or a space anywhere) is null.
 */
export function safeUrl(url: string): string | null {
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(url)) return null;
  if (url.startsWith('/')) return url.startsWith('//') ? null : url;
  return /^https?:\/\/[^/?#@]+(?:[/?#]|$)/i.test(url) ? url : null;
}

/** A template chunk ending where an attribute that is followed as a link starts: `href="`. */
const URL_ATTRIBUTE = /\s(?:href|src|action|formaction)\s*=\s*["']?$/i;

// Strings are put together with += (V8 keeps them as ropes, flattened once when the page is written out), never joined per level.
function render(value: HtmlValue, asUrl: boolean): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) {
    let out = '';
    for (const v of value as readonly HtmlValue[]) out += render(v, asUrl);
    return out;
  }
  const text = String(value);
  return escapeText(asUrl ? (safeUrl(text) ?? '') : text);
}

/** Which values of a template are in a link attribute, once per template (its strings are the same object at every call). */
const urlSlots = new WeakMap<TemplateStringsArray, boolean[]>();

/** The tagged template: markup from the literal parts, every value escaped (see HtmlValue). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let slots = urlSlots.get(strings);
  if (!slots) urlSlots.set(strings, (slots = strings.slice(0, -1).map((s) => URL_ATTRIBUTE.test(s))));
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i], slots[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** A link to `url` around `content`; without a safe URL (see safeUrl), just the content. */
export function link(url: string | null, content: HtmlValue): SafeHtml {
  const target = url === null ? null : safeUrl(url);
  return target === null ? html`${content}` : html`<a href="${target}">${content}</a>`;
}
