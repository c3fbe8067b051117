// The published JSON Schema and the loader come from one definition: check that
// they agree on the presets, the documented examples and the invalid fixtures.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { policyJsonSchema } from '../../src/policy/schema.js';
import { formatPolicyError, loadPolicyText } from '../../src/policy/load.js';
import { listPresets, presetText } from '../../src/policy/presets.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(policyJsonSchema());

/** Policy examples in docs/policy.md are fenced as ```yaml policy. */
function documentedExamples(): string[] {
  const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
  return [...doc.matchAll(/```yaml policy\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const INVALID_DIR = new URL('../fixtures/policies/invalid/', import.meta.url);
const invalidFixtures = readdirSync(INVALID_DIR).filter((f) => f.endsWith('.yml'));

describe('JSON Schema', () => {
  it('is a draft 2020-12 schema that forbids unknown keys', () => {
    const schema = policyJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object)).toEqual(['version', 'preset', 'branches', 'reviews', 'size', 'freeze', 'flags', 'checks', 'land', 'trunk', '_extends']);
  });

  it.each(listPresets())('accepts the preset %s, which the loader accepts too', (name) => {
    const text = presetText(name)!;
    expect(validate(parse(text))).toBe(true);
    const loaded = loadPolicyText(text, `policies/${name}.yml`);
    expect(loaded.ok ? [] : loaded.errors.map(formatPolicyError)).toEqual([]);
  });

  it('docs/policy.md has policy examples', () => {
    expect(documentedExamples().length).toBeGreaterThanOrEqual(3);
  });

  it.each(documentedExamples().map((text, i) => [i + 1, text]))('accepts documented example %i, as does the loader', (_i, text) => {
    expect(validate(parse(text as string)) ? [] : validate.errors).toEqual([]);
    const loaded = loadPolicyText(text as string);
    expect(loaded.ok ? [] : loaded.errors.map(formatPolicyError)).toEqual([]);
  });

  it('has invalid fixtures to reject', () => {
    expect(invalidFixtures.length).toBeGreaterThanOrEqual(5);
  });

  it.each(invalidFixtures)('rejects the invalid fixture %s, as does the loader', (file) => {
    const text = readFileSync(new URL(file, INVALID_DIR), 'utf8');
    expect(validate(parse(text))).toBe(false);
    expect(loadPolicyText(text).ok).toBe(false);
  });
});
