import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledSource } from './compiled.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A repository of one module that prints `text`, with this one's compiler. */
function repo(): { root: string; write(file: string, text: string): void; run(): string } {
  const root = mkdtempSync(join(tmpdir(), 'merge-gate-compiled-'));
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  mkdirSync(join(root, 'test/helpers'), { recursive: true });
  writeFileSync(join(root, 'test/helpers/app-process.ts'), "import { extra } from '../../src/cli/extra.js';\nconsole.log(extra);");
  mkdirSync(join(root, 'policies'));
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules/typescript'), join(root, 'node_modules/typescript'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}');
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] } }));
  writeFileSync(join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'lib' }, include: ['src'] }));
  return {
    root,
    write(file, text) {
      writeFileSync(join(root, 'src', file), text);
    },
    run() {
      const out = compiledSource(root);
      const run = spawnSync(process.execPath, [join(out, 'src/cli/index.js')], { encoding: 'utf8' });
      return run.stdout + run.stderr;
    },
  };
}

const made: string[] = [];
afterAll(() => made.forEach((root) => rmSync(root, { recursive: true, force: true })));

describe("the compiled source the tests' child processes run", () => {
  // Five builds of a one-line program: tsc starts in about 2 s of CPU each.
  it('is rebuilt when a source file changes or is deleted, and only then; fails with what to do while it does not compile', () => {
    const r = repo();
    made.push(r.root);
    r.write('cli/index.ts', "console.log('one');");
    r.write('cli/extra.ts', 'export const extra = 1;');
    expect(r.run()).toBe('one\n');
    expect(existsSync(join(r.root, '.test-lib/src/cli/extra.js'))).toBe(true);
    expect(spawnSync(process.execPath, [join(r.root, '.test-lib/test/helpers/app-process.js')], { encoding: 'utf8' }).stdout).toBe('1\n');

    // Unchanged: the same build (a file put beside it survives).
    writeFileSync(join(r.root, '.test-lib/marker'), '');
    expect(r.run()).toBe('one\n');
    expect(existsSync(join(r.root, '.test-lib/marker'))).toBe(true);

    // The same size and an older modification time (as a checkout can leave it): still a change.
    r.write('cli/index.ts', "console.log('two');");
    utimesSync(join(r.root, 'src/cli/index.ts'), new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));
    expect(r.run()).toBe('two\n');
    expect(existsSync(join(r.root, '.test-lib/marker'))).toBe(false);

    unlinkSync(join(r.root, 'src/cli/extra.ts'));
    writeFileSync(join(r.root, 'test/helpers/app-process.ts'), 'console.log(2);');
    expect(r.run()).toBe('two\n');
    expect(existsSync(join(r.root, '.test-lib/src/cli/extra.js'))).toBe(false);
    expect(spawnSync(process.execPath, [join(r.root, '.test-lib/test/helpers/app-process.js')], { encoding: 'utf8' }).stdout).toBe('2\n');

    r.write('cli/index.ts', "console.log('three'");
    expect(() => r.run()).toThrow(/compiling src\/ for the tests' child processes failed \(tsc exit 2\); fix the source or run npm run build/);
    r.write('cli/index.ts', "console.log('three');");
    expect(r.run()).toBe('three\n');
  }, 120_000);
});
