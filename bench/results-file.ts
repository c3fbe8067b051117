// bench/results.json is what the last `npm run bench` measured on this machine
// (git-ignored, so a run never dirties the work tree); bench/reference.json is
// the committed copy of a run, quoted by docs/performance.md. Each benchmark
// owns one top-level key of the file, and adds its headline numbers to the one
// flat list `figures: [{ name, value, unit, target }]`.
import { readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('./results.json', import.meta.url);

export interface Figure {
  /** Dotted name, e.g. `requests.typical.first` (docs/performance.md lists them all). */
  name: string;
  value: number;
  unit: string;
  /** The goal, as text ("<= 3"), or null when the figure is only reported. */
  target: string | null;
}

function readAll(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    return {}; // first run, or an unreadable file: start afresh
  }
}

export function writeResults(key: string, value: unknown, figures: Figure[] = []): void {
  const all = readAll();
  all[key] = value;
  if (figures.length > 0) {
    const names = new Set(figures.map((f) => f.name));
    const kept = (Array.isArray(all.figures) ? (all.figures as Figure[]) : []).filter((f) => !names.has(f.name));
    all.figures = [...kept, ...figures].sort((a, b) => a.name.localeCompare(b.name));
  }
  writeFileSync(FILE, `${JSON.stringify(all, null, 2)}\n`);
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ');
  console.log(`\n${title}\n${line(cols)}\n${line(width.map((w) => '-'.repeat(w)))}`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

/** Whether `value` meets a target written as "<= 3", ">= 25", "= 0" or "< 5"; null when the target is not a bound. */
export function meets(value: number, target: string | null): boolean | null {
  const m = target === null ? null : /^\s*(<=|>=|=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(target);
  if (!m) return null;
  const bound = Number(m[2]);
  switch (m[1]) {
    case '<=': return value <= bound;
    case '>=': return value >= bound;
    case '<': return value < bound;
    case '>': return value > bound;
    default: return value === bound;
  }
}
