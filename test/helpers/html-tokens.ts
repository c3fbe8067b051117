// A small HTML tokenizer for tests of the pages' markup (no dependency): start
// and end tags with their attributes (entities decoded), text (decoded),
// comments and the doctype; <script> and <style> hold raw text. Enough to tell
// what elements and attributes a rendering made, and what text it shows.

export type HtmlToken =
  | { type: 'start'; name: string; attrs: Array<[string, string]>; selfClosing: boolean }
  | { type: 'end'; name: string }
  | { type: 'text'; text: string }
  | { type: 'comment'; text: string }
  | { type: 'doctype'; text: string };

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Character references as a browser reads them (the named ones the pages use, and every numeric one). */
export function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+));/g, (whole, dec: string, hex: string, name: string) => {
    if (dec || hex) return String.fromCodePoint(parseInt(dec ?? hex, dec ? 10 : 16));
    return NAMED[name] ?? whole;
  });
}

const RAW_TEXT = new Set(['script', 'style']);

export function tokenize(markup: string): HtmlToken[] {
  const out: HtmlToken[] = [];
  let i = 0;
  let text = '';
  const flush = () => {
    if (text) out.push({ type: 'text', text: decodeEntities(text) });
    text = '';
  };
  while (i < markup.length) {
    const rest = markup.slice(i);
    if (rest.startsWith('<!--')) {
      flush();
      const end = markup.indexOf('-->', i + 4);
      const stop = end < 0 ? markup.length : end;
      out.push({ type: 'comment', text: markup.slice(i + 4, stop) });
      i = stop + 3;
      continue;
    }
    const doctype = /^<!doctype([^>]*)>/i.exec(rest);
    if (doctype) {
      flush();
      out.push({ type: 'doctype', text: doctype[1].trim() });
      i += doctype[0].length;
      continue;
    }
    const end = /^<\/([a-zA-Z][^\s/>]*)[^>]*>/.exec(rest);
    if (end) {
      flush();
      out.push({ type: 'end', name: end[1].toLowerCase() });
      i += end[0].length;
      continue;
    }
    const start = /^<([a-zA-Z][^\s/>]*)/.exec(rest);
    if (start) {
      flush();
      const name = start[1].toLowerCase();
      i += start[0].length;
      const attrs: Array<[string, string]> = [];
      let selfClosing = false;
      for (;;) {
        const ws = /^[\s/]*/.exec(markup.slice(i))![0];
        selfClosing = ws.endsWith('/');
        i += ws.length;
        if (i >= markup.length) break;
        if (markup[i] === '>') {
          i++;
          break;
        }
        const attr = /^([^\s/>=][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?/.exec(markup.slice(i))!;
        attrs.push([attr[1].toLowerCase(), decodeEntities(attr[2] ?? attr[3] ?? attr[4] ?? '')]);
        i += attr[0].length;
      }
      out.push({ type: 'start', name, attrs, selfClosing });
      if (RAW_TEXT.has(name)) {
        const close = markup.toLowerCase().indexOf(`</${name}`, i);
        const stop = close < 0 ? markup.length : close;
        if (stop > i) out.push({ type: 'text', text: markup.slice(i, stop) });
        i = stop;
      }
      continue;
    }
    text += markup[i];
    i++;
  }
  flush();
  return out;
}

/** The text a rendering shows, its tags left out (each tag counts as a space, so cells do not run together). */
export function textOf(markup: string): string {
  return tokenize(markup)
    .map((t) => (t.type === 'text' ? t.text : ' '))
    .join('');
}

/** Every start tag of that name. */
export function elements(markup: string, name: string): Array<Extract<HtmlToken, { type: 'start' }>> {
  return tokenize(markup).filter((t): t is Extract<HtmlToken, { type: 'start' }> => t.type === 'start' && t.name === name);
}
