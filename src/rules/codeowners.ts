// CODEOWNERS as GitHub reads it (docs.github.com, "About code owners"): gitignore-style
// patterns with GitHub's exceptions, the last matching line wins, a line with no owners
// un-owns. The facts source finds the file (.github/, the root, docs/, at the BASE); this
// parses its text. No regular expression is built from a pattern: a pattern is compiled to
// segment tokens matched by a set simulation, so work stays bounded by pattern × path size.

/** An owner as written: `@user`, `@org/team` (lower-cased, the key of `facts.teams`) or an email. */
export type Owner =
  | { kind: 'user'; login: string }
  | { kind: 'team'; team: string }
  | { kind: 'email'; email: string };

export interface CodeownersRule {
  /** 1-based line in the file. */
  line: number;
  pattern: string;
  /** Empty: the line un-owns what it matches. */
  owners: Owner[];
}

/** A line GitHub would not honour; merge-gate reports it rather than guess. */
export interface CodeownersProblem {
  line: number;
  message: string;
}

export interface Codeowners {
  rules: CodeownersRule[];
  problems: CodeownersProblem[];
  /** The last rule whose pattern matches `path` (owners may be empty: un-owned); null when none does. */
  ownersOf(path: string): CodeownersRule | null;
}

/** Where GitHub looks for CODEOWNERS, in its order: the first one present is the one. */
export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** GitHub does not load a CODEOWNERS file over 3 MB. */
export const MAX_CODEOWNERS_BYTES = 3 * 1024 * 1024;
const MAX_PATTERN_LENGTH = 1024;

/** `@org/team` (GitHub's team slug syntax), the form a policy's `from` names teams in. */
export const TEAM = /^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9_.-]+$/;
/** A GitHub login (managed users may carry `_`). */
export const USER_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `@org/team` as `facts.teams` keys it. */
export const teamKey = (team: string): string => team.toLowerCase();

function parseOwner(token: string): Owner | null {
  if (TEAM.test(token)) return { kind: 'team', team: teamKey(token) };
  if (token.startsWith('@') && USER_LOGIN.test(token.slice(1))) return { kind: 'user', login: token.slice(1) };
  if (EMAIL.test(token)) return { kind: 'email', email: token };
  return null;
}

/** Splits a line on unescaped blanks; a token starting with `#` starts a comment. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) { current += c + line[i + 1]; i++; continue; }
    if (c === ' ' || c === '\t') { if (current) out.push(current); current = ''; continue; }
    if (c === '#' && current === '') break;
    current += c;
  }
  if (current) out.push(current);
  return out;
}

export function parseCodeowners(text: string): Codeowners {
  const rules: Array<CodeownersRule & { matcher: Matcher }> = [];
  const problems: CodeownersProblem[] = [];
  if (Buffer.byteLength(text, 'utf8') > MAX_CODEOWNERS_BYTES) {
    problems.push({ line: 1, message: 'the file is over 3 MB, which GitHub does not load' });
    return make(rules, problems);
  }
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [pattern, ...owners] = tokens(trimmed);
    if (pattern === undefined) return;
    const compiled = compilePattern(pattern);
    if (typeof compiled === 'string') { problems.push({ line, message: compiled }); return; }
    const parsed: Owner[] = [];
    for (const token of owners) {
      const owner = parseOwner(token);
      if (owner === null) { problems.push({ line, message: `"${token}" is not an owner (@user, @org/team or an email address)` }); return; }
      parsed.push(owner);
    }
    rules.push({ line, pattern, owners: parsed, matcher: compiled });
  });
  return make(rules, problems);
}

function make(rules: Array<CodeownersRule & { matcher: Matcher }>, problems: CodeownersProblem[]): Codeowners {
  return {
    rules: rules.map(({ line, pattern, owners }) => ({ line, pattern, owners })),
    problems,
    ownersOf(path) {
      const segments = path.split('/');
      for (let i = rules.length - 1; i >= 0; i--) {
        if (rules[i].matcher(segments)) return { line: rules[i].line, pattern: rules[i].pattern, owners: rules[i].owners };
      }
      return null;
    },
  };
}

/** Every team the file names, `@org/team` lower-cased, sorted, once each (the GitHub side reads their members). */
export function codeownersTeams(text: string): string[] {
  const teams = new Set<string>();
  for (const rule of parseCodeowners(text).rules) {
    for (const owner of rule.owners) if (owner.kind === 'team') teams.add(owner.team);
  }
  return [...teams].sort();
}

// --- patterns -------------------------------------------------------------------------

type Matcher = (segments: string[]) => boolean;
/** A path segment glob (`literal` when it has no wildcard: a string comparison); `any0`/`any1`: zero or more / one or more whole segments. */
type Token = { glob: GlobItem[]; literal: string | null } | 'any0' | 'any1';
type GlobItem = '*' | '?' | { literal: string };

/** A matcher, or why GitHub would not honour the pattern (its documented syntax exceptions). */
function compilePattern(pattern: string): Matcher | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `the pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (pattern.startsWith('!')) return `"${pattern}": GitHub does not support negating a pattern with "!"`;
  if (pattern.startsWith('\\#')) return `"${pattern}": GitHub does not support escaping "#" with "\\" (the line would be a comment)`;
  if (pattern.includes('***')) return `"${pattern}": three asterisks in a row match nothing sensible`;
  const anchored = pattern.startsWith('/');
  const directory = pattern.endsWith('/');
  const body = pattern.slice(anchored ? 1 : 0, directory ? -1 : undefined);
  if (body === '') return `"${pattern}" matches no file`;
  const segments = body.split('/');
  if (segments.some((s) => s === '')) return `"${pattern}": an empty path segment ("//")`;
  const globs: Token[] = [];
  for (const segment of segments) {
    if (segment === '**') { globs.push('any0'); continue; }
    const glob = compileGlob(segment);
    if (typeof glob === 'string') return `"${pattern}": ${glob}`;
    const literal = glob.every((g) => typeof g === 'object') ? glob.map((g) => (g as { literal: string }).literal).join('') : null;
    globs.push({ glob, literal });
  }
  // gitignore: a pattern with no slash but a trailing one matches at any depth.
  if (!anchored && segments.length === 1 && segments[0] !== '**') globs.unshift('any0');
  const last = segments[segments.length - 1];
  if (directory || last === '**') {
    // `dir/` and `dir/**`: everything below, never `dir` itself.
    if (globs[globs.length - 1] === 'any0') globs.pop();
    globs.push('any1');
  } else if (last !== '*') {
    // `docs` also owns everything under a directory `docs`; a lone trailing `*` (`docs/*`) does not recurse.
    globs.push('any0');
  }
  return (path) => matchTokens(globs, path);
}

function compileGlob(segment: string): GlobItem[] | string {
  const items: GlobItem[] = [];
  const chars = Array.from(segment);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) return 'it ends with a lone backslash';
      items.push({ literal: chars[++i] });
    } else if (c === '[' || c === ']') {
      return 'GitHub does not support character ranges ("[ ]")';
    } else if (c === '*') {
      if (items[items.length - 1] !== '*') items.push('*');
    } else if (c === '?') items.push('?');
    else items.push({ literal: c });
  }
  return items;
}

/** Which path positions each token can reach, a set per step: O(tokens × segments) glob tests. */
function matchTokens(tokens: Token[], segments: string[]): boolean {
  const n = segments.length;
  // The common pattern is all segments with no `**`: one pass, no sets.
  if (tokens.every((t) => typeof t === 'object')) {
    if (tokens.length !== n) return false;
    return tokens.every((t, i) => segmentMatch(t as Exclude<Token, string>, segments[i]));
  }
  // Tokens before the first and after the last `**` each take one segment in place: a cheap refusal first.
  const head = tokens.findIndex((t) => typeof t === 'string');
  let tail = 0;
  while (typeof tokens[tokens.length - 1 - tail] === 'object') tail++;
  if (head + tail > n) return false;
  for (let i = 0; i < head; i++) if (!segmentMatch(tokens[i] as Exclude<Token, string>, segments[i])) return false;
  for (let i = 1; i <= tail; i++) if (!segmentMatch(tokens[tokens.length - i] as Exclude<Token, string>, segments[n - i])) return false;
  let reach = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const token of tokens) {
    const first = reach.indexOf(1);
    if (first < 0) return false;
    const next = new Uint8Array(n + 1);
    if (token === 'any0' || token === 'any1') next.fill(1, first + (token === 'any1' ? 1 : 0));
    else for (let i = first; i < n; i++) if (reach[i] && segmentMatch(token, segments[i])) next[i + 1] = 1;
    reach = next;
  }
  return reach[n] === 1;
}

const segmentMatch = (token: Exclude<Token, string>, segment: string): boolean =>
  token.literal !== null ? token.literal === segment : globMatch(token.glob, segment);

/** Wildcard match within one segment: greedy with one backtrack point, O(glob × text). */
function globMatch(glob: GlobItem[], segment: string): boolean {
  const text = Array.from(segment);
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const item = glob[g];
    if (g < glob.length && item !== '*' && (item === '?' || item.literal === text[t])) { g++; t++; continue; }
    if (g < glob.length && item === '*') { starG = g++; starT = t; continue; }
    if (starG < 0) return false;
    g = starG + 1;
    t = ++starT;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}
