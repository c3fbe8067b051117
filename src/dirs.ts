// `mkdir -p` that fails instead of spinning. Node's own
// `mkdirSync(dir, { recursive: true })` loops forever at 100% CPU when the
// kernel answers ENOENT for a folder whose parent exists — which is what /proc
// does (OUTBOX_PATH=/proc/x/outbox.sqlite held the app silently at start).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Creates `dir` and its missing parents (with `mode`, e.g. 0o700 for state kept from services), one at a time; throws one sentence naming the folder that cannot be made. */
export function makeDirs(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break; // the root itself is missing: mkdir says why below
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, mode === undefined ? undefined : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(folder).isDirectory()) continue; // made meanwhile by another process
      throw new Error(`cannot create the folder ${folder} (${(err as Error).message})`);
    }
  }
}
