// docs/policy.md's "Testing the policy" example is true: its tests hold against
// its policy, and the output it shows is what the command prints.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Testing the policy'));
/** The first fenced block whose opening line and text start with `opening`. */
const block = (opening: string) => {
  const at = section.indexOf(opening);
  const start = section.indexOf('\n', at) + 1;
  return section.slice(start, section.indexOf('```\n', start));
};
const POLICY = block('```yaml policy\n');
const TESTS = block('```yaml\n# policy:');
const OUTPUT = block('```text\n');

const GHOST_DIFF = `diff --git a/src/app.ts b/src/app.ts
--- a/src/app.ts
+++ b/src/app.ts
@@ -1,1 +1,2 @@
 const a = 1;
+if (isEnabled('ghost-flag')) run();
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'merge-gate-docs-tests-'));
  mkdirSync(join(dir, '.github/fixtures'), { recursive: true });
  writeFileSync(join(dir, '.github/merge-gate.test.yml'), TESTS);
  writeFileSync(join(dir, '.github/fixtures/uses-ghost-flag.diff'), GHOST_DIFF);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the example tests hold against the example policy', () => {
  writeFileSync(join(dir, '.github/merge-gate.yml'), POLICY);
  const run = runCli(['test'], dir);
  expect(run.stdout).toContain('✓ 5 passed\n');
  expect(run.code).toBe(0);
});

test('the output shown is the output printed (reviews.required lowered to 1)', () => {
  writeFileSync(join(dir, '.github/merge-gate.yml'), POLICY.replace('required: 2', 'required: 1'));
  const run = runCli(['test'], dir);
  expect(run.stdout).toBe(OUTPUT);
  expect(run.code).toBe(1);
});
