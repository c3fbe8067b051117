// `merge-gate test` as a maintainer's CI runs it: the real CLI in a child
// process, a policy and its test cases in a temp folder.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const POLICY = `version: 1
preset: none
reviews:
  required: 2
  fresh: true
size:
  max_lines: 500
freeze:
  timezone: Europe/London
  windows:
    - name: weekend
      weekly: { from: "fri 16:00", to: "mon 08:00" }
flags:
  registry: flags.yml
checks:
  required: [ci/test]
trunk:
  environment: production
`;

const PASSING = `cases:
  - name: a small reviewed change passes
    at: 2026-12-02T10:00:00Z
    files: { src/app.ts: "+10 -2" }
    approvals: [alice, bob]
    checks: { ci/test: success }
    expect: pass
    rules: { size: pass, reviews: pass, freeze: pass, trunk: pass }
  - name: Friday evening waits for the weekend to end
    at: 2026-12-04T17:00:00Z
    files: { src/app.ts: 3 }
    approvals: [alice, bob]
    checks: { ci/test: success }
    expect: wait
    rules: { freeze: wait }
  - name: a bad deployment holds landings
    at: 2026-12-02T10:00:00Z
    files: { src/app.ts: 3 }
    approvals: [alice, bob]
    checks: { ci/test: success }
    deployment: failure
    expect: wait
    rules: { trunk: wait }
  - name: a flag used in the diff must be in the registry
    at: 2026-12-02T10:00:00Z
    diff: change.diff
    registry: { base: "flags: {}\\n", head: "flags: {}\\n" }
    approvals: [alice, bob]
    checks: { ci/test: success }
    expect: fail
    rules: { flags: fail, size: pass }
`;

const DIFF = `diff --git a/src/app.ts b/src/app.ts
--- a/src/app.ts
+++ b/src/app.ts
@@ -1,1 +1,2 @@
 const a = 1;
+if (isEnabled('ghost-flag')) run();
`;

// Two cases that do not hold: one overall, one for a rule.
const FAILING = `cases:
  - name: one approval is enough (it is not)
    at: 2026-12-02T10:00:00Z
    files: { src/app.ts: 3 }
    approvals: [alice]
    checks: { ci/test: success }
    expect: pass
  - name: a big change passes size (it does not)
    at: 2026-12-02T10:00:00Z
    files: { src/app.ts: "+600 -1" }
    approvals: [alice, bob]
    checks: { ci/test: success }
    expect: fail
    rules: { size: pass }
  - name: holds
    at: 2026-12-02T10:00:00Z
    files: { src/app.ts: 1 }
    approvals: [alice, bob]
    checks: { ci/test: pending }
    expect: wait
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-policy-test-'));
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/merge-gate.yml'), POLICY);
  writeFileSync(join(dir, '.github/merge-gate.test.yml'), PASSING);
  writeFileSync(join(dir, '.github/change.diff'), DIFF);
  writeFileSync(join(dir, 'failing.yml'), FAILING);
  writeFileSync(join(dir, 'invalid.yml'), 'cases:\n  - name: x\n    at: nope\n    files: { a: "ten" }\n    expect: maybe\n    rules: { sise: fail }\n');
  writeFileSync(join(dir, 'bad-policy.yml'), 'policy: broken.yml\ncases:\n  - { name: x, at: 2026-12-02T10:00:00Z, expect: pass }\n');
  writeFileSync(join(dir, 'broken.yml'), 'version: 1\nsize:\n  max_lines: lots\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('merge-gate test', () => {
  test('every case holds: exit 0, one line per case (default file, the repository policy)', () => {
    const run = runCli(['test'], dir);
    expect(run.stdout).toBe(
      [
        '.github/merge-gate.test.yml (policy .github/merge-gate.yml)',
        '  ✓ a small reviewed change passes',
        '  ✓ Friday evening waits for the weekend to end',
        '  ✓ a bad deployment holds landings',
        '  ✓ a flag used in the diff must be in the registry',
        '',
        '✓ 4 passed',
        '',
      ].join('\n'),
    );
    expect(run.code).toBe(0);
  });

  test('cases that do not hold: exit 1, the differences per rule and the case line', () => {
    const run = runCli(['test', 'failing.yml', '.github/merge-gate.test.yml'], dir);
    expect(run.stdout).toContain('  ✗ one approval is enough (it is not) (failing.yml:2)\n      expected pass, got fail (reviews: 1 / 2 approvals)');
    expect(run.stdout).toContain('  ✗ a big change passes size (it does not) (failing.yml:8)\n      size: expected pass, got fail (601 / 500 lines)');
    expect(run.stdout).toContain('  ✓ holds');
    expect(run.stdout).toContain('\n✓ 5 passed, ✗ 2 failed\n');
    expect(run.code).toBe(1);
  });

  test('an invalid test file or policy: exit 2, every error with its line and column', () => {
    const run = runCli(['test', 'invalid.yml'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid.yml:3:9 cases[0].at: expected an ISO 8601 instant');
    expect(run.stderr).toContain('invalid.yml:4:17 cases[0].files.a: expected line counts');
    expect(run.stderr).toContain('invalid.yml:5:13 cases[0].expect: expected one of pass, fail, wait, skip, got "maybe"');
    expect(run.stderr).toMatch(/invalid\.yml:6:\d+ cases\[0\]\.rules/);
    const policy = runCli(['test', 'bad-policy.yml'], dir);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('broken.yml:3:14 size.max_lines: expected a positive integer');
    expect(runCli(['test', '--verbose'], dir).code).toBe(2);
    const missing = runCli(['test', 'nope.yml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read nope.yml: no such file');
  });
});
