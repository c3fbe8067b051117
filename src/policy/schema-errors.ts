// Turning zod issues into positioned, actionable errors — shared by every YAML
// file merge-gate reads with a zod schema (the policy, the deploy trigger's config).
import { z } from 'zod';
import { describeInput } from './schema.js';
import { formatPath, type Locator, type PathSegment, type PolicyError } from './load.js';
import { closest } from './suggest.js';

/** The keys an object schema accepts at `path` inside `schema` (for "did you mean"). */
export function keysOfSchema(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    // optional / default / pipe wrappers carry the real schema inside.
    for (;;) {
      const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
      if (def.innerType) s = def.innerType;
      else if (def.type === 'pipe' && def.in) s = def.in;
      else return s;
    }
  };
  for (const seg of path) {
    if (!node) return [];
    node = unwrap(node);
    if (typeof seg === 'number' && node instanceof z.ZodArray) node = node.element as z.ZodType;
    else if (typeof seg === 'string' && node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[seg];
    else if (typeof seg === 'string' && node instanceof z.ZodRecord) node = node.valueType as z.ZodType;
    else return [];
  }
  if (!node) return [];
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

export interface IssueReport {
  path: PathSegment[];
  message: string;
  /** Point at the key (unknown keys) or at its value. */
  where: 'key' | 'value';
}

/** What one zod issue says, in words: an unknown key becomes one report per key, with "did you mean". */
export function describeIssue(issue: z.core.$ZodIssue, allowedKeys: (path: readonly PathSegment[]) => string[]): IssueReport[] {
  const path = issue.path as PathSegment[];
  // A custom issue about a whole section (`params: { at: 'key' }`) points at its key, not at its first line.
  const at = issue.code === 'custom' && (issue.params as { at?: string } | undefined)?.at === 'key' ? 'key' : 'value';
  if (issue.code !== 'unrecognized_keys') return [{ path, message: humanMessage(issue), where: at }];
  const allowed = allowedKeys(path);
  // The message is worded when it is read: a file with 50,000 unknown keys lists only the first 50.
  return issue.keys.map((key) => ({
    path: [...path, key],
    where: 'key' as const,
    get message() {
      const hint = closest(key, allowed);
      const where = path.length ? `in ${formatPath(path)}` : 'at the top level';
      return `unknown key${hint ? `; did you mean "${hint}"?` : ` ${where}`} (allowed: ${allowed.join(', ')})`;
    },
  }));
}

/** zod's own wording where the schema gave none. */
function humanMessage(issue: z.core.$ZodIssue): string {
  if (!issue.message.startsWith('Invalid input')) return issue.message;
  if (issue.code === 'invalid_type') {
    const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };
    return `expected ${names[issue.expected] ?? issue.expected}, got ${describeInput(issue.input)}`;
  }
  return issue.message;
}

/** Where a key path is written, or the nearest part of it that the file contains. */
export function positionOf(locate: Locator, path: readonly PathSegment[], where: 'key' | 'value' = 'value'): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const p = locate(path.slice(0, n), n === path.length ? where : 'key');
    if (p) return p;
  }
  return { line: 1, column: 1 };
}

/**
 * How merge-gate asks zod to validate: with the input in each issue (for "got …"), and
 * without zod's own wording of unknown keys, which joins every key into one string
 * (100,000 keys, most of a second) only for describeIssue to word each listed key itself.
 */
export const PARSE_CONTEXT = {
  reportInput: true,
  error: (issue: { code?: string }) => (issue.code === 'unrecognized_keys' ? 'unknown keys' : undefined),
} as const;

export type SchemaResult<T> = { ok: true; value: T } | { ok: false; errors: PolicyError[] };

/** Validate a parsed YAML value against `schema`: the value, or every error with its position, sorted. */
export function validateWithSchema<S extends z.ZodType>(schema: S, raw: unknown, file: string, locate: Locator): SchemaResult<z.output<S>> {
  const result = schema.safeParse(raw, PARSE_CONTEXT);
  if (result.success) return { ok: true, value: result.data };
  const errors = result.error.issues.flatMap((issue) =>
    describeIssue(issue, (p) => keysOfSchema(schema, p)).map((r) => ({ file, ...positionOf(locate, r.path, r.where), path: formatPath(r.path), message: r.message })),
  );
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors };
}
