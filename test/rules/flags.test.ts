// The flags rule (SPEC §2, flags rules 1–6): the registry at the base against
// the registry at the head, and the flag references in added lines.
import { describe, expect, it } from '@jest/globals';
import type { ChangedFile, FileDiff, PullRequestFacts } from '../../src/facts/types.js';
import type { Policy } from '../../src/policy/schema.js';
import { flagsRule, isOff, needsHunksForFlags, parseRegistry, REGISTRY_MAX_BYTES } from '../../src/rules/flags.js';
import type { RuleResult } from '../../src/rules/types.js';
import { DateTime } from 'luxon';
import { changed, hunks, makeFacts } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

function policy(yaml = 'flags:\n  feature_label: feature\n'): Policy {
  return validPolicy(`preset: none\n${yaml}`);
}

type Flags = Record<string, Record<string, unknown>>;

/** A registry text, one line per key; string values are JSON-quoted (valid YAML). */
function reg(flags: Flags): string {
  const lines = ['flags:'];
  for (const [name, fields] of Object.entries(flags)) {
    lines.push(`  ${name}:`);
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The 1-based line of `name:` in a registry written by reg(). */
const lineOf = (text: string, name: string) => text.split('\n').indexOf(`  ${name}:`) + 1;

const BASE: Flags = {
  'stable-api': { default: false, lifecycle: 'supported', owner: '@api', description: 'Stable API' },
  'new-scheduler': { default: false, lifecycle: 'experimental', description: 'Faster scheduler' },
  'hot-path': { default: true, lifecycle: 'experimental', description: 'Already on for everyone' },
  'old-cache': { default: true, lifecycle: 'deprecated', deprecated_since: '2026-01-01' },
};

const clone = (f: Flags): Flags => JSON.parse(JSON.stringify(f)) as Flags;

const REGISTRY_ONLY: ChangedFile[] = [changed('flags.yml', 1, 1)];
const WITH_OTHERS: ChangedFile[] = [changed('flags.yml', 1, 1), changed('src/app.ts', 3, 1)];

function run(opts: {
  base?: string | null;
  head?: string | null;
  files?: ChangedFile[];
  diff?: FileDiff[];
  labels?: string[];
  policy?: Policy;
}): RuleResult {
  const facts: PullRequestFacts = makeFacts({
    registry: { base: opts.base === undefined ? reg(BASE) : opts.base, head: opts.head === undefined ? reg(BASE) : opts.head },
    files: opts.files ?? REGISTRY_ONLY,
    diff: opts.diff ?? [],
    labels: opts.labels ?? [],
  });
  return flagsRule({ policy: opts.policy ?? policy(), facts, now: DateTime.fromISO('2026-01-07T12:00:00Z', { zone: 'utc' }) });
}

/** A file with only added lines, numbered from `start`. */
const added = (path: string, lines: string[], start = 1): FileDiff => hunks(path, lines.map((l) => `+${l}`), { newStart: start });

describe('flagsRule: not configured', () => {
  it('skips without a flags section', () => {
    expect(flagsRule({ policy: policy('size:\n  max_lines: 10\n'), facts: makeFacts(), now: DateTime.utc(2026, 1, 7) })).toEqual({
      rule: 'flags',
      outcome: 'skip',
      reason: 'not configured',
      details: [],
    });
  });

  it.each([
    ['with flags', 'flags: {}\n', true],
    ['without flags', 'size:\n  max_lines: 10\n', false],
  ])('needsHunksForFlags %s → %s', (_name, yaml, expected) => {
    expect(needsHunksForFlags(policy(yaml))).toBe(expected);
  });

  it.each([
    ['diff', { diff: undefined }, /diff hunks were not gathered/],
    ['files', { files: undefined }, /changed files were not gathered/],
    ['registry', { registry: undefined }, /flag registry texts were not gathered/],
  ])('fails loudly when the %s were not gathered', (_name, overrides, error) => {
    const facts = makeFacts({ registry: { base: null, head: null }, ...overrides });
    expect(() => flagsRule({ policy: policy(), facts, now: DateTime.utc(2026, 1, 7) })).toThrow(error);
  });
});

describe('isOff', () => {
  it.each<[unknown, boolean]>([
    [false, true],
    [0, true],
    ['', true],
    ['off', true],
    [null, true],
    [undefined, true],
    [true, false],
    [1, false],
    ['on', false],
    ['false', false],
    ['OFF', false],
    [-1, false],
  ])('%p → %p', (value, off) => expect(isOff(value)).toBe(off));
});

describe('flagsRule: rules 1–3, the registry at the base against the head', () => {
  type Case = [string, (f: Flags) => void, ChangedFile[], Array<[RegExp, string | null]>];
  const cases: Case[] = [
    // Rule 1: new flags are experimental and off.
    ['rule 1 ok: a new experimental flag, default false', (f) => void (f['dark-launch'] = { default: false, lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1 ok: a new experimental flag, default 0', (f) => void (f['dark-launch'] = { default: 0, lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1 ok: a new experimental flag, default ""', (f) => void (f['dark-launch'] = { default: '', lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1 ok: a new experimental flag, default "off"', (f) => void (f['dark-launch'] = { default: 'off', lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1 ok: a new experimental flag, default null', (f) => void (f['dark-launch'] = { default: null, lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1 ok: a new experimental flag, no default', (f) => void (f['dark-launch'] = { lifecycle: 'experimental' }), WITH_OTHERS, []],
    ['rule 1: a new supported flag', (f) => void (f['dark-launch'] = { default: false, lifecycle: 'supported' }), REGISTRY_ONLY, [[/^new flag "dark-launch" must be experimental .*: lifecycle is supported$/, 'dark-launch']]],
    ['rule 1: a new deprecated flag', (f) => void (f['dark-launch'] = { default: false, lifecycle: 'deprecated' }), REGISTRY_ONLY, [[/lifecycle is deprecated/, 'dark-launch']]],
    ['rule 1: a new flag with default true', (f) => void (f['dark-launch'] = { default: true, lifecycle: 'experimental' }), REGISTRY_ONLY, [[/^new flag "dark-launch" .*: default is true$/, 'dark-launch']]],
    ['rule 1: a new flag with default "on"', (f) => void (f['dark-launch'] = { default: 'on', lifecycle: 'experimental' }), REGISTRY_ONLY, [[/default is "on"/, 'dark-launch']]],
    ['rule 1: a new flag with default 1', (f) => void (f['dark-launch'] = { default: 1, lifecycle: 'experimental' }), REGISTRY_ONLY, [[/default is 1/, 'dark-launch']]],
    ['rule 1: a new flag with default "false" (a string, not off)', (f) => void (f['dark-launch'] = { default: 'false', lifecycle: 'experimental' }), REGISTRY_ONLY, [[/default is "false"/, 'dark-launch']]],
    ['rule 1: a new supported flag that is on: one violation naming both', (f) => void (f['dark-launch'] = { default: true, lifecycle: 'supported' }), REGISTRY_ONLY, [[/lifecycle is supported, default is true/, 'dark-launch']]],
    // Rule 2: supported flags are not broken.
    ['rule 2: a supported flag removed', (f) => void delete f['stable-api'], REGISTRY_ONLY, [[/^supported flag "stable-api" was removed: a supported flag must first be marked deprecated$/, 'flags']]],
    [
      'rule 2: a supported flag renamed (removed + added)',
      (f) => {
        f['stable-api-v2'] = f['stable-api'];
        delete f['stable-api'];
      },
      REGISTRY_ONLY,
      [
        [/^new flag "stable-api-v2" must be experimental/, 'stable-api-v2'],
        [/^supported flag "stable-api" was renamed to "stable-api-v2": a supported flag must first be marked deprecated$/, 'stable-api-v2'],
      ],
    ],
    [
      'rule 2: a supported flag renamed to an experimental one is still a removal',
      (f) => {
        f['stable-api-v2'] = { ...f['stable-api'], lifecycle: 'experimental' };
        delete f['stable-api'];
      },
      REGISTRY_ONLY,
      [[/supported flag "stable-api" was renamed to "stable-api-v2"/, 'stable-api-v2']],
    ],
    ['rule 2: a supported flag\'s default changed (registry only)', (f) => void (f['stable-api'].default = true), REGISTRY_ONLY, [[/^supported flag "stable-api" changed its default from false to true/, 'stable-api']]],
    ['rule 2: a supported flag\'s default changed between two off values', (f) => void (f['stable-api'].default = 0), REGISTRY_ONLY, [[/changed its default from false to 0/, 'stable-api']]],
    ['rule 2: a supported flag\'s default dropped (false → none)', (f) => void delete f['stable-api'].default, REGISTRY_ONLY, [[/changed its default from false to none/, 'stable-api']]],
    [
      'rules 2 and 3: a supported flag turned on along with other changes',
      (f) => void (f['stable-api'].default = true),
      WITH_OTHERS,
      [
        [/supported flag "stable-api" changed its default/, 'stable-api'],
        [/^turning on flag "stable-api" \(default false → true\) must be the pull request's only change; it also changes src\/app.ts$/, 'stable-api'],
      ],
    ],
    ['rule 2: a supported flag sent back to experimental', (f) => void (f['stable-api'].lifecycle = 'experimental'), REGISTRY_ONLY, [[/may not go back to experimental/, 'stable-api']]],
    ['rule 2 ok: a supported flag marked deprecated, with other changes', (f) => void (f['stable-api'].lifecycle = 'deprecated'), WITH_OTHERS, []],
    ['rule 2 ok: a supported flag\'s owner and description changed', (f) => void Object.assign(f['stable-api'], { owner: '@other', description: 'Other' }), WITH_OTHERS, []],
    ['rule 2 ok: a deprecated flag removed', (f) => void delete f['old-cache'], WITH_OTHERS, []],
    ['rule 2 ok: an experimental flag removed', (f) => void delete f['new-scheduler'], WITH_OTHERS, []],
    ['rule 2 ok: a deprecated flag\'s default changed', (f) => void (f['old-cache'].default = false), WITH_OTHERS, []],
    // Rule 3: turning on and promoting are the only change.
    ['rule 3 ok: an experimental default turned on, registry alone', (f) => void (f['new-scheduler'].default = true), REGISTRY_ONLY, []],
    ['rule 3: an experimental default turned on with other files', (f) => void (f['new-scheduler'].default = true), WITH_OTHERS, [[/^turning on flag "new-scheduler" \(default false → true\) must be the pull request's only change; it also changes src\/app.ts$/, 'new-scheduler']]],
    ['rule 3: a default turned "on" (a string), with other files', (f) => void (f['new-scheduler'].default = 'on'), WITH_OTHERS, [[/turning on flag "new-scheduler" \(default false → "on"\)/, 'new-scheduler']]],
    ['rule 3 ok: promoted experimental → supported, registry alone', (f) => void (f['new-scheduler'].lifecycle = 'supported'), REGISTRY_ONLY, []],
    ['rule 3: promoted experimental → supported with other files', (f) => void (f['new-scheduler'].lifecycle = 'supported'), WITH_OTHERS, [[/^promoting flag "new-scheduler" from experimental to supported must be the pull request's only change; it also changes src\/app.ts$/, 'new-scheduler']]],
    [
      'rule 3: promoted and turned on with other files: two violations',
      (f) => void Object.assign(f['new-scheduler'], { lifecycle: 'supported', default: true }),
      WITH_OTHERS,
      [
        [/^turning on flag "new-scheduler"/, 'new-scheduler'],
        [/^promoting flag "new-scheduler"/, 'new-scheduler'],
      ],
    ],
    ['rule 3 ok: a default turned off with other files', (f) => void (f['hot-path'].default = false), WITH_OTHERS, []],
    ['rule 3 ok: a default changed between two on values with other files', (f) => void (f['hot-path'].default = 'on'), WITH_OTHERS, []],
    ['rule 3 ok: a deprecated flag promoted back to supported with other files', (f) => void (f['old-cache'].lifecycle = 'supported'), WITH_OTHERS, []],
    ['no change at all', () => undefined, WITH_OTHERS, []],
  ];

  it.each(cases)('%s', (_name, change, files, expected) => {
    const head = clone(BASE);
    change(head);
    const headText = reg(head);
    const result = run({ head: headText, files });
    if (expected.length === 0) {
      expect(result).toEqual({ rule: 'flags', outcome: 'pass', reason: 'no violations (0 flags referenced)', details: [] });
      return;
    }
    expect(result.outcome).toBe('fail');
    expect(result.reason).toBe(`${expected.length} flag violation${expected.length === 1 ? '' : 's'}`);
    expect(result.details).toHaveLength(expected.length);
    result.details.forEach((d, i) => {
      const [message, at] = expected[i];
      expect(d.message).toMatch(message);
      expect(d.path).toBe('flags.yml');
      expect(d.line).toBe(at === 'flags' ? 1 : lineOf(headText, at!));
    });
  });

  it('names the other files, at most three, when rule 3 is broken', () => {
    const head = clone(BASE);
    head['new-scheduler'].default = true;
    const files = [changed('flags.yml', 1, 1), ...['a', 'b', 'c', 'd', 'e'].map((n) => changed(`src/${n}.ts`, 1, 0))];
    const result = run({ head: reg(head), files });
    expect(result.details[0].message).toMatch(/it also changes src\/a.ts, src\/b.ts, src\/c.ts and 2 more$/);
  });

  it('places a removed supported flag on the line before it, at the head, when the hunks show it', () => {
    const base = { ...clone(BASE), 'zeta-api': { default: false, lifecycle: 'supported' } };
    const head = clone(BASE);
    const diff = [hunks('flags.yml', ['@@ 16 16', '     deprecated_since: "2026-01-01"', '-  zeta-api:', '-    default: false', '-    lifecycle: "supported"'])];
    const result = run({ base: reg(base), head: reg(head), diff });
    expect(result.details).toEqual([
      { message: 'supported flag "zeta-api" was removed: a supported flag must first be marked deprecated', path: 'flags.yml', line: 16 },
    ]);
  });

  it('the line is omitted for a removal when the head has no registry at all', () => {
    const result = run({ head: null });
    expect(result.outcome).toBe('fail');
    expect(result.details).toEqual([{ message: 'supported flag "stable-api" was removed: a supported flag must first be marked deprecated', path: 'flags.yml' }]);
  });

  it('compares the registry at the configured path', () => {
    const p = policy('flags:\n  registry: config/flags.yaml\n');
    const head = clone(BASE);
    head['new-scheduler'].default = true;
    expect(run({ policy: p, head: reg(head), files: [changed('config/flags.yaml', 1, 1)] }).outcome).toBe('pass');
    const result = run({ policy: p, head: reg(head), files: [changed('config/flags.yaml', 1, 1), changed('flags.yml', 1, 1)] });
    expect(result.outcome).toBe('fail');
    expect(result.details[0]).toMatchObject({ path: 'config/flags.yaml', message: expect.stringMatching(/also changes flags.yml$/) });
  });
});

describe('flagsRule: rule 4, feature pull requests land dark', () => {
  type Case = [string, { labels?: string[]; files?: ChangedFile[]; diff?: FileDiff[]; head?: Flags; policy?: Policy }, 'pass' | RegExp, string?];
  const newFile = (path: string, lines: string[], status: 'added' | 'copied' = 'added'): { files: ChangedFile[]; diff: FileDiff[] } => ({
    files: [changed(path, lines.length, 0, { status })],
    diff: [added(path, lines)],
  });
  const cases: Case[] = [
    ['the feature label without a reference', { labels: ['feature'], files: [changed('src/app.ts', 2, 0)], diff: [added('src/app.ts', ['run();', 'stop();'])] }, /^this pull request has the feature label but adds no reference under src\/\*\* to a flag that is experimental and off at the head/],
    ['the feature label in another case', { labels: ['Feature'], files: [changed('src/app.ts', 1, 0)], diff: [added('src/app.ts', ['run();'])] }, /has the feature label/],
    ['a new file under src/ without a reference', newFile('src/new.ts', ['export const x = 1;']), /^this pull request adds a new file under src\/\*\* \(src\/new.ts\) but adds no reference/, 'src/new.ts'],
    ['a copied file under src/ without a reference', newFile('src/copy.ts', ['export const x = 1;'], 'copied'), /adds a new file under src\/\*\* \(src\/copy.ts\)/, 'src/copy.ts'],
    ['a new file under src/ with a reference to an experimental, off flag', newFile('src/new.ts', ["if (isEnabled('new-scheduler')) run();"]), 'pass'],
    ['the feature label with a reference to an experimental, off flag in a modified file', { labels: ['feature'], files: [changed('src/app.ts', 1, 0)], diff: [added('src/app.ts', ['if (isEnabled("new-scheduler")) run();'])] }, 'pass'],
    [
      'a reference to a flag the pull request itself adds (experimental, off)',
      { ...newFile('src/new.ts', ["isEnabled('dark-launch')"]), head: { ...clone(BASE), 'dark-launch': { default: false, lifecycle: 'experimental' } } },
      'pass',
    ],
    ['a reference to an experimental flag that is on', newFile('src/new.ts', ["isEnabled('hot-path')"]), /adds a new file under src\/\*\*/, 'src/new.ts'],
    ['a reference to a supported flag', newFile('src/new.ts', ["isEnabled('stable-api')"]), /adds a new file/, 'src/new.ts'],
    [
      'a reference outside feature_paths only',
      { labels: ['feature'], files: [changed('docs/usage.md', 1, 0), changed('src/app.ts', 1, 0)], diff: [added('docs/usage.md', ["isEnabled('new-scheduler')"]), added('src/app.ts', ['run();'])] },
      /has the feature label/,
    ],
    ['a reference in a context line does not count', { labels: ['feature'], files: [changed('src/app.ts', 1, 0)], diff: [hunks('src/app.ts', [" isEnabled('new-scheduler')", '+run();'])] }, /has the feature label/],
    ['a new file outside feature_paths needs no reference', newFile('docs/new.md', ['# Notes']), 'pass'],
    ['a modified file under src/ without the label needs no reference', { files: [changed('src/app.ts', 1, 0)], diff: [added('src/app.ts', ['run();'])] }, 'pass'],
    ['a removed file under src/ needs no reference', { files: [changed('src/old.ts', 0, 1, { status: 'removed' })], diff: [hunks('src/old.ts', ['-gone();'])] }, 'pass'],
    ['a renamed file under src/ needs no reference', { files: [changed('src/b.ts', 0, 0, { status: 'renamed', previousPath: 'src/a.ts' })], diff: [] }, 'pass'],
    ['with feature_paths lib/**, a new file under src/ needs no reference', { ...newFile('src/new.ts', ['x']), policy: policy('flags:\n  feature_paths: ["lib/**"]\n') }, 'pass'],
    ['with feature_paths lib/**, a new file under lib/ does', { ...newFile('lib/new.ts', ['x']), policy: policy('flags:\n  feature_paths: ["lib/**"]\n') }, /adds a new file under lib\/\*\* \(lib\/new.ts\)/, 'lib/new.ts'],
    ['without feature_label configured, the label means nothing', { labels: ['feature'], files: [changed('src/app.ts', 1, 0)], diff: [added('src/app.ts', ['run();'])], policy: policy('flags: {}\n') }, 'pass'],
  ];

  // Every row has all four values: jest would take a missing one for a `done` callback.
  it.each(cases.map(([name, opts, expected, path]) => [name, opts, expected, path ?? null] as const))('%s', (_name, opts, expected, path) => {
    const result = run({
      head: opts.head ? reg(opts.head) : undefined,
      labels: opts.labels,
      files: opts.files,
      diff: opts.diff,
      policy: opts.policy,
    });
    if (expected === 'pass') {
      expect(result.outcome).toBe('pass');
      expect(result.details).toEqual([]);
      return;
    }
    expect(result.outcome).toBe('fail');
    expect(result.reason).toBe('1 flag violation');
    expect(result.details).toHaveLength(1);
    expect(result.details[0].message).toMatch(expected);
    expect(result.details[0].path).toBe(path ?? undefined);
  });

  it('lists several new files', () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => changed(`src/${n}.ts`, 1, 0, { status: 'added' }));
    const result = run({ files, diff: files.map((f) => added(f.path, ['x'])) });
    expect(result.details[0].message).toMatch(/adds 4 new files under src\/\*\* \(src\/a.ts, src\/b.ts, src\/c.ts, …\)/);
    expect(result.details[0].path).toBe('src/a.ts');
  });
});

describe('flagsRule: rules 5 and 6, references in added lines', () => {
  it('a reference to an unknown flag names the file and line (any file, not only feature paths)', () => {
    const diff = [hunks('test/app.test.ts', ['@@ 5 5', ' ok();', "+expect(isEnabled('no-such-flag')).toBe(false);"])];
    const result = run({ files: [changed('test/app.test.ts', 1, 0)], diff });
    expect(result.outcome).toBe('fail');
    expect(result.reason).toBe('1 flag violation');
    expect(result.details).toEqual([{ message: 'flag "no-such-flag" is not in the registry flags.yml', path: 'test/app.test.ts', line: 6 }]);
  });

  it('a reference to a deprecated flag names the file and line', () => {
    const diff = [added('src/cache.ts', ['const a = 1;', 'if (isEnabled("old-cache")) warm();'], 10)];
    const result = run({ files: [changed('src/cache.ts', 2, 0)], diff });
    expect(result.details).toEqual([{ message: 'flag "old-cache" is deprecated: new code may not use it', path: 'src/cache.ts', line: 11 }]);
  });

  it('counts each violation: unknown and deprecated on one line, a repeat on that line once', () => {
    const diff = [added('lib/x.ts', ["isEnabled('nope') && isEnabled('old-cache') && isEnabled('nope')", "isEnabled('nope')"])];
    const result = run({ files: [changed('lib/x.ts', 2, 0)], diff });
    expect(result.reason).toBe('3 flag violations');
    expect(result.details.map((d) => [d.message.split(' ')[1], d.line])).toEqual([
      ['"nope"', 1],
      ['"old-cache"', 1],
      ['"nope"', 2],
    ]);
  });

  it.each([
    ['a deleted line', ["-isEnabled('nope')"]],
    ['a context line', [" isEnabled('nope')"]],
  ])('ignores references in %s', (_name, body) => {
    expect(run({ files: [changed('lib/x.ts', 0, 1)], diff: [hunks('lib/x.ts', body)] }).outcome).toBe('pass');
  });

  it('does not scan the registry file itself', () => {
    const p = policy('flags:\n  reference: "(?<flag>[a-z]+-[a-z]+):"\n');
    const head = { ...clone(BASE), 'dark-launch': { lifecycle: 'experimental', description: 'see other-thing: docs' } };
    const lines = ['  dark-launch:', '    lifecycle: "experimental"', '    description: "see other-thing: docs"'];
    const result = run({ policy: p, head: reg(head), diff: [added('flags.yml', lines, 17)] });
    expect(result).toMatchObject({ outcome: 'pass', reason: 'no violations (0 flags referenced)' });
  });

  it('counts distinct referenced flags in the pass reason', () => {
    const diff = [added('src/a.ts', ["isEnabled('new-scheduler')", "isEnabled('stable-api')"]), added('src/b.ts', ["isEnabled('new-scheduler')"])];
    expect(run({ files: [changed('src/a.ts', 2, 0), changed('src/b.ts', 1, 0)], diff }).reason).toBe('no violations (2 flags referenced)');
    expect(run({ files: [changed('src/a.ts', 1, 0)], diff: [added('src/a.ts', ["isEnabled('stable-api')"])] }).reason).toBe('no violations (1 flag referenced)');
  });

  it('uses the configured reference pattern, every match on a line', () => {
    const p = policy('flags:\n  reference: "flag\\\\(:(?<flag>[a-z-]+)\\\\)"\n');
    const diff = [added('src/a.ts', ['flag(:new-scheduler) || flag(:ghost)', "isEnabled('ghost-two')"])];
    const result = run({ policy: p, files: [changed('src/a.ts', 2, 0)], diff });
    expect(result.details).toEqual([{ message: 'flag "ghost" is not in the registry flags.yml', path: 'src/a.ts', line: 1 }]);
  });

  it('terminates on a pattern that can match the empty string, and ignores empty names', () => {
    const p = policy('flags:\n  reference: "(?<flag>z*)"\n');
    const diff = [added('src/a.ts', ['abc', 'zz'])];
    const result = run({ policy: p, files: [changed('src/a.ts', 2, 0)], diff });
    expect(result.details).toEqual([{ message: 'flag "zz" is not in the registry flags.yml', path: 'src/a.ts', line: 2 }]);
  });

  it('ignores matches where the flag group did not take part', () => {
    const p = policy('flags:\n  reference: "isEnabled\\\\(\'(?<flag>[a-z-]+)\'\\\\)|legacyFlag\\\\(\\\\)"\n');
    const diff = [added('src/a.ts', ['legacyFlag()'])];
    expect(run({ policy: p, files: [changed('src/a.ts', 1, 0)], diff }).outcome).toBe('pass');
  });
});

describe('flagsRule: missing registries', () => {
  it('no registry at the base or the head and no references → pass', () => {
    const result = run({ base: null, head: null, files: [changed('src/a.ts', 1, 0)], diff: [added('src/a.ts', ['x'])] });
    expect(result).toMatchObject({ rule: 'flags', outcome: 'pass', reason: 'no violations (0 flags referenced)' });
  });

  it('no registry anywhere does not excuse a feature from landing dark (rule 4)', () => {
    const result = run({ base: null, head: null, labels: ['feature'], files: [changed('src/new.ts', 1, 0, { status: 'added' })], diff: [added('src/new.ts', ['x'])] });
    expect(result.outcome).toBe('fail');
    expect(result.details.map((d) => d.message).join('\n')).toMatch(/feature label but adds no reference/);
  });

  it('no registry anywhere but a reference → the flag is unknown', () => {
    const result = run({ base: null, head: null, files: [changed('lib/a.ts', 1, 0)], diff: [added('lib/a.ts', ["isEnabled('x-flag')"])] });
    expect(result.outcome).toBe('fail');
    expect(result.details).toEqual([{ message: 'flag "x-flag" is not in the registry flags.yml (there is no registry at the head)', path: 'lib/a.ts', line: 1 }]);
  });

  it('a registry deleted by the pull request → its supported flags are removed', () => {
    const result = run({ head: null, files: [changed('flags.yml', 0, 14, { status: 'removed' })] });
    expect(result.reason).toBe('1 flag violation');
    expect(result.details[0].message).toMatch(/supported flag "stable-api" was removed/);
  });

  it.each<[string, Flags, string]>([
    ['a new registry with an experimental, off flag → pass', { a1: { lifecycle: 'experimental', default: false } }, 'pass'],
    ['a new registry with a supported flag → fail', { a1: { lifecycle: 'supported', default: false } }, 'fail'],
  ])('%s', (_name, head, outcome) => {
    expect(run({ base: null, head: reg(head) }).outcome).toBe(outcome);
  });

  it.each([
    ['an empty file', ''],
    ['only a comment', '# no flags yet\n'],
    ['flags: with nothing under it', 'flags:\n'],
    ['flags: {}', 'flags: {}\n'],
    ['other top-level keys only', 'version: 1\n'],
  ])('a registry that is %s is empty', (_name, text) => {
    const parsed = parseRegistry(text);
    expect(parsed.ok && parsed.registry.flags.size).toBe(0);
    expect(run({ base: text, head: text, files: [changed('lib/a.ts', 1, 0)], diff: [added('lib/a.ts', ["isEnabled('x-flag')"])] }).reason).toBe('1 flag violation');
  });
});

describe('flagsRule: an invalid registry', () => {
  it.each<[string, string, number, RegExp]>([
    ['a YAML syntax error', 'flags:\n  a1:\n    lifecycle: "experimental\n', 3, /YAML syntax error/],
    ['a duplicate flag', 'flags:\n  a1:\n    lifecycle: experimental\n  a1:\n    lifecycle: supported\n', 4, /YAML syntax error: .*unique/i],
    ['a list at the top', '- a1\n', 1, /expected a mapping with a top-level `flags:` key/],
    ['flags as a list', 'flags:\n  - a1\n', 2, /flags: expected a mapping of flag name/],
    ['a flag that is not a mapping', 'flags:\n  a1: true\n', 2, /flags.a1: expected a mapping with at least `lifecycle`/],
    ['a flag without lifecycle', 'flags:\n  a1:\n    default: false\n', 2, /flags.a1: missing lifecycle/],
    ['an unknown lifecycle', 'flags:\n  a1:\n    lifecycle: beta\n', 3, /flags.a1.lifecycle: expected one of experimental, supported, deprecated, got "beta"/],
    ['a typo in a key', 'flags:\n  a1:\n    lifecycle: experimental\n    defualt: true\n', 4, /flags.a1: unknown key "defualt"; did you mean "default"\?/],
    ['a list as default', 'flags:\n  a1:\n    lifecycle: experimental\n    default: [1]\n', 4, /flags.a1.default: expected a single value, got a list/],
  ])('at the head fails naming flags.yml:line: %s', (_name, text, line, message) => {
    const result = run({ head: text });
    expect(result.outcome).toBe('fail');
    expect(result.reason.startsWith(`invalid flag registry flags.yml:${line}: `)).toBe(true);
    expect(result.details[0]).toMatchObject({ path: 'flags.yml', line, message: expect.stringMatching(message) });
    expect(result.details[0].message.startsWith(`flags.yml:${line}:`)).toBe(true);
  });

  it('reports every error at once', () => {
    const result = run({ head: 'flags:\n  a1:\n    lifecycle: beta\n  b2:\n    lifecycle: gamma\n' });
    expect(result.details.map((d) => d.line)).toEqual([3, 5]);
    expect(result.reason).toMatch(/\(and 1 more\)$/);
  });

  it('14,000 invalid flags (0.5 MB): the first 50 errors, then how many more', () => {
    const text = `flags:\n${Array.from({ length: 14_000 }, (_, i) => `  flag-${i}: { lifecycle: beta }\n`).join('')}`;
    const result = run({ head: text });
    expect(result.reason).toBe('invalid flag registry flags.yml:2: flags.flag-0.lifecycle: expected one of experimental, supported, deprecated, got "beta" (and 13999 more)');
    expect(result.details).toHaveLength(51);
    expect(result.details[50]).toEqual({ message: 'and 13950 more errors (only the first 50 are listed)' });
  });

  it('refuses a registry over the size limit, naming the limit', () => {
    const result = run({ head: `# ${'x'.repeat(REGISTRY_MAX_BYTES)}\n` });
    expect(result.reason).toBe(`invalid flag registry flags.yml:1: the flag registry file is ${REGISTRY_MAX_BYTES + 3} bytes; merge-gate reads flag registry files of at most ${REGISTRY_MAX_BYTES} bytes (512 KiB)`);
  });

  it('at the base: rules 1–3 are skipped with a note, rules 4–6 still apply', () => {
    const head = { ...clone(BASE), 'dark-launch': { lifecycle: 'supported', default: true } };
    const ok = run({ base: 'flags: [', head: reg(head) });
    expect(ok.outcome).toBe('pass');
    expect(ok.details).toHaveLength(1);
    expect(ok.details[0].message).toMatch(/^the registry at the base could not be read \(flags.yml:1: YAML syntax error/);
    const bad = run({ base: 'flags: [', head: reg(head), files: [changed('src/a.ts', 1, 0)], diff: [added('src/a.ts', ["isEnabled('old-cache')"])] });
    expect(bad.reason).toBe('1 flag violation');
    expect(bad.details).toHaveLength(2);
  });

  it('reads aliases and quoted names', () => {
    const text = 'flags:\n  "a.b-c":\n    lifecycle: &exp experimental\n    default: off\n  d_e:\n    lifecycle: *exp\n';
    const parsed = parseRegistry(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.registry.flags.values()].map((f) => [f.name, f.lifecycle, f.default, f.line])).toEqual([
      ['a.b-c', 'experimental', 'off', 2],
      ['d_e', 'experimental', null, 5],
    ]);
  });
});

describe('flagsRule: a large diff', () => {
  // Its speed is measured in bench/gate.ts, not asserted here.
  it('scans 100,000 added lines and finds the one flag they reference', () => {
    const files: ChangedFile[] = [];
    const diff: FileDiff[] = [];
    for (let f = 0; f < 100; f++) {
      const lines = Array.from({ length: 1000 }, (_, i) => (i % 50 === 0 ? `  if (isEnabled('new-scheduler')) { step${i}(); }` : `  const value${i} = compute(${i}, "text that is not a flag");`));
      diff.push(added(`src/mod${f}.ts`, lines));
      files.push(changed(`src/mod${f}.ts`, 1000, 0, { status: 'added' }));
    }
    expect(diff.reduce((n, d) => n + d.lines.length, 0)).toBe(100_000);
    expect(run({ files, diff }).reason).toBe('no violations (1 flag referenced)');
  });
});

describe('flags.reference runs in linear time, whatever the pattern (RE2)', () => {
  // Each of these took from 30 s to forever on a backtracking engine; no time is asserted here (bench/hostile-input.ts measures).
  const scan = (reference: string, lines: string[]) => {
    const p = policy(`flags:\n  reference: ${JSON.stringify(reference)}\n`);
    const diff = [added('src/x.ts', lines)];
    return run({ policy: p, files: [changed('src/x.ts', lines.length, 0)], diff, base: reg(BASE), head: reg(BASE) }).details.map((d) => d.message);
  };

  it('(?<flag>(a|a)*)$ on a 29-character line', () => {
    expect(scan('(?<flag>(a|a)*)$', [`${'a'.repeat(28)}!`, 'x aaa'])).toEqual(['flag "aaa" is not in the registry flags.yml']);
  });

  it('(?<flag>\\w*\\w*\\w*\\w*\\w*)! on a 300-character line', () => {
    expect(scan('(?<flag>\\w*\\w*\\w*\\w*\\w*)!', ['a'.repeat(300), 'hot_path!'])).toEqual(['flag "hot_path" is not in the registry flags.yml']);
  });

  it('(?<flag>[a-z_]+)\\s*\\.enabled on a 60,000-character minified line', () => {
    const minified = `${'a'.repeat(60_000)} ${'b_c '.repeat(100)}new_scheduler .enabled`;
    expect(scan('(?<flag>[a-z_]+)\\s*\\.enabled', [minified])).toEqual(['flag "new_scheduler" is not in the registry flags.yml']);
  });

  it('accepts RE2 syntax: (?P<flag>…), Unicode classes, inline flags', () => {
    expect(scan("(?i)ISENABLED\\('(?P<flag>[\\p{L}0-9-]+)'\\)", ["isEnabled('old-cache')", "IsEnabled('drapeau-été')"])).toEqual([
      'flag "old-cache" is deprecated: new code may not use it',
      'flag "drapeau-été" is not in the registry flags.yml',
    ]);
  });
});
