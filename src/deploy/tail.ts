// The end of a revision's log, read without loading the whole file: a log
// grows for as long as the service runs, the page only wants its last lines.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The last `maxLines` lines of `file`, reading at most its last `maxBytes`; null when there is no such file. */
export function tailLines(file: string, maxLines = 200, maxBytes = 64 * 1024): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    let lines = buffer.toString('utf8').split('\n');
    // A cut first line is only part of a line: drop it.
    if (length < size) lines = lines.slice(1);
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-maxLines).map((l) => `${l}\n`).join('');
  } finally {
    closeSync(fd);
  }
}
