// The app's own pages (SPEC §7): how long rendering takes, pure functions of
// their views (src/pages/queue-page.ts, pull-page.ts), so a page view costs
// the state database's read and this, never a GitHub request. The queue page
// with 50 queues of 20 pull requests (and 10 landings each), a pull request's
// page with 50 evaluations in its history: the median of RUNS renders, after
// WARM renders for the JIT.                                npx tsx bench/pages.ts
import { performance } from 'node:perf_hooks';
import { renderPullPage } from '../src/pages/pull-page.js';
import { queueApiJson, renderQueuePage } from '../src/pages/queue-page.js';
import { bigQueuePage, longPullPage } from '../test/helpers/pages-views.js';
import { printTable, writeResults, type Figure } from './results-file.js';

const WARM = 5;
const RUNS = 21;
const QUEUES = 50;
const PULLS = 20;
const HISTORY = 50;

const round = (x: number, d = 2) => Number(x.toFixed(d));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The median time of `render` and of encoding what it made as UTF-8 (as a response does: the string flattened once), in ms: on the
 * clock, and in CPU time (the process's, so a machine busy with other work inflates the first and not the second); and its size.
 */
function measure(render: () => string): { ms: number; cpuMs: number; kb: number } {
  let bytes = 0;
  for (let i = 0; i < WARM; i++) bytes = Buffer.byteLength(render());
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const used = process.cpuUsage();
    bytes = Buffer.from(render(), 'utf8').length;
    const { user, system } = process.cpuUsage(used);
    wall.push(performance.now() - started);
    cpu.push((user + system) / 1000);
  }
  return { ms: round(median(wall)), cpuMs: round(median(cpu)), kb: round(bytes / 1024, 1) };
}

const queueView = bigQueuePage(QUEUES, PULLS);
const pullView = longPullPage(HISTORY);
const queue = measure(() => renderQueuePage(queueView));
const api = measure(() => queueApiJson(queueView));
const pull = measure(() => renderPullPage(pullView));

const rows = [
  { page: `/queue (${QUEUES} queues × ${PULLS} pull requests)`, 'median ms': queue.ms, 'median CPU ms': queue.cpuMs, kB: queue.kb, target: '< 50' },
  { page: `/api/queue (the same)`, 'median ms': api.ms, 'median CPU ms': api.cpuMs, kB: api.kb, target: '—' },
  { page: `/pulls/… (${HISTORY} evaluations)`, 'median ms': pull.ms, 'median CPU ms': pull.cpuMs, kB: pull.kb, target: '—' },
];
printTable(`Rendering the pages (median of ${RUNS} renders after ${WARM})`, rows);
const figures: Figure[] = [
  { name: 'pages.queue.render_ms', value: queue.ms, unit: 'ms', target: '< 50' },
  { name: 'pages.queue.render_cpu_ms', value: queue.cpuMs, unit: 'ms', target: null },
  { name: 'pages.pull.render_ms', value: pull.ms, unit: 'ms', target: null },
];
writeResults('pages', { runs: RUNS, queues: QUEUES, pulls: PULLS, history: HISTORY, rows }, figures);
