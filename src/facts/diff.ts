// Unified diff text → FileDiff, through parse-diff. One parser for the git diff
// and GitHub's diff media type, so both sources give the rules the same hunks.
import parseDiff from 'parse-diff';
import type { DiffLine, FileDiff } from './types.js';

export function parseUnifiedDiff(text: string): FileDiff[] {
  return parseDiff(text).map((file) => {
    const path = (file.to && file.to !== '/dev/null' ? file.to : file.from) ?? '';
    const previousPath = file.from && file.from !== '/dev/null' && file.from !== path ? file.from : undefined;
    const lines: DiffLine[] = [];
    for (const chunk of file.chunks) {
      for (const change of chunk.changes) {
        // "\ No newline at end of file" is a marker, not a line (parse-diff reports it as one).
        if (change.content.startsWith('\\')) continue;
        // parse-diff keeps the leading +/-/space; the rules want the line itself.
        const content = change.content.slice(1);
        if (change.type === 'add') lines.push({ type: 'add', content, newLine: change.ln });
        else if (change.type === 'del') lines.push({ type: 'del', content, oldLine: change.ln });
        else lines.push({ type: 'normal', content, oldLine: change.ln1, newLine: change.ln2 });
      }
    }
    return previousPath ? { path, previousPath, lines } : { path, lines };
  });
}
