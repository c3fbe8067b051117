// The source compiled to JavaScript for the processes tests start: `node .test-lib/cli/index.js` starts in
// about 0.15 s, `node --import tsx src/cli/index.ts` in about 1 s on a busy 2-core machine, and the suite
// starts hundreds of them. Never stale: every use checks that src/ (and the compiler's settings) are
// exactly what the last build was made of, and builds again if not. This file is also jest's globalSetup
// (its default export; it imports nothing but node's modules, as jest loads it without the tests' module
// mapping), so the build happens once before any test file runs; a bench run builds on first use.
//
// The folder mirrors the repository (.test-lib/src/…, .test-lib/test/helpers/app-process.js) with links to
// its policies/ and package.json, so a compiled module finds ../../policies and ../../package.json as
// lib/'s do, and node_modules above it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Beside src/, at the same depth as lib/. */
const OUT = '.test-lib';
const STAMP = '.fingerprint';
/** Compiled besides src/: the app in a process of its own, for test/helpers/app-child.ts. */
const HELPERS = ['test/helpers/app-process.ts'];
/** What the build is made of besides src/ and HELPERS: the compiler, its settings, the package's "type". */
const INPUTS = [...HELPERS, 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'node_modules/typescript/package.json'];
/** What the compiled modules read beside them, linked. */
const LINKS = ['policies', 'package.json'];

/** Every file and folder under src/ with its size and modification time (a deleted file changes its folder's). */
function fingerprint(root: string): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    const s = statSync(join(root, path));
    hash.update(`${path}\0${s.mtimeMs}\0${s.size}\n`);
    if (s.isDirectory()) for (const name of readdirSync(join(root, path)).sort()) add(`${path}/${name}`);
  };
  add('src');
  for (const path of INPUTS) add(path);
  return hash.digest('hex');
}

function build(root: string, print: string): void {
  const out = join(root, OUT);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  // The build's settings (tsconfig.build.json) with the repository as the root.
  const config = join(tmp, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({ extends: join(root, 'tsconfig.build.json'), compilerOptions: { rootDir: root, outDir: tmp }, include: [join(root, 'src'), ...HELPERS.map((h) => join(root, h))] }));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  // --noCheck: emit only, a quarter of the time (the type check is npm run typecheck's).
  const run = spawnSync(process.execPath, [tsc, '-p', config, '--noCheck'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (run.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`compiling src/ for the tests' child processes failed (tsc exit ${run.status}); fix the source or run npm run build to see why:\n${run.stdout}${run.stderr}${run.error ?? ''}`);
  }
  rmSync(config);
  for (const link of LINKS) symlinkSync(join('..', link), join(tmp, link));
  writeFileSync(join(tmp, STAMP), print);
  rmSync(out, { recursive: true, force: true });
  try {
    renameSync(tmp, out);
  } catch (err) {
    // Another test process built the same folder at the same moment: theirs will do if it is of this source.
    rmSync(tmp, { recursive: true, force: true });
    if (!isBuilt(root, print)) throw err;
  }
}

function isBuilt(root: string, print: string): boolean {
  try {
    return readFileSync(join(root, OUT, STAMP), 'utf8') === print;
  } catch {
    return false;
  }
}

/** The fingerprint last seen built, by repository root: one read of the stamp per change, not per child. */
const built = new Map<string, string>();

/** The compiled source folder of the repository at `root`, built now if its src/ changed since. */
export function compiledSource(root = ROOT): string {
  const print = fingerprint(root);
  if (built.get(root) !== print && !isBuilt(root, print)) build(root, print);
  built.set(root, print);
  return join(root, OUT);
}

/** The compiled file for a module, e.g. `src/cli/index.js` for src/cli/index.ts. */
export function compiled(file: string): string {
  return join(compiledSource(), file);
}

/** jest's globalSetup. */
export default function globalSetup(): void {
  compiledSource();
}
