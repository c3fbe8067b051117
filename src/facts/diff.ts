// Unified diff text → FileDiff, in one pass over the text. One parser for the
// git diff and GitHub's diff media type, so both sources give the rules the
// same hunks. Hunk bodies are read by their line counts (`@@ -a,b +c,d @@`),
// so a changed line that itself reads "--- x" or "diff --git" stays a line.
// Paths come from `rename from/to`, the `---`/`+++` lines, or the
// `diff --git` header (binary files, pure renames); git's C-style quoting
// ("a/tab\there", octal escapes for non-ASCII bytes) is undone. The
// "\ No newline at end of file" marker is not a line. Linear in the text.
import type { DiffLine, FileDiff } from './types.js';

const PLUS = 43; // +
const MINUS = 45; // -
const SPACE = 32;
const BACKSLASH = 92;

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A path as git writes it: "quoted, with C escapes" or bare. */
export function unquotePath(text: string): string {
  if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  const bytes: number[] = [];
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const next = text[++i];
    if (next >= '0' && next <= '7') {
      let value = 0;
      let digits = 0;
      while (digits < 3 && text[i] >= '0' && text[i] <= '7') {
        value = value * 8 + (text.charCodeAt(i) - 48);
        i++;
        digits++;
      }
      i--;
      bytes.push(value & 0xff);
    } else if (next !== undefined && next in ESCAPES) {
      bytes.push(ESCAPES[next]);
    } else if (next !== undefined) {
      for (const b of Buffer.from(next, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The first path token of `text` (quoted, or up to a tab for bare `---`/`+++` names) and what follows it. */
function firstQuoted(text: string): [string, string] {
  let i = 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return [text.slice(0, i + 1), text.slice(i + 1)];
}

const stripPrefix = (path: string) => (path.length > 2 && path[1] === '/' && 'abciwo12'.includes(path[0]) ? path.slice(2) : path);

/** A `---`/`+++` name: /dev/null, or a path with git's a/ or b/ prefix. */
function markerPath(rest: string): string {
  let name: string;
  if (rest.startsWith('"')) name = unquotePath(firstQuoted(rest)[0]);
  else {
    const tab = rest.indexOf('\t'); // git ends a name with spaces by a tab; other tools put a timestamp there
    name = (tab === -1 ? rest : rest.slice(0, tab)).replace(/\s+$/, '');
  }
  return name === '/dev/null' ? name : stripPrefix(name);
}

/** The two paths of `diff --git a/X b/Y` (bare names split where both halves agree, or at " b/"). */
function headerPaths(rest: string): [string, string] | null {
  if (rest.startsWith('"')) {
    const [from, after] = firstQuoted(rest);
    const to = after.trimStart();
    return [stripPrefix(unquotePath(from)), stripPrefix(to.startsWith('"') ? unquotePath(firstQuoted(to)[0]) : to)];
  }
  const quotedTo = rest.indexOf(' "');
  if (quotedTo !== -1 && rest.endsWith('"')) return [stripPrefix(rest.slice(0, quotedTo)), stripPrefix(unquotePath(rest.slice(quotedTo + 1)))];
  // Same name on both sides (the usual case), even with spaces in it: "a/N b/N".
  if ((rest.length - 1) % 2 === 0) {
    const half = (rest.length - 1) / 2;
    const from = rest.slice(0, half);
    const to = rest.slice(half + 1);
    if (rest[half] === ' ' && from.slice(2) === to.slice(2)) return [stripPrefix(from), stripPrefix(to)];
  }
  const at = rest.indexOf(' b/');
  return at === -1 ? null : [stripPrefix(rest.slice(0, at)), stripPrefix(rest.slice(at + 1))];
}

interface Building {
  from: string | null;
  to: string | null;
  renameFrom: string | null;
  renameTo: string | null;
  lines: DiffLine[];
  hunks: number;
}

function finish(file: Building): FileDiff {
  const from = file.renameFrom ?? file.from;
  const to = file.renameTo ?? file.to;
  const path = (to && to !== '/dev/null' ? to : from) ?? '';
  const previousPath = from && from !== '/dev/null' && from !== path ? from : undefined;
  return previousPath ? { path, previousPath, lines: file.lines } : { path, lines: file.lines };
}

export function parseUnifiedDiff(text: string): FileDiff[] {
  const out: FileDiff[] = [];
  let file = null as Building | null;
  const start = (): Building => {
    if (file) out.push(finish(file));
    file = { from: null, to: null, renameFrom: null, renameTo: null, lines: [], hunks: 0 };
    return file;
  };
  let oldLeft = 0;
  let newLeft = 0;
  let oldLine = 0;
  let newLine = 0;
  let pos = 0;
  const end = text.length;
  while (pos < end) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = end;
    const lineEnd = eol > pos && text.charCodeAt(eol - 1) === 13 && eol === end ? eol - 1 : eol;
    const first = text.charCodeAt(pos);

    if (oldLeft > 0 || newLeft > 0) {
      // Inside a hunk: the counts say what is a line of it.
      const lines = file!.lines;
      if (first === PLUS && newLeft > 0) {
        lines.push({ type: 'add', content: text.slice(pos + 1, lineEnd), newLine: newLine++ });
        newLeft--;
        pos = eol + 1;
        continue;
      }
      if (first === MINUS && oldLeft > 0) {
        lines.push({ type: 'del', content: text.slice(pos + 1, lineEnd), oldLine: oldLine++ });
        oldLeft--;
        pos = eol + 1;
        continue;
      }
      if ((first === SPACE || pos === lineEnd) && oldLeft > 0 && newLeft > 0) {
        // An empty line is a context line whose leading space was trimmed (some tools do).
        lines.push({ type: 'normal', content: pos === lineEnd ? '' : text.slice(pos + 1, lineEnd), oldLine: oldLine++, newLine: newLine++ });
        oldLeft--;
        newLeft--;
        pos = eol + 1;
        continue;
      }
      if (first === BACKSLASH) {
        pos = eol + 1; // "\ No newline at end of file"
        continue;
      }
      // A hunk shorter than its header said: read on as headers.
      oldLeft = newLeft = 0;
    }

    const line = text.slice(pos, lineEnd);
    pos = eol + 1;
    if (line.startsWith('diff ')) {
      const current = start();
      const paths = line.startsWith('diff --git ') ? headerPaths(line.slice(11)) : null;
      if (paths) [current.from, current.to] = paths;
    } else if (line.startsWith('@@ ')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const current: Building = file ?? start();
      current.hunks++;
      oldLine = Number(m[1]);
      newLine = Number(m[3]);
      oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      newLeft = m[4] === undefined ? 1 : Number(m[4]);
      // A count of 0 starts at the line before: number from the next one.
      if (oldLeft === 0) oldLine++;
      if (newLeft === 0) newLine++;
    } else if (line.startsWith('--- ')) {
      // A second file without a `diff` header (a plain unified diff) starts at its `---`.
      const current: Building = !file || file.hunks > 0 ? start() : file;
      current.from = markerPath(line.slice(4));
    } else if (line.startsWith('+++ ')) {
      const current: Building = file ?? start();
      current.to = markerPath(line.slice(4));
    } else if (file && line.startsWith('rename from ')) {
      (file as Building).renameFrom = unquotePath(line.slice(12));
    } else if (file && line.startsWith('rename to ')) {
      (file as Building).renameTo = unquotePath(line.slice(10));
    }
    // index, mode, similarity and "Binary files … differ" lines carry nothing the rules use.
  }
  if (file) out.push(finish(file));
  return out;
}
