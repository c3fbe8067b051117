// Each benchmark owns one top-level key of bench/results.json.
import { readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('./results.json', import.meta.url);

export function writeResults(key: string, value: unknown): void {
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // first run, or an unreadable file: start afresh
  }
  all[key] = value;
  writeFileSync(FILE, `${JSON.stringify(all, null, 2)}\n`);
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ');
  console.log(`\n${title}\n${line(cols)}\n${line(width.map((w) => '-'.repeat(w)))}`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}
