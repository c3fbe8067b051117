// Glob validation and matching, one place for both so every rule matches paths
// the same way: minimatch, dot files included, paths relative to the repository root.
import { Minimatch } from 'minimatch';

/** Why a glob is unusable, or null when it is fine. */
export function globProblem(pattern: string): string | null {
  if (pattern.trim() === '') return 'it is empty';
  if (pattern.includes('\0')) return 'it contains a NUL character';
  if (pattern.startsWith('/')) return 'paths are relative to the repository root; drop the leading "/"';
  if (pattern.endsWith('\\') && !pattern.endsWith('\\\\')) return 'it ends with a lone backslash';
  const pairs: Record<string, string> = { '[': ']', '{': '}', '(': ')' };
  const closers = new Set(Object.values(pairs));
  const stack: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') { inClass = false; stack.pop(); } continue; }
    if (c === '[') { inClass = true; stack.push(c); if (pattern[i + 1] === ']') i++; continue; }
    if (c in pairs) stack.push(c);
    else if (closers.has(c)) {
      if (c === ')' && stack[stack.length - 1] !== '(') continue; // a lone ")" is a literal
      if (pairs[stack.pop() ?? ''] !== c) return `unbalanced "${c}"`;
    }
  }
  if (stack.length > 0) return `unclosed "${stack[stack.length - 1]}"`;
  return null;
}

const options = { dot: true, nocomment: true, nonegate: true } as const;

/** A matcher compiled once, for hot loops over thousands of files. */
export function compileGlobs(patterns: readonly string[]): (path: string) => boolean {
  // Minimatch#match, not makeRe: the regex also matches "vendor" for "vendor/**", match() does not.
  const matchers = patterns.map((p) => new Minimatch(p, options));
  return (path) => matchers.some((m) => m.match(path));
}

/** True when `path` matches any of `patterns`. */
export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return compileGlobs(patterns)(path);
}
