// Hostile-input benchmark: the worst cases a pull request author controls, on
// the app's one thread. Reading a policy or a flag registry (YAML) and running
// `flags.reference` (RE2) must stay linear: the figures `yaml.worst.ms` and
// `regex.worst.ms` are the slowest case of each. A YAML file over its limit
// (64 KiB for a policy, 512 KiB for a registry) is refused unread, so the worst
// a file can cost is at its limit; regular expressions run over 1 MB lines.
import { performance } from 'node:perf_hooks';
import { loadPolicyText, POLICY_MAX_BYTES } from '../src/policy/load.js';
import { compileReference, flagMatches } from '../src/policy/reference.js';
import { DEFAULT_REFERENCE } from '../src/policy/schema.js';
import { parseRegistry, REGISTRY_MAX_BYTES } from '../src/rules/flags.js';
import { printTable, writeResults } from './results-file.js';

const MB = 1_000_000;

/** `unit` repeated to about `bytes` bytes. */
const fill = (unit: (i: number) => string, bytes = MB): string => {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const s = unit(i);
    parts.push(s);
    size += s.length;
  }
  return parts.join('');
};

/** The slowest of `runs` runs; with `warmUp`, after one run that is not counted. */
function worstOf(fn: () => void, runs: number, warmUp: boolean): number {
  if (warmUp) fn();
  let worst = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    worst = Math.max(worst, performance.now() - t);
  }
  return worst;
}

const yamlCases = [
  // A registry over REGISTRY_MAX_BYTES is refused unread; the worst a registry can cost is at the limit.
  { case: 'registry: 1 MB of valid flags (refused)', text: `flags:\n${fill((i) => `  flag-number-${i}: { default: false, lifecycle: experimental }\n`)}`, run: (t: string) => parseRegistry(t) },
  { case: 'registry: valid flags (flow maps), at the limit', text: `flags:\n${fill((i) => `  flag-number-${i}: { default: false, lifecycle: experimental }\n`, REGISTRY_MAX_BYTES - 100)}`, run: (t: string) => parseRegistry(t) },
  { case: 'registry: valid flags (block maps), at the limit', text: `flags:\n${fill((i) => `  flag-${i}:\n    lifecycle: experimental\n    default: false\n`, REGISTRY_MAX_BYTES - 100)}`, run: (t: string) => parseRegistry(t) },
  { case: 'registry: invalid flags (an error each), at the limit', text: `flags:\n${fill((i) => `  flag-${i}: { lifecycle: beta }\n`, REGISTRY_MAX_BYTES - 100)}`, run: (t: string) => parseRegistry(t) },
  { case: 'registry: duplicate keys, at the limit', text: `flags:\n${fill(() => '  same: { lifecycle: experimental }\n', REGISTRY_MAX_BYTES - 100)}`, run: (t: string) => parseRegistry(t) },
  // A policy over POLICY_MAX_BYTES is refused unread; the worst a policy can cost is at the limit.
  { case: 'policy: 1 MB of unknown keys (refused)', text: `preset: none\n${fill((i) => `unknown_key_${i}: 1\n`, 1_040_000)}`, run: (t: string) => loadPolicyText(t) },
  { case: 'policy: 1 MB of unknown nested keys (refused)', text: `preset: none\nsize:\n${fill((i) => `  k${i}: 1\n`, 1_040_000)}`, run: (t: string) => loadPolicyText(t) },
  { case: 'policy: unknown keys, at the limit', text: `preset: none\n${fill((i) => `unknown_key_${i}: 1\n`, POLICY_MAX_BYTES - 100)}`, run: (t: string) => loadPolicyText(t) },
  { case: 'policy: unknown nested keys, at the limit', text: `preset: none\nsize:\n${fill((i) => `  k${i}: 1\n`, POLICY_MAX_BYTES - 100)}`, run: (t: string) => loadPolicyText(t) },
  { case: 'policy: unknown keys in one flow mapping, at the limit', text: `preset: none\nsize: {${fill((i) => `k${i}: 1, `, POLICY_MAX_BYTES - 100)}}\n`, run: (t: string) => loadPolicyText(t) },
];

const yamlRows = yamlCases.map((c) => {
  // Two runs, the first cold as in a freshly started app: warming up would only hide the worst.
  const ms = worstOf(() => c.run(c.text), 2, false);
  return { case: c.case, 'MB': Number((Buffer.byteLength(c.text) / MB).toFixed(2)), 'worst ms': Number(ms.toFixed(1)) };
});
printTable('YAML reading, worst of 2 runs (the first cold), at and over the limits (registry 512 KiB, policy 64 KiB)', yamlRows);

const regexCases = [
  { pattern: '(?<flag>(a|a)*)$', line: 'a'.repeat(MB) },
  { pattern: '(?<flag>(a|a)*)$', line: `${'a'.repeat(MB - 1)}!` },
  { pattern: '(?<flag>\\w*\\w*\\w*\\w*\\w*)!', line: 'a'.repeat(MB) },
  { pattern: '(?<flag>[a-z_]+)\\s*\\.enabled', line: 'a'.repeat(MB) },
  { pattern: '(?<flag>[a-z_]+)\\s*\\.enabled', line: fill(() => 'ab .enable ') },
  { pattern: '(?<flag>.*)*x', line: 'a'.repeat(MB) },
  { pattern: DEFAULT_REFERENCE, line: fill((i) => `isEnabled('flag-${i}') && `) },
  { pattern: DEFAULT_REFERENCE, line: fill(() => "isEnabled('") },
];
const regexRows = regexCases.map(({ pattern, line }) => {
  const compiled = compileReference(pattern);
  if (!compiled.ok) throw new Error(compiled.message);
  let found = 0;
  const ms = worstOf(() => {
    found = 0;
    for (const _ of flagMatches(compiled.pattern, line)) found++;
  }, 3, true);
  return { pattern, line: `${line.slice(0, 16)}… (${(line.length / MB).toFixed(2)} MB)`, found, 'worst ms': Number(ms.toFixed(1)) };
});
printTable('flags.reference on RE2 (re2js), one line of ~1 MB, worst of 3 runs', regexRows);

const yamlWorst = Math.max(...yamlRows.map((r) => r['worst ms']));
const regexWorst = Math.max(...regexRows.map((r) => r['worst ms']));
writeResults('hostileInput', { yaml: yamlRows, regex: regexRows }, [
  { name: 'yaml.worst.ms', value: yamlWorst, unit: 'ms', target: '< 1000' },
  { name: 'regex.worst.ms', value: regexWorst, unit: 'ms', target: null },
]);
