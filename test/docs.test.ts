// The docs a newcomer reads first: tables that render as tables, and no citations
// of a specification the repository does not hold (the docs say it themselves).
import { readdirSync, readFileSync } from 'node:fs';

const ROOT = new URL('../', import.meta.url);
const pages = ['README.md', ...readdirSync(new URL('docs/', ROOT)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (page: string) => readFileSync(new URL(page, ROOT), 'utf8');

test.each(pages)('%s: every table row belongs to a table (a row after a paragraph starts no table without its header)', (page) => {
  const lines = read(page).split('\n');
  let fenced = false;
  const stray: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || !line.startsWith('|') || lines[i - 1]?.startsWith('|')) return;
    if (!/^\|\s*:?-{3,}/.test(lines[i + 1] ?? '')) stray.push(`${page}:${i + 1} ${line.slice(0, 60)}`);
  });
  expect(stray).toEqual([]);
});

test.each(pages)('%s: cites no SPEC section (the statement itself is written out)', (page) => {
  expect(read(page).split('\n').filter((l) => /SPEC §|§\s?\d+ of the spec/i.test(l))).toEqual([]);
});
