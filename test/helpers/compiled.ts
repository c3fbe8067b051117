// The source compiled to JavaScript for the processes tests start: `node .test-lib/cli/index.js` starts in
// about 0.15 s, `node --import tsx src/cli/index.ts` in about 1 s on a busy 2-core machine, and the suite
// starts hundreds of them. Never stale: every use checks that src/ (and the compiler's settings) are
// exactly what the last build was made of, and builds again if not. This file is also jest's globalSetup
// (its default export; it imports nothing but node's modules, as jest loads it without the tests' module
// mapping), so the build happens once before any test file runs; a bench run builds on first use.
//
// The folder sits beside lib/ in the repository so that the compiled modules find ../../policies and
// ../../package.json as lib/'s do, and node_modules above them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, '.test-lib');
const STAMP = join(OUT, '.fingerprint');
/** What the build is made of besides src/: the compiler, its settings, the package's "type". */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'node_modules/typescript/package.json'];

/** Every file and folder under src/ with its size and modification time (a deleted file changes its folder's). */
function fingerprint(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    const s = statSync(join(ROOT, path));
    hash.update(`${path}\0${s.mtimeMs}\0${s.size}\n`);
    if (s.isDirectory()) for (const name of readdirSync(join(ROOT, path)).sort()) add(`${path}/${name}`);
  };
  add('src');
  for (const path of INPUTS) add(path);
  return hash.digest('hex');
}

function build(print: string): void {
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  // --noCheck: emit only, a quarter of the time (the type check is npm run typecheck's, and ts-jest's in the tests).
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp, '--noCheck'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (run.status !== 0 || !existsSync(join(tmp, 'cli/index.js'))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`compiling src/ for the tests' child processes failed (tsc exit ${run.status}):\n${run.stdout}${run.stderr}${run.error ?? ''}`);
  }
  writeFileSync(join(tmp, '.fingerprint'), print);
  rmSync(OUT, { recursive: true, force: true });
  try {
    renameSync(tmp, OUT);
  } catch (err) {
    // Another test process built the same folder at the same moment: theirs will do if it is of this source.
    rmSync(tmp, { recursive: true, force: true });
    if (!isBuilt(print)) throw err;
  }
}

function isBuilt(print: string): boolean {
  try {
    return readFileSync(STAMP, 'utf8') === print;
  } catch {
    return false;
  }
}

let checked: string | undefined;

/** The compiled source folder, built now if src/ changed since. */
export function compiledSource(): string {
  const print = fingerprint();
  if (checked !== print && !isBuilt(print)) build(print);
  checked = print;
  return OUT;
}

/** The compiled file for a module of src/, e.g. `cli/index.js` for src/cli/index.ts. */
export function compiled(file: string): string {
  return join(compiledSource(), file);
}

/** jest's globalSetup. */
export default function globalSetup(): void {
  compiledSource();
}
