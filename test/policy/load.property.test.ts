// The loader never throws: random YAML text and random policy-shaped objects
// always give a policy or a list of errors, never an internal error.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadPolicyObject, loadPolicyText, type LoadResult } from '../../src/policy/load.js';

function wellFormed(result: LoadResult): boolean {
  if (result.ok) return typeof result.policy === 'object';
  return (
    result.errors.length > 0 &&
    result.errors.every((e) => e.line >= 1 && e.column >= 1 && e.message.length > 0 && !e.message.startsWith('internal error'))
  );
}

const KEYS = ['version', 'preset', 'branches', 'reviews', 'size', 'freeze', 'flags', 'checks', 'land', 'required', 'scale', 'over_lines', 'fresh', 'max_lines', 'max_files', 'exclude', 'mechanical', 'label', 'timezone', 'windows', 'name', 'from', 'to', 'weekly', 'exception', 'registry', 'reference', 'feature_paths', 'mode', 'method', 'revews', '__proto__', 'constructor'];
const leaf = fc.oneof(
  fc.integer({ min: -5, max: 1000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.constantFrom('main', 'stable/*', '[abc', 'Europe/London', 'Mars/Base', 'fri 16:00', 'mon 25:00', '2026-12-18 00:00', '2026-02-30 10:00', '(?<flag>x)', '((', 'squash', 'auto', 'default', 'relaxed', 'none', 'nope'),
);
const policyShaped = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
})).object;

describe('the loader never throws', () => {
  it('on random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => wellFormed(loadPolicyText(text))), { numRuns: 500 });
  });

  it('on random YAML documents', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => wellFormed(loadPolicyText(stringify(value)))), { numRuns: 500 });
  });

  it('on random policy-shaped objects, as text and as parsed objects', () => {
    fc.assert(
      fc.property(policyShaped, (value) => wellFormed(loadPolicyText(stringify(value))) && wellFormed(loadPolicyObject(value))),
      { numRuns: 1000 },
    );
  });

  it('the generator reaches both outcomes', () => {
    // fc.sample reports no seed of its own: draw one (or take the run's FC_SEED) and name it on failure.
    const seed = fc.readConfigureGlobal().seed ?? Math.floor(Math.random() * 2 ** 31);
    const outcomes = new Set(fc.sample(policyShaped, { numRuns: 300, seed }).map((v) => loadPolicyObject(v).ok));
    expect({ seed, outcomes: [...outcomes].sort() }).toEqual({ seed, outcomes: [false, true] });
  });
});
