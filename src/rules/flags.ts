// The flags rule (SPEC §2, flags): new behaviour lands dark behind an
// experimental flag, and nothing that is neither experimental nor deprecated
// breaks. Compares the flag registry at the base with the one at the head and
// scans the pull request's added lines for flag references.
//
// Decisions where the SPEC is silent (documented in one place):
// - A missing registry, at the base or the head, is an empty one: references
//   then name unknown flags, and a feature must still land dark (rule 4).
// - A registry at the base that cannot be read makes the base-vs-head rules
//   (1–3) impossible; they are skipped with a note and rules 4–6 still apply,
//   so the pull request that repairs the registry can land. A registry at the
//   head that cannot be read, or is invalid, fails the rule, naming file:line.
// - A flag entry must be a mapping with `lifecycle` (experimental, supported,
//   deprecated); its other keys are default, owner, description and
//   deprecated_since; any other key is an error (a typo such as `defualt`
//   would otherwise silently read as "off"). `default` must be a scalar.
// - "Off" is exactly: false, 0, "", "off", null, or no default at all.
// - A supported flag moving back to experimental counts as breaking it (rule 2):
//   it would let the next pull request remove it without a deprecation.
// - New files under feature_paths (rule 4) are files with status added or copied.
// - The registry file's own added lines are not scanned for references.
// - Labels compare case-insensitively, as GitHub treats them.
import type { ChangedFile, FileDiff } from '../facts/types.js';
import type { FlagsPolicy, Policy } from '../policy/schema.js';
import { compileGlobs } from '../policy/glob.js';
import { closest } from '../policy/suggest.js';
import { compileReference, flagMatches } from '../policy/reference.js';
import { capErrors, errorCount, isPlainObject, moreErrorsMessage, parseYaml } from '../policy/load.js';
import { required, type RuleContext } from './context.js';
import type { Detail, RuleResult } from './types.js';
import { plural } from './words.js';

export type Lifecycle = 'experimental' | 'supported' | 'deprecated';
const LIFECYCLES: readonly Lifecycle[] = ['experimental', 'supported', 'deprecated'];
const FLAG_KEYS = ['default', 'lifecycle', 'owner', 'description', 'deprecated_since'] as const;

export interface FlagEntry {
  name: string;
  lifecycle: Lifecycle;
  /** The default as YAML gives it; null when absent. */
  default: string | number | boolean | null;
  owner: unknown;
  description: unknown;
  /** 1-based line and column of the flag's key in the registry file. */
  line: number;
  column: number;
}

export interface Registry {
  flags: Map<string, FlagEntry>;
  /** Line of the top-level `flags:` key, when there is one. */
  flagsLine: number | null;
}

export interface RegistryError {
  line: number;
  column: number;
  message: string;
  /** Set on the last entry of a capped list: how many errors it stands for. */
  more?: number;
}

/**
 * A registry larger than this is refused unread: its reading is linear, and this bounds it (half a second of the
 * app's one thread at most; a registry of thousands of flags is well under it).
 */
export const REGISTRY_MAX_BYTES = 512 * 1024;

export type RegistryParse = { ok: true; registry: Registry } | { ok: false; errors: RegistryError[] };

const emptyRegistry = (): Registry => ({ flags: new Map(), flagsLine: null });

/** Parse and validate a flag registry's text (SPEC §2 flags). Never throws. */
export function parseRegistry(text: string): RegistryParse {
  // The same YAML reading as the policy file: syntax errors, positions, recursive aliases.
  const parsed = parseYaml(text, 'registry', { maxBytes: REGISTRY_MAX_BYTES, what: 'flag registry' });
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors.map(({ line, column, message, more }) => ({ line, column, message, ...(more ? { more } : {}) })) };
  const errors: RegistryError[] = [];
  const at = (path: readonly (string | number)[], where: 'key' | 'value' = 'key') => parsed.locate(path, where) ?? { line: 1, column: 1 };
  const fail = (path: readonly (string | number)[], where: 'key' | 'value', message: string) => errors.push({ ...at(path, where), message });

  const registry = emptyRegistry();
  const root = parsed.value;
  if (root === null || root === undefined) return { ok: true, registry }; // an empty file is an empty registry
  if (!isPlainObject(root)) {
    fail([], 'value', 'expected a mapping with a top-level `flags:` key');
    return { ok: false, errors };
  }
  if (!Object.prototype.hasOwnProperty.call(root, 'flags')) return { ok: true, registry };
  registry.flagsLine = at(['flags']).line;
  const flags = root.flags;
  if (flags === null) return { ok: true, registry };
  if (!isPlainObject(flags)) {
    fail(['flags'], 'value', 'flags: expected a mapping of flag name to {default, lifecycle, owner, description, deprecated_since}');
    return { ok: false, errors };
  }
  for (const [name, value] of Object.entries(flags)) {
    const path = ['flags', name];
    if (name === '') {
      fail(path, 'key', 'flag names must be non-empty strings');
      continue;
    }
    if (!isPlainObject(value)) {
      fail(path, value === null ? 'key' : 'value', `flags.${name}: expected a mapping with at least \`lifecycle\` (experimental, supported or deprecated)`);
      continue;
    }
    const entry: FlagEntry = { name, lifecycle: 'experimental', default: null, owner: null, description: null, ...at(path) };
    let ok = true;
    const problem = (key: string, where: 'key' | 'value', message: string) => {
      fail([...path, key], where, message);
      ok = false;
    };
    for (const [key, v] of Object.entries(value)) {
      if (!(FLAG_KEYS as readonly string[]).includes(key)) {
        const hint = closest(key, FLAG_KEYS);
        problem(key, 'key', `flags.${name}: unknown key ${JSON.stringify(key)}${hint ? `; did you mean "${hint}"?` : ''} (allowed: ${FLAG_KEYS.join(', ')})`);
      } else if (typeof v === 'object' && v !== null) {
        problem(key, 'value', `flags.${name}.${key}: expected a single value, got ${Array.isArray(v) ? 'a list' : 'a mapping'}`);
      } else if (key === 'lifecycle') {
        if (typeof v === 'string' && (LIFECYCLES as readonly string[]).includes(v)) entry.lifecycle = v as Lifecycle;
        else problem(key, 'value', `flags.${name}.lifecycle: expected one of ${LIFECYCLES.join(', ')}, got ${describe(v)}`);
      } else if (key === 'default') entry.default = v as FlagEntry['default'];
      else if (key === 'owner') entry.owner = v;
      else if (key === 'description') entry.description = v;
    }
    if (!Object.prototype.hasOwnProperty.call(value, 'lifecycle')) {
      fail(path, 'key', `flags.${name}: missing lifecycle (experimental, supported or deprecated)`);
      ok = false;
    }
    if (ok) registry.flags.set(name, entry);
  }
  return errors.length > 0 ? { ok: false, errors: capErrors(errors, (more, at) => ({ line: at.line, column: at.column, message: moreErrorsMessage(more), more })) } : { ok: true, registry };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** false, 0, "", "off", null and no default at all are off; anything else is on. */
export function isOff(value: unknown): boolean {
  return value === null || value === undefined || value === false || value === 0 || value === '' || value === 'off';
}

/** Hunks are needed exactly when the flags rule is configured. */
export function needsHunksForFlags(policy: Pick<Policy, 'flags'>): boolean {
  return policy.flags !== undefined;
}

interface Reference {
  flag: string;
  path: string;
  line: number | undefined;
  underFeaturePaths: boolean;
}

/**
 * Every flag reference in added lines: one per (file, line, flag). The pattern
 * runs on RE2 (src/policy/reference.ts), in time linear in each line.
 */
export function findReferences(
  diff: readonly FileDiff[],
  flags: Pick<FlagsPolicy, 'reference' | 'feature_paths' | 'registry'>,
): Reference[] {
  const compiled = compileReference(flags.reference);
  // The loader has compiled it already; a policy that skipped the loader still fails closed.
  if (!compiled.ok) throw new Error(`flags.reference: ${compiled.message}`);
  const isFeature = compileGlobs(flags.feature_paths);
  const registryPath = normalizePath(flags.registry);
  const refs: Reference[] = [];
  for (const file of diff) {
    if (normalizePath(file.path) === registryPath) continue; // the registry defines flags, it does not use them
    const underFeaturePaths = isFeature(file.path);
    for (const line of file.lines) {
      if (line.type !== 'add') continue;
      let seen: Set<string> | null = null;
      for (const flag of flagMatches(compiled.pattern, line.content)) {
        if (seen?.has(flag)) continue;
        (seen ??= new Set()).add(flag);
        refs.push({ flag, path: file.path, line: line.newLine, underFeaturePaths });
      }
    }
  }
  return refs;
}

function normalizePath(p: string): string {
  return p.replace(/^\.\//, '');
}

const quote = (name: string) => JSON.stringify(name);
const show = (v: unknown) => (v === null || v === undefined ? 'none' : JSON.stringify(v));

function sameValue(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null) || (Number.isNaN(a) && Number.isNaN(b));
}

export function flagsRule(ctx: RuleContext): RuleResult {
  const flags = ctx.policy.flags;
  if (!flags) return { rule: 'flags', outcome: 'skip', reason: 'not configured', details: [] };
  const registryPath = flags.registry;
  const texts = required(ctx.facts.registry, 'flag registry texts');
  const files: ChangedFile[] = required(ctx.facts.files, 'changed files');
  const diff = required(ctx.facts.diff, 'diff hunks');

  const refs = findReferences(diff, flags);
  const referenced = new Set(refs.map((r) => r.flag));
  const pass = (details: Detail[] = []): RuleResult => ({
    rule: 'flags',
    outcome: 'pass',
    reason: `no violations (${plural(referenced.size, 'flag')} referenced)`,
    details,
  });

  // The head registry: what the pull request would land.
  let head: Registry;
  if (texts.head === null) head = emptyRegistry();
  else {
    const parsed = parseRegistry(texts.head);
    if (!parsed.ok) {
      const first = parsed.errors[0];
      const total = errorCount(parsed.errors);
      const more = total > 1 ? ` (and ${total - 1} more)` : '';
      return {
        rule: 'flags',
        outcome: 'fail',
        reason: `invalid flag registry ${registryPath}:${first.line}: ${first.message}${more}`,
        details: parsed.errors.map((e) =>
          e.more ? { message: e.message } : { message: `${registryPath}:${e.line}:${e.column} ${e.message}`, path: registryPath, line: e.line, column: e.column },
        ),
      };
    }
    head = parsed.registry;
  }

  const violations: Detail[] = [];
  const notes: Detail[] = [];
  const registryDetail = (message: string, line: number | null | undefined): Detail =>
    line ? { message, path: registryPath, line } : { message, path: registryPath };

  // Rules 1–3: the registry at the base against the registry at the head.
  let base: Registry | null = emptyRegistry();
  if (texts.base !== null) {
    // An unchanged registry (the usual case) is parsed once.
    const parsed: RegistryParse = texts.base === texts.head ? { ok: true, registry: head } : parseRegistry(texts.base);
    if (parsed.ok) base = parsed.registry;
    else {
      base = null;
      const e = parsed.errors[0];
      notes.push({
        message: `the registry at the base could not be read (${registryPath}:${e.line}: ${e.message}); the base-to-head rules (new, supported and turned-on flags) were not checked`,
        path: registryPath,
      });
    }
  }
  if (base) {
    const onlyRegistry = files.every((f) => normalizePath(f.path) === normalizePath(registryPath));
    const others = files.filter((f) => normalizePath(f.path) !== normalizePath(registryPath)).map((f) => f.path);
    const othersText = `${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}`;
    const added = [...head.flags.values()].filter((f) => !base!.flags.has(f.name));

    for (const flag of added) {
      // Rule 1: a new flag lands experimental and off.
      const problems: string[] = [];
      if (flag.lifecycle !== 'experimental') problems.push(`lifecycle is ${flag.lifecycle}`);
      if (!isOff(flag.default)) problems.push(`default is ${show(flag.default)}`);
      if (problems.length > 0) {
        violations.push(registryDetail(`new flag ${quote(flag.name)} must be experimental with an off default (false, 0, "", "off" or null): ${problems.join(', ')}`, flag.line));
      }
    }

    for (const was of base.flags.values()) {
      const now = head.flags.get(was.name);
      if (was.lifecycle === 'supported') {
        // Rule 2: never break what is neither experimental nor deprecated.
        if (!now) {
          const renamed = added.find((a) => typeof was.description === 'string' && was.description !== '' && a.description === was.description);
          const line = renamed?.line ?? removalLine(diff, registryPath, was.name) ?? head.flagsLine;
          violations.push(
            registryDetail(
              `supported flag ${quote(was.name)} was ${renamed ? `renamed to ${quote(renamed.name)}` : 'removed'}: a supported flag must first be marked deprecated`,
              line,
            ),
          );
          continue;
        }
        if (!sameValue(was.default, now.default)) {
          violations.push(registryDetail(`supported flag ${quote(was.name)} changed its default from ${show(was.default)} to ${show(now.default)}: a supported flag must first be marked deprecated`, now.line));
        }
        if (now.lifecycle === 'experimental') {
          violations.push(registryDetail(`supported flag ${quote(was.name)} may not go back to experimental: mark it deprecated instead`, now.line));
        }
      }
      if (!now) continue;
      // Rule 3: turning a default on, or promoting to supported, is the only change.
      if (!onlyRegistry) {
        if (isOff(was.default) && !isOff(now.default)) {
          violations.push(registryDetail(`turning on flag ${quote(was.name)} (default ${show(was.default)} → ${show(now.default)}) must be the pull request's only change; it also changes ${othersText}`, now.line));
        }
        if (was.lifecycle === 'experimental' && now.lifecycle === 'supported') {
          violations.push(registryDetail(`promoting flag ${quote(was.name)} from experimental to supported must be the pull request's only change; it also changes ${othersText}`, now.line));
        }
      }
    }
  }

  // Rule 4: a feature pull request lands dark.
  const featureLabel = flags.feature_label?.toLowerCase();
  const labelled = featureLabel !== undefined && ctx.facts.labels.some((l) => l.toLowerCase() === featureLabel);
  const isFeaturePath = compileGlobs(flags.feature_paths);
  const newFiles = files.filter((f) => (f.status === 'added' || f.status === 'copied') && isFeaturePath(f.path));
  if (labelled || newFiles.length > 0) {
    const dark = refs.some((r) => {
      const flag = head.flags.get(r.flag);
      return r.underFeaturePaths && flag !== undefined && flag.lifecycle === 'experimental' && isOff(flag.default);
    });
    if (!dark) {
      const why = labelled
        ? `has the ${flags.feature_label} label`
        : `adds ${newFiles.length === 1 ? 'a new file' : `${newFiles.length} new files`} under ${flags.feature_paths.join(', ')} (${newFiles.slice(0, 3).map((f) => f.path).join(', ')}${newFiles.length > 3 ? ', …' : ''})`;
      const detail: Detail = {
        message: `this pull request ${why} but adds no reference under ${flags.feature_paths.join(', ')} to a flag that is experimental and off at the head: land the feature dark behind a new experimental flag`,
      };
      if (newFiles.length > 0) detail.path = newFiles[0].path;
      violations.push(detail);
    }
  }

  // Rules 5 and 6: every reference names a flag that exists and is not deprecated.
  for (const r of refs) {
    const flag = head.flags.get(r.flag);
    const at: Pick<Detail, 'path' | 'line'> = r.line ? { path: r.path, line: r.line } : { path: r.path };
    if (!flag) {
      violations.push({ message: `flag ${quote(r.flag)} is not in the registry ${registryPath}${texts.head === null ? ' (there is no registry at the head)' : ''}`, ...at });
    } else if (flag.lifecycle === 'deprecated') {
      violations.push({ message: `flag ${quote(r.flag)} is deprecated: new code may not use it`, ...at });
    }
  }

  if (violations.length === 0) return pass(notes);
  return {
    rule: 'flags',
    outcome: 'fail',
    reason: `${plural(violations.length, 'flag violation')}`,
    details: [...violations, ...notes],
  };
}

/**
 * Where a removed flag was, as a line of the registry at the head: the line
 * just before its deleted key (or the first line after it), when the hunks show it.
 */
function removalLine(diff: readonly FileDiff[], registryPath: string, name: string): number | null {
  const file = diff.find((f) => normalizePath(f.path) === normalizePath(registryPath));
  if (!file) return null;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const key = new RegExp(`^\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*:`);
  let before: number | null = null;
  for (let i = 0; i < file.lines.length; i++) {
    const line = file.lines[i];
    if (line.type !== 'del') {
      if (line.newLine) before = line.newLine;
      continue;
    }
    if (!key.test(line.content)) continue;
    if (before) return before;
    const after = file.lines.slice(i).find((l) => l.type !== 'del' && l.newLine);
    return after?.newLine ?? null;
  }
  return null;
}
