import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { runCli } from '../helpers/cli.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'merge-gate-cli-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('merge-gate validate', () => {
  it('prints three lines, each with the right line:column, for a file with three mistakes', () => {
    const file = tempFile('merge-gate.yml', ['version: 1', 'reviews:', '  requird: 2', 'size:', '  max_lines: lots', 'land:', '  method: fast-forward', ''].join('\n'));
    const run = runCli(['validate', file]);
    expect(run.code).toBe(2);
    expect(run.stdout.trim().split('\n')).toEqual([
      `${file}:3:3 reviews.requird: unknown key; did you mean "required"? (allowed: required, scale, fresh, block_on_changes_requested, ignore_bots)`,
      `${file}:5:14 size.max_lines: expected a positive integer, got "lots"`,
      `${file}:7:11 land.method: expected one of merge, squash, rebase, got "fast-forward"`,
    ]);
  });

  it('names land.queue without checks.required, and with up_to_date: true, at the queue key, with what to do', () => {
    const file = tempFile('merge-gate.yml', ['version: 1', 'land:', '  up_to_date: true', '  queue:', '    batch: 8', ''].join('\n'));
    const run = runCli(['validate', file]);
    expect(run.code).toBe(2);
    expect(run.stdout.trim().split('\n')).toEqual([
      `${file}:4:3 land.queue: needs checks.required: a batch lands only when the required checks succeed on its staging branch; list the CI checks that run on merge-gate/queue/** (e.g. checks: { required: ["ci/test"] })`,
      `${file}:4:3 land.queue: cannot be used with land.up_to_date: true: the queue tests each pull request merged onto the base on a staging branch, so heads need not be brought up to date; remove up_to_date (or set it to false)`,
    ]);
  });

  it('exits 0 on a valid file', () => {
    const file = tempFile('ok.yml', 'preset: relaxed\nchecks:\n  required: [ci/test]\n');
    const run = runCli(['validate', file]);
    expect([run.code, run.stdout.trim()]).toEqual([0, `${file}: valid (preset: relaxed)`]);
  });

  it('defaults to .github/merge-gate.yml in the current folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-gate-cli-'));
    const run = runCli(['validate'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read .github/merge-gate.yml: no such file');
  });
});

describe('merge-gate schema, --help and usage errors', () => {
  it('prints a JSON Schema that ajv compiles', () => {
    const run = runCli(['schema']);
    expect(run.code).toBe(0);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(run.stdout));
    expect(validate({ reviews: { required: 2 } })).toBe(true);
    expect(validate({ reviews: { requird: 2 } })).toBe(false);
  });

  it('--help lists every command', () => {
    const run = runCli(['--help']);
    expect(run.code).toBe(0);
    for (const cmd of ['check', 'validate', 'schema', 'deploy-trigger']) expect(run.stdout).toContain(`merge-gate ${cmd}`);
  });

  it.each([
    [[], 'a command is needed'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['validate', 'a.yml', 'b.yml'], 'validate takes at most one file'],
    [['schema', 'x'], 'schema takes no arguments'],
    [['check', '--approvals', 'two'], '--approvals expects a whole number from 0 to 1000, got "two"'],
    [['check', '--now', 'yesterday'], '--now expects an ISO 8601 instant'],
    [['check', '--check', 'ci/test=green'], '--check expects NAME=STATE'],
    [['check', '--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const run = runCli(args as string[]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage:');
  });
});
