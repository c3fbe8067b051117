import { describe, expect, it } from '@jest/globals';
import { errorCount, formatPolicyError, loadPolicyObject, loadPolicyText, mergeUnder, POLICY_MAX_BYTES, type PolicyError } from '../../src/policy/load.js';
import { listPresets } from '../../src/policy/presets.js';

function errorsOf(yaml: string): PolicyError[] {
  const result = loadPolicyText(yaml);
  if (result.ok) throw new Error(`expected errors, got a valid policy for:\n${yaml}`);
  return result.errors;
}

/** Each error as `LINE:COLUMN path: message`, the file name left out. */
function lines(yaml: string): string[] {
  return errorsOf(yaml).map((e) => formatPolicyError(e).replace(/^\.github\/merge-gate\.yml:/, ''));
}

describe('policy errors name the key path, line and column', () => {
  it.each([
    ['YAML syntax error (at the end: the last line)', 'reviews:\n  required: [1, 2\n', /^2:1 YAML syntax error: /],
    ['duplicate key', 'reviews:\n  required: 1\n  required: 2\n', /^3:3 YAML syntax error: Map keys must be unique/],
    ['a non-mapping document', '- 1\n- 2\n', /^1:1 expected a mapping of policy keys at the top level, got a list$/],
    ['unknown top-level key with a near miss', 'version: 1\nrevews:\n  required: 2\n', /^2:1 revews: unknown key; did you mean "reviews"\?/],
    ['unknown nested key with a near miss', 'size:\n  max_line: 3\n', /^2:3 size\.max_line: unknown key; did you mean "max_lines"\?/],
    ['unknown key far from any', 'size:\n  colour: blue\n', /^2:3 size\.colour: unknown key in size \(allowed: max_lines, max_files, exclude, linguist_generated, mechanical\)$/],
    ['wrong type (string for an integer)', 'version: 1\nsize:\n  max_lines: five hundred\n', /^3:14 size\.max_lines: expected a positive integer, got "five hundred"$/],
    ['out of range (zero lines)', 'size:\n  max_lines: 0\n', /^2:14 size\.max_lines: expected a positive integer, got 0$/],
    ['out of range (negative approvals)', 'reviews:\n  required: -1\n', /^2:13 reviews\.required: expected a whole number ≥ 0, got -1$/],
    ['fraction', 'reviews:\n  required: 1.5\n', /^2:13 reviews\.required: expected a whole number ≥ 0, got 1\.5$/],
    ['wrong type (boolean)', 'reviews:\n  fresh: "yes"\n', /^2:10 reviews\.fresh: expected true or false, got "yes"$/],
    ['wrong type (mapping expected)', 'reviews: 5\n', /^1:10 reviews: expected a mapping, got 5$/],
    ['wrong type (list expected)', 'size:\n  exclude: vendor/**\n', /^2:12 size\.exclude: expected a list of globs, got "vendor\/\*\*"$/],
    ['bad enum', 'land:\n  method: fast-forward\n', /^2:11 land\.method: expected one of merge, squash, rebase, got "fast-forward"$/],
    ['unsupported version', 'version: 2\n', /^1:10 version: unsupported version 2; this merge-gate reads version 1$/],
    ['unknown IANA time zone', 'freeze:\n  timezone: Europe/Londn\n', /^2:13 freeze\.timezone: unknown IANA time zone "Europe\/Londn"/],
    ['unparseable one-off time', 'freeze:\n  windows:\n    - name: x\n      from: "18/12/2026"\n      to: "2027-01-04 09:00"\n', /^4:13 freeze\.windows\[0\]\.from: expected a date and time "YYYY-MM-DD HH:MM", got "18\/12\/2026"$/],
    ['impossible date', 'freeze:\n  windows:\n    - name: x\n      from: "2026-02-30 10:00"\n      to: "2027-01-04 09:00"\n', /^4:13 freeze\.windows\[0\]\.from: not a real date and time: "2026-02-30 10:00"$/],
    ['unparseable weekly span', 'freeze:\n  windows:\n    - name: weekend\n      weekly: { from: "fry 16:00", to: "mon 08:00" }\n', /^4:23 freeze\.windows\[0\]\.weekly\.from: expected a weekday and time like "fri 16:00", got "fry 16:00"$/],
    ['weekly time out of range', 'freeze:\n  windows:\n    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 25:00" }\n', /^4:40 freeze\.windows\[0\]\.weekly\.to: expected a weekday and time like "fri 16:00", got "mon 25:00"$/],
    ['one-off window whose to is not after from', 'freeze:\n  windows:\n    - name: x\n      from: "2026-12-18 00:00"\n      to: "2026-12-18 00:00"\n', /^5:11 freeze\.windows\[0\]\.to: must be after from \(2026-12-18 00:00\)$/],
    ['weekly span that is empty', 'freeze:\n  windows:\n    - name: w\n      weekly:\n        from: "fri 16:00"\n        to: "Friday 16:00"\n', /^6:13 freeze\.windows\[0\]\.weekly\.to: must differ from weekly\.from/],
    ['window with neither from/to nor weekly', 'freeze:\n  windows:\n    - name: x\n', /^3:7 freeze\.windows\[0\]: a window needs from and to, or weekly$/],
    ['invalid regular expression', 'flags:\n  reference: "isEnabled\\\\(("\n', /^2:14 flags\.reference: invalid regular expression for RE2, the linear-time engine that runs it \(no lookaround, no backreferences\): missing closing \): `isEnabled\\\(\(`$/],
    ['reference without a named group flag', 'flags:\n  reference: "isEnabled\\\\(([a-z]+)\\\\)"\n', /^2:14 flags\.reference: the regular expression needs a named group `flag`/],
    ['invalid glob (unclosed bracket)', 'size:\n  exclude: ["vendor/[abc"]\n', /^2:13 size\.exclude\[0\]: invalid glob "vendor\/\[abc": unclosed "\["$/],
    ['invalid glob (unbalanced brace)', 'branches: ["stable/{a,b"]\n', /^1:12 branches\[0\]: invalid glob "stable\/\{a,b": unclosed "\{"$/],
    ['invalid glob (leading slash)', 'flags:\n  feature_paths: ["/src/**"]\n', /^2:19 flags\.feature_paths\[0\]: invalid glob "\/src\/\*\*": paths are relative/],
    ['empty branches list', 'branches: []\n', /^1:11 branches: an empty list gates no branch; remove the key to gate every branch$/],
    ['empty weekly span across the week\'s end', 'freeze:\n  windows:\n    - name: w\n      weekly: { from: "sun 24:00", to: "mon 00:00" }\n', /^4:40 freeze\.windows\[0\]\.weekly\.to: must differ from weekly\.from/],
    ['reference with a lookahead (RE2 cannot run it in linear time)', 'flags:\n  reference: "(?<flag>[a-z]+)(?=\\\\.enabled)"\n', /^2:14 flags\.reference: invalid regular expression for RE2, .*: invalid or unsupported Perl syntax: `\(\?=`$/],
    ['reference with a backreference', 'flags:\n  reference: "(?<flag>[a-z]+)\\\\1"\n', /^2:14 flags\.reference: invalid regular expression for RE2, .*: invalid escape sequence: `\\1`$/],
    ['a __proto__ key', 'reviews:\n  __proto__: { required: 0 }\n', /^2:3 reviews\.__proto__: unknown key in reviews/],
    ['a recursive alias', 'reviews: &r\n  scale: [*r]\n', /^1:1 YAML error: an alias refers to a node that contains it/],
    ['owners group with neither paths nor codeowners', 'reviews:\n  owners:\n    - name: db\n      required: 1\n', /^3:7 reviews\.owners\[0\]: a group needs paths \(with from\) or codeowners: true$/],
    ['owners group with both paths and codeowners', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      codeowners: true\n      from: [carol]\n', /^5:19 reviews\.owners\[0\]\.codeowners: a group is either paths \(with from\) or codeowners: true, not both$/],
    ['owners team without its organisation', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      from: ["@dba"]\n', /^5:14 reviews\.owners\[0\]\.from\[0\]: expected a team as @org\/team \(a user without "@"\), got "@dba"$/],
    ['owners user that is no login', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      from: ["carol smith"]\n', /^5:14 reviews\.owners\[0\]\.from\[0\]: expected a GitHub login or a team @org\/team, got "carol smith"$/],
    ['owners path group with an empty from', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      from: []\n', /^5:13 reviews\.owners\[0\]\.from: a path group needs from/],
    ['owners path group without from', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n', /^3:7 reviews\.owners\[0\]: a path group needs from/],
    ['owners codeowners group with from', 'reviews:\n  owners:\n    - name: co\n      codeowners: true\n      from: [carol]\n', /^5:13 reviews\.owners\[0\]\.from: a codeowners group takes its owners from CODEOWNERS; remove from$/],
    ['owners required below 1', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      from: [carol]\n      required: 0\n', /^6:17 reviews\.owners\[0\]\.required: expected a positive integer, got 0$/],
    ['owners with a bad glob', 'reviews:\n  owners:\n    - name: db\n      paths: ["/db/**"]\n      from: [carol]\n', /^4:15 reviews\.owners\[0\]\.paths\[0\]: invalid glob "\/db\/\*\*": paths are relative/],
    ['two owners groups with one name', 'reviews:\n  owners:\n    - name: db\n      paths: ["db/**"]\n      from: [carol]\n    - name: db\n      codeowners: true\n', /^6:13 reviews\.owners\[1\]\.name: a second group named "db"/],
    ['reviews.request not a boolean', 'reviews:\n  request: owners\n', /^2:12 reviews\.request: expected true or false, got "owners"$/],
    ['unknown preset', 'preset: relaxd\n', /^1:9 preset: unknown preset "relaxd"; did you mean "relaxed"\? \(available: default, relaxed, none\)$/],
  ])('%s', (_name, yaml, expected) => {
    const found = lines(yaml);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  it('reports every error at once, in file order', () => {
    const yaml = [
      'version: 1', //               1
      'reviews:', //                 2
      '  required: two', //          3
      'size:', //                    4
      '  max_lines: 500', //         5
      '  exclud: ["vendor/**"]', //  6
      'freeze:', //                  7
      '  timezone: Mars/Olympus', // 8
    ].join('\n');
    const found = errorsOf(yaml);
    expect(found.map((e) => [e.line, e.column, e.path])).toEqual([
      [3, 13, 'reviews.required'],
      [6, 3, 'size.exclud'],
      [8, 13, 'freeze.timezone'],
    ]);
    expect(found[1].message).toContain('did you mean "exclude"');
  });

  it.each([
    ['\t\t:', /^1:1 YAML syntax error: Tabs are not allowed as indentation$/],
    ['{{{', /^1:4 YAML syntax error: Flow map in block collection must be sufficiently indented and end with a \}$/],
    ['!!binary x', /^1:10 expected a mapping of policy keys at the top level, got a (Buffer|Uint8Array)$/],
    ['*alias', /^1:1 YAML error: Unresolved alias \(the anchor must be set before the alias\): alias$/],
  ])('garbage %j gives an error at its position, not a crash', (text, first) => {
    const result = loadPolicyText(text);
    expect(result.ok ? '' : formatPolicyError(result.errors[0]).replace(/^\.github\/merge-gate\.yml:/, '')).toMatch(first);
  });

  it('accepts weekday names in any case and in full', () => {
    const result = loadPolicyText('freeze:\n  windows:\n    - name: w\n      weekly: { from: "Fri 16:00", to: "MONDAY 08:00" }\n');
    expect(result.ok && result.policy.freeze?.windows[0].weekly).toEqual({ from: 'Fri 16:00', to: 'MONDAY 08:00' });
  });
});

describe('presets', () => {
  it('ships default and relaxed', () => {
    expect(listPresets()).toEqual(expect.arrayContaining(['default', 'relaxed']));
  });

  it('an empty file is the default preset: the seeds\' continuous-deployment policy', () => {
    const result = loadPolicyText('');
    if (!result.ok) throw new Error(result.errors.map(formatPolicyError).join('\n'));
    expect(result.preset).toBe('default');
    const { reviews, size, land } = result.policy;
    expect(reviews).toMatchObject({ required: 2, fresh: true, block_on_changes_requested: true });
    expect(size?.max_lines).toBe(500);
    expect(size?.exclude).toEqual(expect.arrayContaining(['**/package-lock.json', 'vendor/**']));
    expect(land).toMatchObject({ mode: 'auto', method: 'squash' });
  });

  it('relaxed needs one approval and allows 1000 lines', () => {
    const result = loadPolicyText('preset: relaxed\n');
    expect(result.ok && [result.policy.reviews?.required, result.policy.size?.max_lines]).toEqual([1, 1000]);
  });

  it('merges the preset under the file: mappings merge, lists replace', () => {
    const result = loadPolicyText('size:\n  max_lines: 300\n  exclude: ["docs/**"]\n');
    expect(result.ok && result.policy.size).toMatchObject({ max_lines: 300, exclude: ['docs/**'], linguist_generated: true });
    expect(result.ok && result.policy.reviews?.required).toBe(2);
  });

  it('preset: none leaves unconfigured rules unconfigured', () => {
    const result = loadPolicyText('preset: none\nreviews:\n  required: 1\n');
    expect(result.ok && result.policy).toEqual({
      preset: 'none',
      reviews: { required: 1, scale: [], fresh: false, block_on_changes_requested: true, ignore_bots: true, owners: [], request: false },
    });
  });

  it('mergeUnder replaces lists and scalars and keeps the base elsewhere', () => {
    expect(mergeUnder({ a: { b: [1, 2], c: 1 }, d: 1 }, { a: { b: [3] } })).toEqual({ a: { b: [3], c: 1 }, d: 1 });
  });
});

describe('loading an already-parsed policy (Probot context.config)', () => {
  it('points at 1:1 without the text', () => {
    const result = loadPolicyObject({ size: { max_lines: 'x' } });
    expect(!result.ok && formatPolicyError(result.errors[0])).toBe('.github/merge-gate.yml:1:1 size.max_lines: expected a positive integer, got "x"');
  });
});

describe('reading is linear on input a pull request author controls, and bounded', () => {
  it('3,000 unknown keys (what fits in the size limit): the first 50 errors, then how many more (quadratic before: 5,000 took 4 s)', () => {
    const text = `preset: none\n${Array.from({ length: 3_000 }, (_, i) => `unknown_key_${i}: 1\n`).join('')}`;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(POLICY_MAX_BYTES);
    const errors = errorsOf(text);
    expect(errors).toHaveLength(51);
    expect(formatPolicyError(errors[0])).toBe('.github/merge-gate.yml:2:1 unknown_key_0: unknown key at the top level (allowed: version, preset, branches, reviews, size, freeze, flags, checks, land, trunk, _extends)');
    expect(formatPolicyError(errors[50])).toBe('.github/merge-gate.yml: and 2950 more errors (only the first 50 are listed)');
    expect(errorCount(errors)).toBe(3_000);
  });

  it('refuses 1 MB of unknown keys unread: what cannot be a policy costs no parse (the YAML library alone takes over a second)', () => {
    const text = `preset: none\nsize:\n${Array.from({ length: 85_000 }, (_, i) => `  k${i}: 1\n`).join('')}`;
    expect(Buffer.byteLength(text)).toBeLessThan(1024 * 1024); // was read, in seconds, under the old 1 MiB limit
    expect(lines(text)).toEqual([`1:1 the policy file is ${Buffer.byteLength(text)} bytes; merge-gate reads policy files of at most 65536 bytes (64 KiB)`]);
  });

  it('finds duplicate keys at every depth, in one pass', () => {
    expect(lines('a:\n  b: 1\n  c: { x: 1, x: 2 }\n  b: 3\n')).toEqual(['3:14 YAML syntax error: Map keys must be unique', '4:3 YAML syntax error: Map keys must be unique']);
  });

  it('refuses an alias bomb (billion laughs) with one error, without expanding it', () => {
    const levels = Array.from({ length: 10 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(i === 0 ? '*l0' : `*l${i}`).join(', ')}]`);
    const text = `l0: &l0 "lol"\n${levels.join('\n')}\n`;
    const found = lines(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toBe('1:1 YAML error: Excessive alias count indicates a resource exhaustion attack');
  });

  it('reports a policy nested 5,000 deep as a YAML error, never a crash', () => {
    const depth = 5000;
    const text = `reviews: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const found = lines(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^1:\d+ YAML syntax error: /);
  });

  it('refuses a policy over the size limit with an error that names the limit', () => {
    const text = `# ${'x'.repeat(POLICY_MAX_BYTES)}\n`;
    expect(lines(text)).toEqual([`1:1 the policy file is ${POLICY_MAX_BYTES + 3} bytes; merge-gate reads policy files of at most 65536 bytes (64 KiB)`]);
  });
});
