// Loading a policy: parse the YAML, merge the chosen preset under it, validate
// against the schema, and report every problem at once with its line and column.
// Loading never throws: it returns a policy or a list of errors.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { describeInput, keysAt, PolicyFileSchema, type Policy } from './schema.js';
import { listPresets, presetDocument, PRESET_NONE } from './presets.js';
import { closest } from './suggest.js';
import { describeIssue, PARSE_CONTEXT, positionOf } from './schema-errors.js';

export const DEFAULT_POLICY_PATH = '.github/merge-gate.yml';
/**
 * A policy is a few kilobytes; anything near this is a mistake or an attack, refused before it
 * is parsed. The bound keeps the worst reading (64 KiB of unknown keys, cold) well under a second
 * of the app's one thread: the YAML library alone takes over a second for 1 MiB (bench/hostile-input.ts).
 */
export const POLICY_MAX_BYTES = 64 * 1024;
/** Errors reported for one file; the rest are counted in a last "and N more" entry. */
export const MAX_REPORTED_ERRORS = 50;

export interface PolicyError {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  /** Key path such as `size.max_lines` or `freeze.windows[0].to`; empty for file-level errors. */
  path: string;
  message: string;
  /** Set on the last entry of a capped list: how many errors it stands for. */
  more?: number;
}

/** The first `MAX_REPORTED_ERRORS` errors, then one entry that says how many more there are. */
export function capErrors<E extends { line: number; column: number; message: string }>(errors: E[], make: (n: number, at: E) => E): E[] {
  if (errors.length <= MAX_REPORTED_ERRORS) return errors;
  const more = errors.length - MAX_REPORTED_ERRORS;
  return [...errors.slice(0, MAX_REPORTED_ERRORS), make(more, errors[MAX_REPORTED_ERRORS])];
}

/** The entry that ends a capped list. */
export const moreErrorsMessage = (n: number) => `and ${n} more error${n === 1 ? '' : 's'} (only the first ${MAX_REPORTED_ERRORS} are listed)`;

const morePolicyErrors = (n: number, at: PolicyError): PolicyError => ({ file: at.file, line: at.line, column: at.column, path: '', message: moreErrorsMessage(n), more: n });

/** How many errors a (capped) list stands for. */
export function errorCount(errors: readonly { more?: number }[]): number {
  return errors.reduce((n, e) => n + (e.more ?? 1), 0);
}

export type LoadResult =
  | { ok: true; policy: Policy; preset: string | null }
  | { ok: false; errors: PolicyError[] };

export type PathSegment = string | number;

/** Maps a key path to where it is written (null when the file does not contain it). */
export type Locator = (path: readonly PathSegment[], at: 'key' | 'value') => { line: number; column: number } | null;

export function formatPath(path: readonly PathSegment[]): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

export function formatPolicyError(e: PolicyError): string {
  if (e.more) return `${e.file}: ${e.message}`;
  return `${e.file}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** A parsed YAML file that can say where each key path is written. */
export interface ParsedYaml {
  file: string;
  value: unknown;
  errors: PolicyError[];
  locate: Locator;
}

export interface ParseOptions {
  /** Larger texts are refused with an error that names the limit. */
  maxBytes?: number;
  /** How the limit's error names the file's kind ("policy", "flag registry"). */
  what?: string;
}

/** The error for a file over its size limit, naming the limit. */
export function tooLargeMessage(what: string, bytes: number, maxBytes: number): string {
  return `the ${what} file is ${bytes} bytes; merge-gate reads ${what} files of at most ${maxBytes} bytes (${maxBytes / 1024} KiB)`;
}

export function parseYaml(text: string, file: string, options: ParseOptions = {}): ParsedYaml {
  const { maxBytes = POLICY_MAX_BYTES, what = 'policy' } = options;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return { file, value: null, errors: [{ file, line: 1, column: 1, path: '', message: tooLargeMessage(what, bytes, maxBytes) }], locate: () => null };
  }
  const lineCounter = new LineCounter();
  // uniqueKeys is off: the library compares each key with every earlier one (quadratic); duplicates are found below in one pass.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  // An error at the very end (an unclosed quote) points at the last real line, so annotations stay in the file.
  const lastLine = Math.max(1, text.replace(/\r?\n$/, '').split('\n').length);
  const pos = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return line > lastLine ? { line: lastLine, column: 1 } : { line, column: col };
  };
  // Nesting too deep for the parser's recursion is one problem, however many levels report it
  // (how many do depends on the stack left, which varies from run to run).
  const tooDeep = doc.errors.findIndex((err) => err.message.includes('Maximum call stack size exceeded'));
  const syntax: PolicyError[] = doc.errors.filter((err, i) => tooDeep < 0 || i === tooDeep || !err.message.includes('Maximum call stack size exceeded')).map((err) => ({
    file,
    ...pos(err.pos[0]),
    path: '',
    message: `YAML syntax error: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
  }));
  let aliases = false;
  if (syntax.length === 0) {
    const found = duplicateKeys(doc, file, pos);
    syntax.push(...found.errors);
    aliases = found.aliases;
  }
  const seen = new Set<string>();
  const errors = capErrors(
    syntax.filter((e) => !seen.has(formatPolicyError(e)) && Boolean(seen.add(formatPolicyError(e)))),
    morePolicyErrors,
  );
  let value: unknown = null;
  if (errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
      // Only an alias can make a cycle: a file without one is not walked again.
      if (aliases && isCyclic(value)) {
        errors.push({ file, line: 1, column: 1, path: '', message: 'YAML error: an alias refers to a node that contains it (a recursive alias)' });
        value = null;
      }
    } catch (err) {
      errors.push({ file, line: 1, column: 1, path: '', message: `YAML error: ${(err as Error).message}` });
    }
  }
  return { file, value, errors, locate: documentLocator(doc, pos) };
}

/** How a key is compared for uniqueness and looked up by path. */
const keyText = (key: unknown): string => (isScalar(key) ? String(key.value) : String(key));

/** Every key that repeats one earlier in its mapping, and whether there is any alias, in one pass over the document. */
function duplicateKeys(doc: Document, file: string, pos: (offset: number) => { line: number; column: number }): { errors: PolicyError[]; aliases: boolean } {
  const errors: PolicyError[] = [];
  let aliases = false;
  visit(doc, {
    Alias() {
      aliases = true;
    },
    Map(_, map) {
      const keys = new Set<string>();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        if (!keys.has(key)) keys.add(key);
        else {
          const range = (pair.key as Node | null)?.range;
          errors.push({ file, ...(range ? pos(range[0]) : { line: 1, column: 1 }), path: '', message: 'YAML syntax error: Map keys must be unique' });
        }
      }
    },
  });
  return { errors: errors.sort((a, b) => a.line - b.line || a.column - b.column), aliases };
}

function documentLocator(doc: Document, pos: (offset: number) => { line: number; column: number }): Locator {
  // Each mapping is indexed once, on its first lookup: a lookup per key stays linear over the file.
  const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items as Pair[]) if (!index.has(keyText(p.key))) index.set(keyText(p.key), p);
      indexes.set(map, index);
    }
    return index.get(key);
  };
  return (path, at) => {
    let node: unknown = doc.contents;
    let keyNode: Node | null = null;
    for (const seg of path) {
      keyNode = null;
      if (isMap(node)) {
        const pair = pairOf(node as YAMLMap, String(seg));
        if (!pair) return null;
        keyNode = pair.key as Node;
        node = pair.value ?? null;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (node === undefined) return null;
      } else {
        return null;
      }
    }
    const target = at === 'key' && keyNode ? keyNode : ((node as Node | null)?.range ? (node as Node) : keyNode);
    return target?.range ? pos(target.range[0]) : null;
  };
}

/** Load the policy from the text of `.github/merge-gate.yml`. */
export function loadPolicyText(text: string, file = DEFAULT_POLICY_PATH): LoadResult {
  const parsed = parseYaml(text, file);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
  return loadPolicyObject(parsed.value, file, parsed.locate);
}

/**
 * Load a policy that is already parsed (the app's, merged with what it
 * `_extends`). `locate` gives line and column in the text it came from;
 * without it errors point at 1:1.
 */
export function loadPolicyObject(raw: unknown, file = DEFAULT_POLICY_PATH, locate: Locator = () => null): LoadResult {
  try {
    return validate(raw ?? {}, file, locate);
  } catch (err) {
    // Fail closed with words, never a crash: a bug here must still block, not pass.
    return { ok: false, errors: [{ file, line: 1, column: 1, path: '', message: `internal error while validating the policy: ${(err as Error).message}` }] };
  }
}

function validate(raw: unknown, file: string, locate: Locator): LoadResult {
  const at = (path: readonly PathSegment[], where: 'key' | 'value' = 'value') => positionOf(locate, path, where);
  const error = (path: readonly PathSegment[], message: string, where: 'key' | 'value' = 'value'): PolicyError => ({
    file,
    ...at(path, where),
    path: formatPath(path),
    message,
  });

  if (!isPlainObject(raw)) {
    return { ok: false, errors: [error([], `expected a mapping of policy keys at the top level, got ${describeInput(raw)}`)] };
  }

  // The preset is merged under the file; errors inside a preset point at the preset file.
  let base: Record<string, unknown> = {};
  let presetLocate: Locator = () => null;
  let presetFile = '';
  const presetName = raw.preset === undefined ? 'default' : raw.preset;
  const errors: PolicyError[] = [];
  if (typeof presetName === 'string' && presetName !== PRESET_NONE) {
    const preset = presetDocument(presetName);
    if (!preset) {
      const names = listPresets();
      const hint = closest(presetName, names);
      errors.push(error(['preset'], `unknown preset ${JSON.stringify(presetName)}${hint ? `; did you mean "${hint}"?` : ''} (available: ${[...names, PRESET_NONE].join(', ')})`));
    } else {
      base = isPlainObject(preset.value) ? preset.value : {};
      presetLocate = preset.locate;
      presetFile = preset.file;
    }
  }

  const merged = mergeUnder(base, raw);
  const result = PolicyFileSchema.safeParse(merged, PARSE_CONTEXT);
  if (result.success && errors.length === 0) {
    return { ok: true, policy: result.data, preset: presetName === PRESET_NONE || typeof presetName !== 'string' ? null : presetName };
  }
  // Messages are worded only for the errors that are listed: a "did you mean" for each of
  // 50,000 unknown keys would cost far more than finding them.
  const found: { error: PolicyError; word?: () => string }[] = errors.map((error) => ({ error }));
  for (const issue of result.success ? [] : result.error.issues) {
    const inFile = hasPath(raw, issue.path as PathSegment[]);
    const report = (path: PathSegment[], word: () => string, where: 'key' | 'value' = 'value') => {
      if (!inFile && presetFile && hasPath(base, path)) {
        const p = presetLocate(path, where) ?? { line: 1, column: 1 };
        found.push({ error: { file: presetFile, ...p, path: formatPath(path), message: '' }, word });
      } else found.push({ error: error(path, '', where), word });
    };
    // describeIssue words an unknown key's message only when it is read.
    for (const r of describeIssue(issue, keysAt)) report(r.path, () => r.message, r.where);
  }
  found.sort(({ error: a }, { error: b }) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
  const listed = capErrors(found.map((f) => f.error), morePolicyErrors);
  for (let i = 0; i < Math.min(listed.length, found.length); i++) {
    const word = found[i].word;
    if (word && listed[i] === found[i].error) listed[i].message = word();
  }
  return { ok: false, errors: listed };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasPath(value: unknown, path: readonly PathSegment[]): boolean {
  let node = value;
  for (const seg of path) {
    if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, seg)) node = node[seg as string];
    else if (Array.isArray(node) && typeof seg === 'number' && seg < node.length) node = node[seg];
    else return false;
  }
  return true;
}

/** Merge `top` over `base`: mappings merge key by key; lists and scalars in `top` replace. */
export function mergeUnder(base: unknown, top: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(top)) return top === undefined ? base : top;
  // No prototype: a key named `__proto__` stays a key (and is then reported as unknown).
  const out: Record<string, unknown> = Object.assign(Object.create(null), base);
  for (const [k, v] of Object.entries(top)) out[k] = k in base ? mergeUnder(base[k], v) : v;
  return out;
}

function isCyclic(value: unknown, path = new Set<unknown>()): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (path.has(value)) return true;
  path.add(value);
  const cyclic = Object.values(value).some((v) => isCyclic(v, path));
  path.delete(value);
  return cyclic;
}
