// `npm run bench`: every benchmark of the project, one after the other, each
// in a process of its own (so one's memory and timers do not colour the
// next's). Their detailed tables go to bench/details.txt; this prints one
// table, the flat `figures` list of bench/results.json with each target and
// whether it is met. Performance is reported, not asserted: a missed target
// shows as "MISSED", a benchmark that fails exits non-zero.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { meets, printTable, writeResults, type Figure } from './results-file.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BENCHES = ['gate', 'github', 'landing', 'deploy', 'production', 'queue', 'queue-github', 'replay', 'replay-github', 'pages', 'pages-requests'];

function runBench(name: string, details: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    details.write(`\n===== bench/${name}.ts =====\n`);
    child.stdout.pipe(details, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`bench/${name}.ts exited with ${code}; its output is in bench/details.txt`));
    });
  });
}

async function main(): Promise<void> {
  rmSync(new URL('./results.json', import.meta.url), { force: true }); // this run's figures only
  const details = createWriteStream(new URL('./details.txt', import.meta.url));
  const started = performance.now();
  const seconds: Record<string, number> = {};
  for (const name of BENCHES) {
    process.stderr.write(`bench/${name}.ts … `);
    seconds[name] = Number((await runBench(name, details)).toFixed(1));
    process.stderr.write(`${seconds[name]} s\n`);
  }
  details.end();
  const wallS = Number(((performance.now() - started) / 1000).toFixed(1));
  writeResults('run', { measuredAt: new Date().toISOString(), node: process.version, cpus: cpus().length, seconds, wallS }, [
    { name: 'bench.wall_s', value: wallS, unit: 's', target: '< 180' },
  ]);

  const { figures } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8')) as { figures: Figure[] };
  printTable(
    `merge-gate benchmarks — ${cpus().length} cores, Node ${process.version}, ${wallS} s (details: bench/details.txt, figures: bench/results.json)`,
    figures.map((f) => {
      const met = meets(f.value, f.target);
      return { figure: f.name, value: f.value, unit: f.unit, target: f.target ?? '—', met: met === null ? '' : met ? 'yes' : 'MISSED' };
    }),
  );
}

await main();
