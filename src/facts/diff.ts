// Unified diff text → FileDiff. One parser for the git diff and GitHub's diff
// media type, so both sources give the rules the same hunks.
//
// File names are data: git writes a name with a tab, a newline, a quote, a
// backslash or a non-ASCII byte C-quoted (`"src/\303\274n.js"`) and appends a
// tab to a `---`/`+++` name that contains a space. Both are undone here, and a
// hunk is read by the line counts of its `@@` header, so no added line is ever
// taken for a header.
import type { DiffLine, FileDiff } from './types.js';

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/**
 * A path as git prints it: C-quoted (`"a/t\tab"`) or as is. Returns the path and
 * the text after it, or null for a quoted path that does not close.
 */
export function unquoteGitPath(text: string): { path: string; rest: string } | null {
  if (!text.startsWith('"')) return { path: text, rest: '' };
  const bytes: number[] = [];
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return { path: Buffer.from(bytes).toString('utf8'), rest: text.slice(i + 1) };
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = text[++i];
    if (next !== undefined && next in C_ESCAPES) bytes.push(C_ESCAPES[next]);
    else if (/^[0-3][0-7]{2}$/.test(text.slice(i, i + 3))) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else return null;
  }
  return null;
}

/** The name on a `---`/`+++` line: null for /dev/null, without the a/ or b/ prefix. */
function markerPath(text: string): string | null {
  if (text === '/dev/null') return null;
  const quoted = text.startsWith('"');
  // Unquoted, a trailing tab only marks a name with a space (a tab in a name is always quoted).
  const unquoted = quoted ? unquoteGitPath(text)?.path : text.replace(/\t$/, '');
  return unquoted === undefined ? null : stripPrefix(unquoted);
}

function stripPrefix(path: string): string {
  return /^[ab]\//.test(path) ? path.slice(2) : path;
}

/** `diff --git a/X b/Y`: only consulted when no other header names the file (mode-only and binary changes, empty files). */
function headerPaths(rest: string): { from: string; to: string } | null {
  if (rest.startsWith('"')) {
    const first = unquoteGitPath(rest);
    if (!first || !first.rest.startsWith(' ')) return null;
    const second = first.rest.slice(1);
    const to = second.startsWith('"') ? unquoteGitPath(second)?.path : second;
    return to === undefined ? null : { from: stripPrefix(first.path), to: stripPrefix(to) };
  }
  if (rest.endsWith('"')) {
    const at = rest.indexOf(' "');
    const to = at < 0 ? undefined : unquoteGitPath(rest.slice(at + 1))?.path;
    return to === undefined ? null : { from: stripPrefix(rest.slice(0, at)), to: stripPrefix(to) };
  }
  // Without quotes and without rename headers both names are the same: "a/N b/N".
  const n = (rest.length - 5) / 2;
  if (Number.isInteger(n) && n > 0 && rest.slice(2, 2 + n) === rest.slice(n + 5)) return { from: rest.slice(2, 2 + n), to: rest.slice(n + 5) };
  const at = rest.indexOf(' b/');
  return at < 0 ? null : { from: stripPrefix(rest.slice(0, at)), to: rest.slice(at + 3) };
}

interface Building {
  from: string | null;
  to: string | null;
  /** From `diff --git`, `rename from/to` or `copy from/to`: used when `---`/`+++` are absent. */
  headerFrom: string | null;
  headerTo: string | null;
  lines: DiffLine[];
  hunks: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseUnifiedDiff(text: string): FileDiff[] {
  const out: FileDiff[] = [];
  let file: Building | null = null;
  const finish = () => {
    if (!file) return;
    const from = file.from ?? file.headerFrom;
    const to = file.to ?? file.headerTo;
    const path = to ?? from ?? '';
    const previousPath = from !== null && from !== path && to !== null ? from : undefined;
    out.push(previousPath ? { path, previousPath, lines: file.lines } : { path, lines: file.lines });
    file = null;
  };
  const start = (): Building => ({ from: null, to: null, headerFrom: null, headerTo: null, lines: [], hunks: 0 });
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('diff --git ')) {
      finish();
      file = start();
      const names = headerPaths(line.slice('diff --git '.length));
      if (names) {
        file.headerFrom = names.from;
        file.headerTo = names.to;
      }
      continue;
    }
    // A plain unified diff (no `diff --git`): `---` after hunks starts the next file.
    if (line.startsWith('--- ') && (!file || file.hunks > 0)) {
      finish();
      file = start();
    }
    if (!file) continue;
    if (line.startsWith('--- ') && file.hunks === 0) {
      file.from = markerPath(line.slice(4));
      if (file.from === null) file.headerFrom = null;
    } else if (line.startsWith('+++ ') && file.hunks === 0) {
      file.to = markerPath(line.slice(4));
      if (file.to === null) file.headerTo = null;
    } else if (/^(rename|copy) (from|to) /.test(line) && file.hunks === 0) {
      const [, , side, name] = /^(rename|copy) (from|to) (.*)$/s.exec(line)!;
      const path = unquoteGitPath(name)?.path ?? name;
      if (side === 'from') file.headerFrom = path;
      else file.headerTo = path;
    } else if (line.startsWith('deleted file mode')) file.headerTo = null;
    else if (line.startsWith('new file mode')) file.headerFrom = null;
    else {
      const hunk = HUNK.exec(line);
      if (!hunk) continue;
      file.hunks++;
      let oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      let newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      let oldLine = Number(hunk[1]);
      let newLine = Number(hunk[3]);
      // Exactly the lines the header counts, whatever they contain.
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const body = lines[++i];
        const marker = body[0];
        const content = body.slice(1);
        if (marker === '\\') continue; // "\ No newline at end of file" is a marker, not a line
        if (marker === '+' && newLeft > 0) {
          file.lines.push({ type: 'add', content, newLine: newLine++ });
          newLeft--;
        } else if (marker === '-' && oldLeft > 0) {
          file.lines.push({ type: 'del', content, oldLine: oldLine++ });
          oldLeft--;
        } else if ((marker === ' ' || body === '') && oldLeft > 0 && newLeft > 0) {
          // Some tools strip the space of an empty context line.
          file.lines.push({ type: 'normal', content, oldLine: oldLine++, newLine: newLine++ });
          oldLeft--;
          newLeft--;
        } else {
          i--; // a hunk shorter than its header says: stop here, the counts check catches it
          break;
        }
      }
    }
  }
  finish();
  return out;
}
