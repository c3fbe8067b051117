// `land.queue` in the policy (SPEC §2, §4a): its defaults, its bounds, and the two
// combinations that are errors, each with its key path, line and column.
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { formatPolicyError, loadPolicyText } from '../../src/policy/load.js';
import { listPresets, presetText } from '../../src/policy/presets.js';
import { policyJsonSchema } from '../../src/policy/schema.js';

/** Each error as `LINE:COLUMN path: message`, the file name left out; [] when valid. */
function lines(yaml: string): string[] {
  const r = loadPolicyText(yaml);
  return r.ok ? [] : r.errors.map((e) => formatPolicyError(e).replace(/^\.github\/merge-gate\.yml:/, ''));
}

function queueOf(yaml: string) {
  const r = loadPolicyText(yaml);
  if (!r.ok) throw new Error(r.errors.map(formatPolicyError).join('\n'));
  return r.policy.land?.queue;
}

const REQUIRED = 'checks:\n  required: [ci/test]\n';

describe('land.queue', () => {
  it('fills in the defaults: batch 4, speculative 3, wait 30s, timeout 60m, retries 1, no priority label', () => {
    expect(queueOf(`${REQUIRED}land:\n  queue: {}\n`)).toEqual({ batch: 4, speculative: 3, wait: '30s', timeout: '60m', retries: 1 });
  });

  it('keeps what is written, at the bounds too', () => {
    expect(queueOf(`${REQUIRED}land:\n  method: merge\n  queue: { batch: 100, speculative: 20, wait: 0s, timeout: 24h, retries: 0, priority_label: urgent }\n`)).toEqual({
      batch: 100,
      speculative: 20,
      wait: '0s',
      timeout: '24h',
      retries: 0,
      priority_label: 'urgent',
    });
    expect(queueOf(`${REQUIRED}land:\n  queue: { batch: 1, speculative: 1, wait: 1h, timeout: 1m, retries: 10 }\n`)).toMatchObject({ batch: 1, speculative: 1, wait: '1h', timeout: '1m', retries: 10 });
  });

  it('is absent unless written: no preset turns the queue on', () => {
    for (const name of listPresets()) {
      const r = loadPolicyText(presetText(name)!, `policies/${name}.yml`);
      expect(r.ok && r.policy.land !== undefined && r.policy.land.queue === undefined).toBe(true);
    }
    expect(queueOf(REQUIRED)).toBeUndefined();
  });

  it.each([
    ['batch 0', 'batch: 0', '5:12 land.queue.batch: expected a whole number from 1 to 100, got 0'],
    ['batch 101', 'batch: 101', '5:12 land.queue.batch: expected a whole number from 1 to 100, got 101'],
    ['batch 2.5', 'batch: 2.5', '5:12 land.queue.batch: expected a whole number from 1 to 100, got 2.5'],
    ['speculative 21', 'speculative: 21', '5:18 land.queue.speculative: expected a whole number from 1 to 20, got 21'],
    ['speculative 0', 'speculative: 0', '5:18 land.queue.speculative: expected a whole number from 1 to 20, got 0'],
    ['retries -1', 'retries: -1', '5:14 land.queue.retries: expected a whole number from 0 to 10, got -1'],
    ['retries 11', 'retries: 11', '5:14 land.queue.retries: expected a whole number from 0 to 10, got 11'],
    ['wait over 1h', 'wait: 61m', '5:11 land.queue.wait: expected a duration from 0s to 1h, got "61m"'],
    ['wait not a duration', 'wait: soon', '5:11 land.queue.wait: expected a duration like "30s", "500ms", "5m" or "2h", got "soon"'],
    ['wait a bare number', 'wait: 30', '5:11 land.queue.wait: expected a duration like "30s", "500ms", "5m" or "2h", got 30'],
    ['timeout under 1m', 'timeout: 59s', '5:14 land.queue.timeout: expected a duration from 1m to 24h, got "59s"'],
    ['timeout over 24h', 'timeout: 25h', '5:14 land.queue.timeout: expected a duration from 1m to 24h, got "25h"'],
    ['empty priority label', 'priority_label: ""', '5:21 land.queue.priority_label: must not be empty'],
    ['unknown key with a near miss', 'retires: 2', '5:5 land.queue.retires: unknown key; did you mean "retries"? (allowed: batch, speculative, wait, timeout, retries, priority_label)'],
  ])('refuses %s with its bound, key path, line and column', (_name, line, error) => {
    expect(lines(`${REQUIRED}land:\n  queue:\n    ${line}\n`)).toEqual([error]);
  });

  it('without checks.required is an error at land.queue that says what to add (fail closed like any policy error)', () => {
    const text = ['version: 1', 'land:', '  method: merge', '  queue:', '    batch: 8', ''].join('\n');
    expect(lines(text)).toEqual([
      '4:3 land.queue: needs checks.required: a batch lands only when the required checks succeed on its staging branch; list the CI checks that run on merge-gate/queue/** (e.g. checks: { required: ["ci/test"] })',
    ]);
    // An empty list is no better than none.
    expect(lines(`checks:\n  required: []\nland:\n  queue: {}\n`)).toEqual([expect.stringMatching(/^4:3 land\.queue: needs checks\.required: /)]);
  });

  it('with land.up_to_date: true is an error at land.queue that says what to remove', () => {
    expect(lines(`${REQUIRED}land:\n  up_to_date: true\n  queue:\n    batch: 2\n`)).toEqual([
      '5:3 land.queue: cannot be used with land.up_to_date: true: the queue tests each pull request merged onto the base on a staging branch, so heads need not be brought up to date; remove up_to_date (or set it to false)',
    ]);
    expect(lines(`${REQUIRED}land:\n  up_to_date: false\n  queue: {}\n`)).toEqual([]);
  });

  it('reports both combination errors and the value errors together, in file order', () => {
    expect(lines('land:\n  up_to_date: true\n  queue:\n    batch: 0\n')).toEqual([
      '3:3 land.queue: needs checks.required: a batch lands only when the required checks succeed on its staging branch; list the CI checks that run on merge-gate/queue/** (e.g. checks: { required: ["ci/test"] })',
      '3:3 land.queue: cannot be used with land.up_to_date: true: the queue tests each pull request merged onto the base on a staging branch, so heads need not be brought up to date; remove up_to_date (or set it to false)',
      '4:12 land.queue.batch: expected a whole number from 1 to 100, got 0',
    ]);
  });

  it('the published JSON Schema knows land.queue and its bounds', () => {
    const validate = new Ajv2020({ strict: false }).compile(policyJsonSchema());
    expect(validate(parse(`${REQUIRED}land:\n  queue: { batch: 8, wait: 10s, priority_label: p }\n`))).toBe(true);
    expect(validate(parse(`land:\n  queue: { batch: 101 }\n`))).toBe(false);
    expect(validate(parse(`land:\n  queue: { bach: 2 }\n`))).toBe(false);
    expect(validate(parse(`land:\n  queue: { wait: 30 }\n`))).toBe(false);
    expect(validate(parse(`land:\n  queue: { wait: soon }\n`))).toBe(false); // the pattern the loader's parser follows
    expect(validate(parse(`land:\n  queue: { wait: 1.5m, timeout: " 2h " }\n`))).toBe(true);
    expect(loadPolicyText(`${REQUIRED}land:\n  queue: { wait: 1.5m, timeout: " 2h " }\n`).ok).toBe(true);
  });
});
