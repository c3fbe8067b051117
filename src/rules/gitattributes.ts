// Which paths `.gitattributes` marks `linguist-generated` (SPEC §2, size:
// `linguist_generated`). Only the repository-root file is read, with git's
// pattern rules (gitattributes(5), gitignore(5) "PATTERN FORMAT"):
//
// - blank lines and lines whose first non-blank character is `#` are ignored;
// - a line is a pattern followed by attributes separated by blanks; the pattern
//   may be C-quoted ("with spaces");
// - a pattern with no slash matches the file's name at any depth; a pattern with
//   a slash at the start or in the middle is anchored to the repository root
//   (a leading `/` only anchors); a pattern with a trailing `/` matches only
//   directories, so never a file (attributes do not recurse into directories:
//   use `dir/**`);
// - `**/x`, `x/**` and `a/**/b` as in git; other `**` are plain `*`; no braces,
//   no extglobs, and negative (`!`) patterns are ignored, as git does;
// - `attr` and `attr=value` set (Linguist treats any value but "false" as
//   true), `-attr` and `attr=false` unset, `!attr` returns to unspecified;
// - the last line that matches and says something about the attribute wins;
// - `[attr]name ...` defines a macro; setting the macro on a path applies its
//   attributes there.
import { minimatch } from 'minimatch';

const ATTRIBUTE = 'linguist-generated';

/** What one line says about `linguist-generated`: true, false, or back to unspecified (null). */
type Verdict = boolean | null;

interface Rule {
  test: (path: string) => boolean;
  value: Verdict;
}

const MATCH_OPTIONS = { dot: true, nocomment: true, nonegate: true, nobrace: true, noext: true } as const;

/**
 * A predicate telling whether `.gitattributes` (its text, or null when there is
 * none) marks a repository path as `linguist-generated`. Patterns are compiled once.
 */
export function linguistGenerated(gitattributesText: string | null): (path: string) => boolean {
  if (!gitattributesText) return () => false;
  const macros = new Map<string, string[]>();
  const rules: Rule[] = [];
  for (const raw of gitattributesText.split('\n')) {
    const parsed = splitLine(raw.replace(/\r$/, ''));
    if (!parsed) continue;
    const { pattern, tokens } = parsed;
    if (pattern.startsWith('[attr]')) {
      const name = pattern.slice('[attr]'.length);
      if (name) macros.set(name, tokens);
      continue;
    }
    const value = verdictOf(tokens, macros, 0);
    if (value === undefined) continue; // the line says nothing about the attribute
    const test = compilePattern(pattern);
    if (test) rules.push({ test, value });
  }
  if (rules.length === 0) return () => false;
  return (path) => {
    const p = path.replace(/^\/+/, '');
    for (let i = rules.length - 1; i >= 0; i--) {
      if (rules[i].test(p)) return rules[i].value === true;
    }
    return false;
  };
}

/** The pattern and the attribute tokens of one line, or null for blank lines, comments and unusable lines. */
function splitLine(line: string): { pattern: string; tokens: string[] } | null {
  const trimmed = line.replace(/^[ \t]+/, '');
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  let pattern: string;
  let rest: string;
  if (trimmed.startsWith('"')) {
    const unquoted = unquoteC(trimmed);
    if (!unquoted) return null;
    [pattern, rest] = unquoted;
  } else {
    const end = trimmed.search(/[ \t]/);
    pattern = end < 0 ? trimmed : trimmed.slice(0, end);
    rest = end < 0 ? '' : trimmed.slice(end);
  }
  const tokens = rest.split(/[ \t]+/).filter((t) => t !== '');
  return { pattern, tokens };
}

/** Git's C-style quoted pattern: returns the pattern and what follows the closing quote. */
function unquoteC(text: string): [string, string] | null {
  const escapes: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
  const bytes: number[] = [];
  const pushText = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [Buffer.from(bytes).toString('utf8'), text.slice(i + 1)];
    if (c !== '\\') { pushText(c); continue; }
    const n = text[i + 1];
    if (n === undefined) return null;
    if (/[0-3]/.test(n) && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (n in escapes) {
      pushText(escapes[n]);
      i += 1;
    } else {
      return null; // git rejects unknown escapes
    }
  }
  return null; // no closing quote
}

/**
 * What the tokens of one line say about the attribute, last token winning;
 * undefined when they say nothing. Macros that are set expand in place.
 */
function verdictOf(tokens: readonly string[], macros: ReadonlyMap<string, string[]>, depth: number): Verdict | undefined {
  let verdict: Verdict | undefined;
  for (const token of tokens) {
    let name: string;
    let value: Verdict;
    if (token.startsWith('-')) { name = token.slice(1); value = false; }
    else if (token.startsWith('!')) { name = token.slice(1); value = null; }
    else {
      const eq = token.indexOf('=');
      name = eq < 0 ? token : token.slice(0, eq);
      value = eq < 0 ? true : token.slice(eq + 1) !== 'false';
    }
    if (name === ATTRIBUTE) verdict = value;
    else if (value === true && depth < 8) {
      const expansion = macros.get(name);
      if (expansion) {
        const inner = verdictOf(expansion, macros, depth + 1);
        if (inner !== undefined) verdict = inner;
      }
    }
  }
  return verdict;
}

/** A path test for one gitattributes pattern, or null when it can never match a file. */
function compilePattern(pattern: string): ((path: string) => boolean) | null {
  if (pattern === '' || pattern.startsWith('!')) return null; // negative patterns are ignored in attributes
  if (pattern.endsWith('/')) return null; // directories only; attributes never recurse into them
  const anchored = pattern.includes('/');
  // `dir/**` matches what is inside dir, not dir itself (minimatch's regex would take "dir" too).
  const glob = (anchored ? pattern.replace(/^\/+/, '') : pattern).replace(/\/\*\*$/, '/**/*');
  if (glob === '') return null;
  const re = minimatch.makeRe(glob, MATCH_OPTIONS);
  if (!(re instanceof RegExp)) return null;
  if (anchored) return (path) => re.test(path);
  return (path) => re.test(path.slice(path.lastIndexOf('/') + 1));
}
